import Glibc
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

    public var isFrozen: Bool {
        guard let freezer = paths["freezer"] else { return false }
        return (try? FileIO.readString("\(freezer)/freezer.state"))?.hasPrefix("FROZEN") == true
    }

    /// FREEZING is transitional: waits (bounded) until the kernel reports the final state.
    public func setFrozen(_ frozen: Bool) throws(RuntimeError) {
        guard let freezer = paths["freezer"] else {
            throw RuntimeError("no freezer: the container's cgroup has neither a v1 freezer nor cgroup v2")
        }
        let file = "\(freezer)/freezer.state"
        try FileIO.writeExisting(file, frozen ? "FROZEN" : "THAWED")
        for _ in 0..<1000 {
            let state = (try? FileIO.readString(file).trimmed()) ?? ""
            if state == (frozen ? "FROZEN" : "THAWED") { return }
            if frozen { try FileIO.writeExisting(file, "FROZEN") }
            usleep(1000)
        }
        throw RuntimeError("\(frozen ? "freezing" : "thawing") \(freezer) did not complete")
    }
}
