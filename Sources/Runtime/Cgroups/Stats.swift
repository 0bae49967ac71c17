import HostOS
/// runc's `events` stats document, read from a container's cgroup v1 files.
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

extension FSCgroupManager {
    private func number(_ controller: String, _ file: String) -> UInt64 {
        guard let dir = paths[controller], let text = try? FileIO.readString("\(dir)/\(file)") else { return 0 }
        let t = text.trimmed()
        // "max" (no limit) and v1's huge "unlimited" sentinel are reported as 0, as runc does.
        return UInt64(t) ?? 0
    }

    private func keyed(_ controller: String, _ file: String) -> [String: UInt64] {
        guard let dir = paths[controller], let text = try? FileIO.readString("\(dir)/\(file)") else { return [:] }
        var out: [String: UInt64] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let v = UInt64(parts[1]) { out[String(parts[0])] = v }
        }
        return out
    }

    /// `MAJ:MIN Op value` lines; the "Total" lines without a device are left out, as runc does.
    private func blkioEntries(_ file: String) -> [CgroupStats.BlkioEntry] {
        guard let dir = paths["blkio"], let text = try? FileIO.readString("\(dir)/\(file)") else { return [] }
        return text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: " ")
            guard f.count == 3, let colon = f[0].firstIndex(of: ":"), let major = UInt64(f[0][..<colon]),
                  let minor = UInt64(f[0][f[0].index(after: colon)...]), let value = UInt64(f[2]) else { return nil }
            return .init(major: major, minor: minor, op: String(f[1]), value: value)
        }
    }

    public func stats() -> CgroupStats {
        var s = CgroupStats()
        s.cpu.usage.total = number("cpuacct", "cpuacct.usage")
        if let dir = paths["cpuacct"], let text = try? FileIO.readString("\(dir)/cpuacct.usage_percpu") {
            s.cpu.usage.percpu = text.split(separator: " ").compactMap { UInt64($0.trimmingCharacters(in: " \n")) }
        }
        // cpuacct.stat is in USER_HZ ticks (100/s on Linux); runc reports nanoseconds.
        let ticks = keyed("cpuacct", "cpuacct.stat")
        s.cpu.usage.user = (ticks["user"] ?? 0) * 10_000_000
        s.cpu.usage.kernel = (ticks["system"] ?? 0) * 10_000_000
        let cpuStat = keyed("cpu", "cpu.stat")
        s.cpu.throttling = .init(periods: cpuStat["nr_periods"] ?? 0, throttledPeriods: cpuStat["nr_throttled"] ?? 0,
                                 throttledTime: cpuStat["throttled_time"] ?? 0)
        func entry(_ prefix: String) -> CgroupStats.MemoryEntry {
            .init(limit: number("memory", "\(prefix).limit_in_bytes"), usage: number("memory", "\(prefix).usage_in_bytes"),
                  max: number("memory", "\(prefix).max_usage_in_bytes"), failcnt: number("memory", "\(prefix).failcnt"))
        }
        s.memory.usage = entry("memory")
        s.memory.swap = entry("memory.memsw")
        s.memory.kernel = entry("memory.kmem")
        s.memory.kernelTCP = entry("memory.kmem.tcp")
        s.memory.raw = keyed("memory", "memory.stat")
        s.memory.cache = s.memory.raw["cache"] ?? 0
        s.blkio.ioServiceBytesRecursive = blkioEntries("blkio.throttle.io_service_bytes_recursive")
        s.blkio.ioServicedRecursive = blkioEntries("blkio.throttle.io_serviced_recursive")
        s.pids.current = number("pids", "pids.current")
        s.pids.limit = number("pids", "pids.max")
        return s
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
