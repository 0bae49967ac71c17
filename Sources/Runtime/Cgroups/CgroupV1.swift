import HostOS
import OCI

/// The cgroup v1 driver: a directory per mounted hierarchy, one file per knob and counter.
public struct CgroupV1: CgroupDriver {
    public let paths: [String: String]
    public var owned: Set<String>?

    public init(paths: [String: String], owned: Set<String>? = nil) {
        self.paths = paths
        self.owned = owned
    }

    public func apply(_ resources: Resources, includeDevices: Bool) throws(RuntimeError) {
        try write(ResourcesV1.writes(resources, includeDevices: includeDevices))
    }

    public func stats() -> CgroupStats { statsV1() }
    public func memoryUsage() -> UInt64 { number("memory", "memory.usage_in_bytes") }
    public func oomKills() -> UInt64 { keyed("memory", "memory.oom_control")["oom_kill"] ?? 0 }

    public var isFrozen: Bool { paths["freezer"].map(CgroupFiles.isFrozenV1) ?? false }

    public func setFrozen(_ frozen: Bool) throws(RuntimeError) {
        guard let freezer = paths["freezer"] else { throw CgroupFiles.noFreezer }
        try CgroupFiles.setFrozenV1(freezer, frozen)
    }
}
