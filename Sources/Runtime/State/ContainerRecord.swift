import HostOS
import Glibc
import OCI

/// A container without a mount namespace mounts on the host, under its rootfs bound onto itself
/// (by the parent, private, so nothing propagates). Recorded before the bind with the id of the
/// mount that was on top of the rootfs until then: any other mount on top is the container's,
/// and `delete` detaches it with everything under it.
public struct HostRootfsMount: Sendable {
    public var rootfs: String
    public var mountIDBelow: Int?

    static func bind(_ rootfs: String) -> HostRootfsMount {
        HostRootfsMount(rootfs: rootfs, mountIDBelow: RootSwitch.topMountID(at: rootfs))
    }

    func mount() throws(RuntimeError) {
        try doMount(LinuxSyscalls(), rootfs, rootfs, "bind", UInt(MS_BIND) | UInt(MS_REC), nil, what: "bind rootfs \(rootfs) onto itself")
        try doMount(LinuxSyscalls(), "", rootfs, "", UInt(MS_PRIVATE) | UInt(MS_REC), nil, what: "make rootfs \(rootfs) private")
    }

    func unmount() throws(RuntimeError) {
        guard let top = RootSwitch.topMountID(at: rootfs), top != mountIDBelow else { return }
        try check("unmount rootfs \(rootfs)") { umount2(rootfs, Int32(MNT_DETACH)) }
    }
}

/// What `create` records before it makes anything on the host (`<root>/<id>/intent.json`), so
/// that `delete --force` after a create that was killed removes exactly what it made.
public struct CreateIntent: Sendable {
    public var cgroupPaths: [String: String]
    public var ownedCgroups: [String]
    public var hostRootfsMount: HostRootfsMount?

    public init(cgroupPaths: [String: String], ownedCgroups: Set<String>?, hostRootfsMount: HostRootfsMount? = nil) {
        self.cgroupPaths = cgroupPaths
        self.ownedCgroups = (ownedCgroups ?? []).sorted()
        self.hostRootfsMount = hostRootfsMount
    }

    public var cgroup: any CgroupDriver { Cgroups.driver(paths: cgroupPaths, owned: Set(ownedCgroups)) }
}

/// What swrunc remembers about a container between commands: `<root>/<id>/state.json`, read and
/// written by ContainerRecord+JSON (everything but `config`).
public struct ContainerRecord: Sendable {
    public var id: String
    public var bundle: String
    public var rootfs: String
    public var pid: Int32
    /// /proc/<pid>/stat start time, so a recycled pid is never taken for the container.
    public var pidStartTime: UInt64
    public var created: String
    public var owner: String
    public var annotations: [String: String]?
    /// Absolute cgroup directories by controller ("" is the unified hierarchy).
    public var cgroupPaths: [String: String]
    /// The config's hooks: start and delete need them, and nothing else of the config.
    public var hooks: Hooks?
    /// Namespace paths of the init process at creation time, by spec type.
    public var namespacePaths: [String: String]?
    public var rootless: Bool?
    /// The cgroup directories this container created (and so removes); nil in records written
    /// before ownership was kept, where all of them are taken as the container's.
    public var ownedCgroups: [String]?
    /// The inode of the container's own pid namespace: only processes in it are killed.
    public var pidNamespace: UInt64?
    /// False when the config had no `process` (nil means it had one): `start` refuses it.
    public var hasProcess: Bool?
    /// Set for a container without a mount namespace: its mounts on the host, removed by delete.
    public var hostRootfsMount: HostRootfsMount?
    /// The config the container was created from, kept in `<root>/<id>/config.json` apart from
    /// the state: only exec and update read it, so start, kill, state and delete skip decoding
    /// the whole spec. Set when the record is made or changed; nil after a plain `load`.
    public var config: Spec?
    /// config.json's bytes as the bundle had them, when `config` is exactly their decoding: the
    /// copy is then written as is, without encoding the spec again (a create's cost).
    public var configBytes: [UInt8]?

    /// The container's cgroups as recorded.
    public var cgroup: any CgroupDriver {
        Cgroups.driver(paths: cgroupPaths, owned: ownedCgroups.map(Set.init))
    }

    public init(id: String, bundle: String, rootfs: String, pid: Int32, pidStartTime: UInt64, created: String,
                owner: String, annotations: [String: String]?, cgroupPaths: [String: String], config: Spec,
                namespacePaths: [String: String]?, rootless: Bool?) {
        self.id = id
        self.bundle = bundle
        self.rootfs = rootfs
        self.pid = pid
        self.pidStartTime = pidStartTime
        self.created = created
        self.owner = owner
        self.annotations = annotations
        self.cgroupPaths = cgroupPaths
        self.hooks = config.hooks
        self.namespacePaths = namespacePaths
        self.rootless = rootless
        self.config = config
    }
}
