// linux.resources and linux.seccomp wire types.

public struct Resources: Codable, Sendable, Equatable {
    public var devices: [DeviceCgroupRule]?
    public var memory: Memory?
    public var cpu: CPU?
    public var pids: Pids?
    public var blockIO: BlockIO?
    public var hugepageLimits: [HugepageLimit]?
    public var network: Network?
    public var rdma: [String: RdmaLimit]?
    public var unified: [String: String]?
    public init() {}
}

extension DeviceCgroupRule {
    /// The rule's r, w and m, in that order ("rwm" when none is given).
    public var effectiveAccess: String {
        guard let access, !access.isEmpty else { return "rwm" }
        return String("rwm".filter { access.contains($0) })
    }
}

public struct DeviceCgroupRule: Codable, Sendable, Equatable {
    public var allow: Bool
    public var type: String?
    public var major: Int64?
    public var minor: Int64?
    public var access: String?
    public init(allow: Bool, type: String? = nil, major: Int64? = nil, minor: Int64? = nil, access: String? = nil) {
        self.allow = allow
        self.type = type
        self.major = major
        self.minor = minor
        self.access = access
    }
}

public struct Memory: Codable, Sendable, Equatable {
    public var limit: Int64?
    public var reservation: Int64?
    public var swap: Int64?
    public var kernel: Int64?
    public var kernelTCP: Int64?
    public var swappiness: UInt64?
    public var disableOOMKiller: Bool?
    public var useHierarchy: Bool?
    public var checkBeforeUpdate: Bool?
    public init() {}
}

public struct CPU: Codable, Sendable, Equatable {
    public var shares: UInt64?
    public var quota: Int64?
    public var burst: UInt64?
    public var period: UInt64?
    public var realtimeRuntime: Int64?
    public var realtimePeriod: UInt64?
    public var cpus: String?
    public var mems: String?
    public var idle: Int64?
    public init() {}
}

public struct Pids: Codable, Sendable, Equatable {
    public var limit: Int64
    public init(limit: Int64) { self.limit = limit }
}

public struct BlockIO: Codable, Sendable, Equatable {
    public init() {}
    public var weight: UInt16?
    public var leafWeight: UInt16?
    public var weightDevice: [WeightDevice]?
    public var throttleReadBpsDevice: [ThrottleDevice]?
    public var throttleWriteBpsDevice: [ThrottleDevice]?
    public var throttleReadIOPSDevice: [ThrottleDevice]?
    public var throttleWriteIOPSDevice: [ThrottleDevice]?
}

public struct WeightDevice: Codable, Sendable, Equatable {
    public var major: Int64
    public var minor: Int64
    public var weight: UInt16?
    public var leafWeight: UInt16?
}

public struct ThrottleDevice: Codable, Sendable, Equatable {
    public var major: Int64
    public var minor: Int64
    public var rate: UInt64
}

public struct HugepageLimit: Codable, Sendable, Equatable {
    public var pageSize: String
    public var limit: UInt64
    public init(pageSize: String, limit: UInt64) { self.pageSize = pageSize; self.limit = limit }

    private enum CodingKeys: String, CodingKey { case pageSize, limit }
    private enum GoSpelling: String, CodingKey { case pagesize }

    /// runc (Go's decoder, case-blind) also takes `pagesize`; configs written for it use that.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        limit = try c.decode(UInt64.self, forKey: .limit)
        if let size = try c.decodeIfPresent(String.self, forKey: .pageSize) {
            pageSize = size
        } else if let size = try decoder.container(keyedBy: GoSpelling.self).decodeIfPresent(String.self, forKey: .pagesize) {
            pageSize = size
        } else {
            pageSize = try c.decode(String.self, forKey: .pageSize)  // the missing-field error, with its path
        }
    }
}

public struct Network: Codable, Sendable, Equatable {
    public init() {}
    public var classID: UInt32?
    public var priorities: [InterfacePriority]?
}

public struct InterfacePriority: Codable, Sendable, Equatable {
    public var name: String
    public var priority: UInt32
}

public struct RdmaLimit: Codable, Sendable, Equatable {
    public var hcaHandles: UInt32?
    public var hcaObjects: UInt32?
}

public struct Seccomp: Codable, Sendable, Equatable {
    public init(defaultAction: String, syscalls: [SeccompSyscall]? = nil) {
        self.defaultAction = defaultAction
        self.syscalls = syscalls
    }
    public var defaultAction: String
    public var defaultErrnoRet: UInt32?
    public var architectures: [String]?
    public var flags: [String]?
    public var listenerPath: String?
    public var listenerMetadata: String?
    public var syscalls: [SeccompSyscall]?
}

public struct SeccompSyscall: Codable, Sendable, Equatable {
    public init(names: [String], action: String, errnoRet: UInt32? = nil, args: [SeccompArg]? = nil) {
        self.names = names
        self.action = action
        self.errnoRet = errnoRet
        self.args = args
    }
    public var names: [String]
    public var action: String
    public var errnoRet: UInt32?
    public var args: [SeccompArg]?
}

public struct SeccompArg: Codable, Sendable, Equatable {
    public init(index: UInt, value: UInt64, valueTwo: UInt64? = nil, op: String) {
        self.index = index
        self.value = value
        self.valueTwo = valueTwo
        self.op = op
    }
    public var index: UInt
    public var value: UInt64
    public var valueTwo: UInt64?
    public var op: String
}

extension Resources {
    /// Limits that only a cgroup can enforce (device rules are left to the kernel's own checks
    /// when there is no cgroup, as runc leaves them for rootless containers).
    public var needsACgroup: Bool {
        memory != nil || cpu != nil || pids != nil || blockIO != nil || !(hugepageLimits ?? []).isEmpty
            || network != nil || !(rdma ?? [:]).isEmpty || !(unified ?? [:]).isEmpty
    }
}
