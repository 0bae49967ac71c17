import OCI

/// What swrunc remembers about a container between commands: `<root>/<id>/state.json`.
public struct ContainerRecord: Codable, Sendable {
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
    /// The config the container was created from, kept in `<root>/<id>/config.json` apart from
    /// the state: only exec and update read it, so start, kill, state and delete skip decoding
    /// the whole spec. Set when the record is made or changed; nil after a plain `load`.
    public var config: Spec?

    enum CodingKeys: String, CodingKey {
        case id, bundle, rootfs, pid, pidStartTime, created, owner, annotations, cgroupPaths, hooks,
             namespacePaths, rootless
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
