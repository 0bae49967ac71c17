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
    /// The config the container was created from: poststop hooks, exec defaults and update use it.
    public var config: Spec
    /// Namespace paths of the init process at creation time, by spec type.
    public var namespacePaths: [String: String]?
    public var rootless: Bool?
}
