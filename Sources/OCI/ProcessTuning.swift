import JSON
// The runtime-spec's per-process kernel settings — scheduler, I/O priority, personality, NUMA
// memory policy, exec CPU affinity — resolved from their names into the numbers the syscalls
// take. Resolution is the validation: a name the kernel has no number for is an error with its
// JSON path, raised before anything is forked. Messages carry runc's words where clients match them.

/// A CPU or NUMA node list ("0-3,5,7-9") as the kernel's bit mask, in 64-bit words.
public struct CPUSet: Equatable, Sendable {
    /// runc's bound: larger ids are refused rather than making a huge mask.
    public static let maxID = 64 * 1024
    public private(set) var words: [UInt64] = []

    public init(ids: [Int]) {
        for id in ids { insert(id) }
    }

    /// Spaces around elements and empty elements (extra commas) are allowed, as runc allows them.
    public init(list: String, at path: String, what: String) throws(SpecError) {
        func number(_ s: Substring) throws(SpecError) -> Int {
            guard let n = Int(s), n >= 0 else {
                throw SpecError(path, "invalid \(what) \"\(Excerpt.of(list))\": \"\(Excerpt.of(String(s)))\" is not a number")
            }
            guard n <= Self.maxID else {
                throw SpecError(path, "invalid \(what) \"\(Excerpt.of(list))\": values larger than \(Self.maxID) are not supported")
            }
            return n
        }
        var any = false
        for element in list.split(separator: ",", omittingEmptySubsequences: false) {
            let r = element.trimmingSpaces()
            if r.isEmpty { continue }
            let bounds = r.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
            let start = try number(bounds[0])
            let end = bounds.count == 2 ? try number(bounds[1]) : start
            guard start <= end else { throw SpecError(path, "invalid \(what) \"\(Excerpt.of(list))\": invalid range \(r)") }
            for id in start...end { insert(id) }
            any = true
        }
        if !any { throw SpecError(path, "invalid \(what) \"\(Excerpt.of(list))\": no members found") }
    }

    public mutating func insert(_ id: Int) {
        let word = id / 64
        if words.count <= word { words += [UInt64](repeating: 0, count: word + 1 - words.count) }
        words[word] |= 1 << UInt64(id % 64)
    }

    public func contains(_ id: Int) -> Bool {
        id / 64 < words.count && words[id / 64] & (1 << UInt64(id % 64)) != 0
    }

    public var count: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }
}

extension Substring {
    func trimmingSpaces() -> Substring {
        var s = self
        while s.first == " " || s.first == "\t" { s = s.dropFirst() }
        while s.last == " " || s.last == "\t" { s = s.dropLast() }
        return s
    }
}

/// set_mempolicy(2)'s arguments.
public struct ResolvedMemoryPolicy: Equatable, Sendable {
    public var mode: Int32
    public var nodes: CPUSet?
}

extension MemoryPolicy {
    static let modes: [String: Int32] = [
        "MPOL_DEFAULT": 0, "MPOL_PREFERRED": 1, "MPOL_BIND": 2, "MPOL_INTERLEAVE": 3, "MPOL_LOCAL": 4,
        "MPOL_PREFERRED_MANY": 5, "MPOL_WEIGHTED_INTERLEAVE": 6,
    ]
    static let modeFlags: [String: Int32] = [
        "MPOL_F_NUMA_BALANCING": 1 << 13, "MPOL_F_RELATIVE_NODES": 1 << 14, "MPOL_F_STATIC_NODES": 1 << 15,
    ]

    public func resolve(at path: String) throws(SpecError) -> ResolvedMemoryPolicy {
        guard let mode = Self.modes[mode ?? ""] else {
            throw SpecError("\(path).mode", "invalid memory policy mode \"\(Excerpt.of(mode ?? ""))\"")
        }
        var flags: Int32 = 0
        for (i, name) in (self.flags ?? []).enumerated() {
            guard let flag = Self.modeFlags[name] else {
                throw SpecError("\(path).flags[\(i)]", "invalid memory policy flag \"\(Excerpt.of(name))\"")
            }
            flags |= flag
        }
        let nodes = try (self.nodes ?? "").isEmpty ? nil
            : CPUSet(list: self.nodes ?? "", at: "\(path).nodes", what: "memory policy nodes")
        let count = nodes?.count ?? 0
        switch mode {
        case 0, 4:
            if count != 0 { throw SpecError("\(path).nodes", "memory policy mode requires 0 nodes but got \(count)") }
        case 2, 3, 5, 6:
            if count == 0 { throw SpecError("\(path).nodes", "memory policy mode requires at least one node but got 0") }
        default:
            break  // MPOL_PREFERRED: any number, none meaning "the local node"
        }
        return ResolvedMemoryPolicy(mode: mode | flags, nodes: nodes)
    }
}

/// sched_setattr(2)'s struct, field by field.
public struct ResolvedScheduler: Equatable, Sendable {
    public var policy: UInt32
    public var flags: UInt64
    public var nice: Int32
    public var priority: UInt32
    public var runtime: UInt64
    public var deadline: UInt64
    public var period: UInt64
}

extension Scheduler {
    static let policies: [String: UInt32] = [
        "SCHED_OTHER": 0, "SCHED_FIFO": 1, "SCHED_RR": 2, "SCHED_BATCH": 3, "SCHED_ISO": 4,
        "SCHED_IDLE": 5, "SCHED_DEADLINE": 6,
    ]
    static let schedFlags: [String: UInt64] = [
        "SCHED_FLAG_RESET_ON_FORK": 0x01, "SCHED_FLAG_RECLAIM": 0x02, "SCHED_FLAG_DL_OVERRUN": 0x04,
        "SCHED_FLAG_KEEP_POLICY": 0x08, "SCHED_FLAG_KEEP_PARAMS": 0x10, "SCHED_FLAG_UTIL_CLAMP_MIN": 0x20,
        "SCHED_FLAG_UTIL_CLAMP_MAX": 0x40,
    ]

    public func resolve(at path: String) throws(SpecError) -> ResolvedScheduler {
        if policy.isEmpty { throw SpecError("\(path).policy", "scheduler policy is required") }
        guard let number = Self.policies[policy] else {
            throw SpecError("\(path).policy", "invalid scheduler policy \"\(Excerpt.of(policy))\"")
        }
        let nice = self.nice ?? 0, priority = self.priority ?? 0
        if (policy == "SCHED_OTHER" || policy == "SCHED_BATCH") && !(-20...19).contains(nice) {
            throw SpecError("\(path).nice", "invalid scheduler.nice: \(nice) when scheduler.policy is \(policy)")
        }
        if priority != 0 && policy != "SCHED_FIFO" && policy != "SCHED_RR" {
            throw SpecError("\(path).priority", "scheduler.priority can only be specified for SchedFIFO or SchedRR policy")
        }
        if priority < 0 { throw SpecError("\(path).priority", "must not be negative, got \(priority)") }
        let runtime = self.runtime ?? 0, deadline = self.deadline ?? 0, period = self.period ?? 0
        if policy != "SCHED_DEADLINE" && (runtime != 0 || deadline != 0 || period != 0) {
            throw SpecError(path, "scheduler runtime/deadline/period can only be specified for SchedDeadline policy")
        }
        var flags: UInt64 = 0
        for (i, name) in (self.flags ?? []).enumerated() {
            guard let flag = Self.schedFlags[name] else {
                throw SpecError("\(path).flags[\(i)]", "invalid scheduler flag \"\(Excerpt.of(name))\"")
            }
            flags |= flag
        }
        return ResolvedScheduler(policy: number, flags: flags, nice: nice, priority: UInt32(priority),
                                 runtime: runtime, deadline: deadline, period: period)
    }
}

extension IOPriority {
    static let classes: [String: Int32] = ["IOPRIO_CLASS_RT": 1, "IOPRIO_CLASS_BE": 2, "IOPRIO_CLASS_IDLE": 3]

    /// ioprio_set(2)'s value: the class in the top bits, the level below.
    public func resolve(at path: String) throws(SpecError) -> Int32 {
        guard let number = Self.classes[`class`] else {
            throw SpecError("\(path).class", "invalid ioPriority.Class: \"\(Excerpt.of(`class`))\"")
        }
        let level = priority ?? 0
        guard (0...7).contains(level) else {
            throw SpecError("\(path).priority", "invalid ioPriority.Priority: \(level)")
        }
        return number << 13 | Int32(level)
    }
}

extension Personality {
    /// personality(2)'s domain; flags are ignored with a warning, as runc ignores them.
    public func resolve(at path: String) throws(SpecError) -> UInt {
        switch domain {
        case "LINUX": return 0
        case "LINUX32": return 0x0008
        default: throw SpecError("\(path).domain", "invalid personality domain \"\(Excerpt.of(domain))\" (want LINUX or LINUX32)")
        }
    }
}

/// The CPUs an exec'd process starts on (before it joins the cgroup) and ends up on.
public struct ResolvedCPUAffinity: Equatable, Sendable {
    public var initial: CPUSet?
    public var final: CPUSet?
}

extension ExecCPUAffinity {
    public func resolve(at path: String) throws(SpecError) -> ResolvedCPUAffinity {
        func set(_ list: String?, _ field: String) throws(SpecError) -> CPUSet? {
            guard let list, !list.isEmpty else { return nil }
            return try CPUSet(list: list, at: "\(path).\(field)", what: "CPU list")
        }
        return ResolvedCPUAffinity(initial: try set(initial, "initial"), final: try set(final, "final"))
    }
}
