// The runtime-spec state document (`swrunc state`) and the features document (`swrunc features`).

public enum ContainerStatus: String, Codable, Sendable {
    case creating, created, running, stopped, paused
}

public struct State: Codable, Sendable, Equatable {
    public var ociVersion: String
    public var id: String
    public var status: ContainerStatus
    public var pid: Int32?
    public var bundle: String
    public var annotations: [String: String]?

    public init(ociVersion: String = Spec.version, id: String, status: ContainerStatus, pid: Int32?,
                bundle: String, annotations: [String: String]?) {
        self.ociVersion = ociVersion
        self.id = id
        self.status = status
        self.pid = pid
        self.bundle = bundle
        self.annotations = annotations
    }
}

public struct Features: Codable, Sendable, Equatable {
    public var ociVersionMin: String
    public var ociVersionMax: String
    public var hooks: [String]
    public var mountOptions: [String]
    public var linux: LinuxFeatures
    public var annotations: [String: String]?

    public init(ociVersionMin: String, ociVersionMax: String, hooks: [String], mountOptions: [String],
                linux: LinuxFeatures, annotations: [String: String]?) {
        self.ociVersionMin = ociVersionMin
        self.ociVersionMax = ociVersionMax
        self.hooks = hooks
        self.mountOptions = mountOptions
        self.linux = linux
        self.annotations = annotations
    }
}

public struct LinuxFeatures: Codable, Sendable, Equatable {
    public struct Cgroup: Codable, Sendable, Equatable {
        public var v1: Bool
        public var v2: Bool
        public var systemd: Bool
        public var systemdUser: Bool
        public init(v1: Bool, v2: Bool, systemd: Bool, systemdUser: Bool) {
            self.v1 = v1
            self.v2 = v2
            self.systemd = systemd
            self.systemdUser = systemdUser
        }
    }
    public struct Apparmor: Codable, Sendable, Equatable {
        public var enabled: Bool
        public init(enabled: Bool) { self.enabled = enabled }
    }
    public struct Selinux: Codable, Sendable, Equatable {
        public var enabled: Bool
        public init(enabled: Bool) { self.enabled = enabled }
    }
    public struct MountExtensions: Codable, Sendable, Equatable {
        public struct IDMap: Codable, Sendable, Equatable { public var enabled: Bool }
        public var idmap: IDMap
    }
    public struct SeccompFeatures: Codable, Sendable, Equatable {
        public var enabled: Bool
        public var actions: [String]
        public var operators: [String]
        public var archs: [String]
        public var knownFlags: [String]
        public var supportedFlags: [String]
        public init(actions: [String], operators: [String], archs: [String], flags: [String]) {
            enabled = true
            self.actions = actions
            self.operators = operators
            self.archs = archs
            knownFlags = flags
            supportedFlags = flags
        }
    }
    public var namespaces: [String]
    public var capabilities: [String]
    public var cgroup: Cgroup
    public var seccomp: SeccompFeatures?
    public var apparmor: Apparmor?
    public var selinux: Selinux?
    public var mountExtensions: MountExtensions?
    /// runtime-spec 1.3: the `linux.memoryPolicy` modes and flags this runtime knows.
    public var memoryPolicy: MemoryPolicyFeatures? = MemoryPolicyFeatures()

    public struct MemoryPolicyFeatures: Codable, Sendable, Equatable {
        public var modes = MemoryPolicy.modes.keys.sorted()
        public var flags = MemoryPolicy.modeFlags.keys.sorted()
    }

    public init(namespaces: [String], capabilities: [String], cgroup: Cgroup, idmapMounts: Bool) {
        self.namespaces = namespaces
        self.capabilities = capabilities
        self.cgroup = cgroup
        self.apparmor = Apparmor(enabled: false)
        self.selinux = Selinux(enabled: false)
        self.mountExtensions = MountExtensions(idmap: .init(enabled: idmapMounts))
    }
}
