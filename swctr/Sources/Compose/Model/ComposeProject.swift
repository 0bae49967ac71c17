/// A compose project after loading: files merged, variables interpolated, profiles applied,
/// every value checked — the model `up`, `down` and the rest work from.
public struct ComposeProject: Sendable {
    public var name: String
    /// The directory relative paths (build contexts, binds, env_files) are relative to.
    public var workingDir: String
    public var files: [String]
    /// Active services, in the order the files list them.
    public var services: [ComposeService]
    /// Services a profile that is not enabled hides.
    public var inactive: [String]
    public var networks: [ComposeNetwork]
    public var volumes: [ComposeVolume]
    /// Variables used without a value (each one is a warning).
    public var unsetVariables: [String] = []

    public func service(_ name: String) -> ComposeService? { services.first { $0.name == name } }
}

public struct ComposeService: Sendable, Equatable {
    public var name: String
    public var image: String?
    public var build: ComposeBuild?
    public var command: [String]?
    public var entrypoint: [String]?
    /// KEY → value; nil: take it from swctr's environment, as `-e KEY` does.
    public var environment: [(key: String, value: String?)] = []
    public var envFiles: [String] = []
    /// Docker's `-p` spellings (`127.0.0.1:8080:80/tcp`).
    public var ports: [String] = []
    public var expose: [String] = []
    public var volumes: [ServiceVolume] = []
    public var tmpfs: [String] = []
    /// Networks by their key in the file, with the service's aliases and fixed address there.
    public var networks: [ServiceNetwork] = []
    public var networkMode: String?
    public var dependsOn: [Dependency] = []
    public var healthcheck: ComposeHealthcheck?
    public var restart: String?
    public var replicas = 1
    public var containerName: String?
    public var hostname: String?
    public var user: String?
    public var workingDir: String?
    public var labels: [(key: String, value: String)] = []
    public var profiles: [String] = []
    public var stopSignal: String?
    /// Seconds.
    public var stopGracePeriod: Int?
    public var capAdd: [String] = []
    public var capDrop: [String] = []
    public var readOnly = false
    public var privileged = false
    public var securityOpt: [String] = []
    /// Docker's `--ulimit` spellings (`nofile=1024:2048`).
    public var ulimits: [String] = []
    public var memLimit: String?
    public var cpus: String?
    public var initProcess = false
    public var extraHosts: [String] = []
    public var dns: [String] = []
    public var pullPolicy: String?
    public var cgroupParent: String?

    public init(name: String) { self.name = name }

    public static func == (a: ComposeService, b: ComposeService) -> Bool {
        a.fingerprint == b.fingerprint
    }

    /// The whole configuration as text in a fixed order: its digest is the config hash that
    /// tells `up` whether a container is still what the file says.
    public var fingerprint: String {
        var lines: [String] = []
        func add(_ k: String, _ v: Any?) { if let v { lines.append("\(k)=\(v)") } }
        add("image", image)
        add("build", build.map { "\($0.context)|\($0.dockerfile ?? "")|\($0.target ?? "")|\($0.args.map { "\($0.key)=\($0.value ?? "")" })|\($0.labels)" })
        add("command", command)
        add("entrypoint", entrypoint)
        add("environment", environment.map { "\($0.key)=\($0.value ?? "<host>")" })
        add("env_file", envFiles)
        add("ports", ports)
        add("expose", expose)
        add("volumes", volumes.map { "\($0.type)|\($0.source)|\($0.target)|\($0.readOnly)|\($0.noCopy)|\($0.propagation ?? "")|\($0.tmpfsSize ?? "")" })
        add("tmpfs", tmpfs)
        add("networks", networks.map { "\($0.name)|\($0.aliases)|\($0.ipv4 ?? "")" })
        add("network_mode", networkMode)
        add("depends_on", dependsOn.map { "\($0.service)|\($0.condition.rawValue)" })
        add("healthcheck", healthcheck.map { "\($0.test)|\($0.interval ?? 0)|\($0.timeout ?? 0)|\($0.startPeriod ?? 0)|\($0.retries ?? 0)|\($0.disable)"
            + ($0.startInterval.map { "|\($0)" } ?? "") })
        add("restart", restart)
        add("container_name", containerName)
        add("hostname", hostname)
        add("user", user)
        add("working_dir", workingDir)
        add("labels", labels.map { "\($0.key)=\($0.value)" })
        add("stop_signal", stopSignal)
        add("stop_grace_period", stopGracePeriod)
        add("cap_add", capAdd)
        add("cap_drop", capDrop)
        add("read_only", readOnly)
        add("privileged", privileged)
        add("security_opt", securityOpt)
        add("ulimits", ulimits)
        add("mem_limit", memLimit)
        add("cpus", cpus)
        add("init", initProcess)
        add("extra_hosts", extraHosts)
        add("dns", dns)
        add("cgroup_parent", cgroupParent)
        return lines.joined(separator: "\n")
    }
}

public struct ComposeBuild: Sendable {
    /// Absolute.
    public var context: String
    public var dockerfile: String?
    public var args: [(key: String, value: String?)] = []
    public var target: String?
    public var labels: [String: String] = [:]

    public init(context: String) { self.context = context }
}

/// One entry of a service's `volumes:` (short or long syntax).
public struct ServiceVolume: Sendable {
    public enum Kind: String, Sendable { case volume, bind, tmpfs }
    public var type: Kind
    /// A volume's key in the file (empty: anonymous), or a bind's absolute host path.
    public var source: String
    public var target: String
    public var readOnly = false
    public var noCopy = false
    public var propagation: String?
    /// A bind of a missing host path makes it (the short syntax does; the long one as told).
    public var createHostPath = true
    public var tmpfsSize: String?

    public init(type: Kind, source: String, target: String) {
        self.type = type
        self.source = source
        self.target = target
    }
}

public struct ServiceNetwork: Sendable {
    /// The network's key in the file.
    public var name: String
    public var aliases: [String] = []
    public var ipv4: String?

    public init(name: String) { self.name = name }
}

public struct Dependency: Sendable {
    public enum Condition: String, Sendable { case started = "service_started", healthy = "service_healthy",
                                               completed = "service_completed_successfully" }
    public var service: String
    public var condition: Condition
    /// false: a dependency that is not defined or fails does not stop the dependent.
    public var required = true
    /// Recreate this service when the dependency is recreated (Compose's `restart: true`).
    public var restart = false
}

public struct ComposeHealthcheck: Sendable {
    /// Docker's Test form: ["CMD", …], ["CMD-SHELL", "…"] or ["NONE"].
    public var test: [String]
    /// Nanoseconds.
    public var interval: Int64?
    public var timeout: Int64?
    public var startPeriod: Int64?
    public var startInterval: Int64?
    public var retries: Int?
    public var disable = false
}

public struct ComposeNetwork: Sendable {
    /// The key in the file.
    public var key: String
    /// The network's real name: `project_key`, or `name:`, or an external network's.
    public var name: String
    public var external = false
    public var driver: String?
    public var driverOpts: [String: String] = [:]
    public var labels: [String: String] = [:]
    public var isInternal = false
    public var subnet: String?
    public var gateway: String?
    public var ipRange: String?
}

public struct ComposeVolume: Sendable {
    public var key: String
    public var name: String
    public var external = false
    public var driverOpts: [String: String] = [:]
    public var labels: [String: String] = [:]
}
