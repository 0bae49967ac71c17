import HostOS
/// runc's `events` stats document, read from a container's cgroup v1 files (Stats+V1.swift) or,
/// on a host without v1 controllers, its cgroup v2 files (Stats+V2.swift).
public struct CgroupStats: Codable, Sendable {
    public struct CPUUsage: Codable, Sendable {
        public var total: UInt64 = 0
        public var percpu: [UInt64] = []
        public var kernel: UInt64 = 0
        public var user: UInt64 = 0
    }
    public struct Throttling: Codable, Sendable {
        public var periods: UInt64 = 0
        public var throttledPeriods: UInt64 = 0
        public var throttledTime: UInt64 = 0
        enum CodingKeys: String, CodingKey {
            case periods, throttledPeriods = "throttled_periods", throttledTime = "throttled_time"
        }
    }
    public struct CPU: Codable, Sendable {
        public var usage = CPUUsage()
        public var throttling = Throttling()
    }
    public struct MemoryEntry: Codable, Sendable {
        public var limit: UInt64 = 0
        public var usage: UInt64 = 0
        public var max: UInt64 = 0
        public var failcnt: UInt64 = 0
    }
    public struct Memory: Codable, Sendable {
        public var cache: UInt64 = 0
        public var usage = MemoryEntry()
        public var swap = MemoryEntry()
        public var kernel = MemoryEntry()
        public var kernelTCP = MemoryEntry()
        public var raw: [String: UInt64] = [:]
    }
    public struct Pids: Codable, Sendable {
        public var current: UInt64 = 0
        public var limit: UInt64 = 0
    }
    public var cpu = CPU()
    public var memory = Memory()
    public var pids = Pids()
    /// One line of a v1 blkio file (`8:0 Read 4096`), as runc reports it.
    public struct BlkioEntry: Codable, Sendable {
        public var major: UInt64 = 0
        public var minor: UInt64 = 0
        public var op: String = ""
        public var value: UInt64 = 0
    }
    public struct Blkio: Codable, Sendable {
        public var ioServiceBytesRecursive: [BlkioEntry] = []
        public var ioServicedRecursive: [BlkioEntry] = []
    }
    public var blkio = Blkio()
    public var hugetlb: [String: MemoryEntry] = [:]
}

public struct ContainerEvent: Codable, Sendable {
    public var type: String
    public var id: String
    public var data: CgroupStats?
    public init(type: String, id: String, data: CgroupStats?) {
        self.type = type
        self.id = id
        self.data = data
    }
}

/// What both versions' readers share, and the choice between them.
extension FSCgroupManager {
    /// The container's usage counters, from whichever version holds its controllers: v1 where
    /// any v1 controller is in use (hybrid included), else the unified hierarchy.
    public func stats() -> CgroupStats {
        paths.keys.contains(where: { !$0.isEmpty }) || paths[""] == nil ? statsV1() : statsV2()
    }

    func number(_ controller: String, _ file: String) -> UInt64 {
        guard let dir = paths[controller], let text = try? FileIO.readString("\(dir)/\(file)") else { return 0 }
        let t = text.trimmed()
        // "max" (no limit) and v1's huge "unlimited" sentinel are reported as 0, as runc does.
        return UInt64(t) ?? 0
    }

    func keyed(_ controller: String, _ file: String) -> [String: UInt64] {
        guard let dir = paths[controller], let text = try? FileIO.readString("\(dir)/\(file)") else { return [:] }
        var out: [String: UInt64] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let v = UInt64(parts[1]) { out[String(parts[0])] = v }
        }
        return out
    }

    /// Current memory use in bytes (v1 memory.usage_in_bytes or v2 memory.current).
    public func memoryUsage() -> UInt64 {
        if paths["memory"] != nil { return number("memory", "memory.usage_in_bytes") }
        return number("", "memory.current")
    }

    /// The kernel's count of OOM kills in this cgroup (v1 memory.oom_control, v2 memory.events).
    public func oomKills() -> UInt64 {
        if paths["memory"] != nil { return keyed("memory", "memory.oom_control")["oom_kill"] ?? 0 }
        return keyed("", "memory.events")["oom_kill"] ?? 0
    }
}
