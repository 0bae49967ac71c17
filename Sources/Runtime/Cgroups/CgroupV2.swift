import Glibc
import HostOS
import OCI

/// The cgroup v2 driver: one directory in the unified hierarchy; device rules are an eBPF
/// program attached to it, freezing is cgroup.freeze.
public struct CgroupV2: CgroupDriver {
    public let path: String
    public var owned: Set<String>?
    public var paths: [String: String] { ["": path] }

    public init(path: String, owned: Set<String>? = nil) {
        self.path = path
        self.owned = owned
    }

    public func apply(_ resources: Resources, includeDevices: Bool) throws(RuntimeError) {
        if includeDevices, let rules = resources.devices {
            try DeviceFilter.attach(DeviceRule.effective(rules), to: path)
        }
        try write(ResourcesV2.writes(resources))
    }

    public func stats() -> CgroupStats { statsV2() }
    public func memoryUsage() -> UInt64 { number("", "memory.current") }
    public func oomKills() -> UInt64 { keyed("", "memory.events")["oom_kill"] ?? 0 }
    public var isFrozen: Bool { (try? FileIO.readString("\(path)/cgroup.events"))?.contains("frozen 1") == true }

    /// Waits (bounded) for cgroup.events to agree.
    public func setFrozen(_ frozen: Bool) throws(RuntimeError) {
        try FileIO.writeExisting("\(path)/cgroup.freeze", frozen ? "1" : "0")
        for _ in 0..<1000 {
            let events = (try? FileIO.readString("\(path)/cgroup.events")) ?? ""
            if events.contains(frozen ? "frozen 1" : "frozen 0") { return }
            usleep(1000)
        }
        throw RuntimeError("\(frozen ? "freezing" : "thawing") \(path) did not complete")
    }
}
