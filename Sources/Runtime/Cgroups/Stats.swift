import HostOS
/// runc's `events` stats document, read from a container's cgroup v1 files (Stats+V1.swift) or
/// its cgroup v2 files (Stats+V2.swift), whichever its driver holds the controllers in.
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
