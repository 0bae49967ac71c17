import JSON
// Range checks for numbers the kernel would otherwise misread: (uid_t)-1 means "unchanged" to
// setresuid, a negative device major is no device at all, and cgroup knobs outside their range are
// silently clamped or ignored by some kernels. Each is refused with the field and the allowed range.

/// User and group ids: 0…2^31−1, as runc accepts them (4294967295 is "no change" to the kernel).
enum IDRange {
    static let max: UInt32 = 2_147_483_647

    static func check(_ id: UInt32, at path: String) throws(SpecError) {
        if id > max { throw SpecError(path, "must be between 0 and \(max), got \(id)") }
    }
}

enum DeviceNumbers {
    /// The kernel's dev_t: 12 bits of major, 20 of minor.
    static let maxMajor: Int64 = 4095
    static let maxMinor: Int64 = 1_048_575

    static func check(_ value: Int64, max: Int64, at path: String) throws(SpecError) {
        if value < 0 || value > max { throw SpecError(path, "must be between 0 and \(max), got \(value)") }
    }

    /// Device cgroup rules: absent or −1 means any number.
    static func checkRule(_ value: Int64?, max: Int64, at path: String) throws(SpecError) {
        guard let value, value != -1 else { return }
        if value < 0 || value > max {
            throw SpecError(path, "must be -1 (any) or between 0 and \(max), got \(value)")
        }
    }
}

extension User {
    func validate(at base: String) throws(SpecError) {
        try IDRange.check(uid, at: "\(base).uid")
        try IDRange.check(gid, at: "\(base).gid")
        for (i, gid) in (additionalGids ?? []).enumerated() {
            try IDRange.check(gid, at: "\(base).additionalGids[\(i)]")
        }
        if let umask, umask > 0o777 {
            throw SpecError("\(base).umask", "must be at most 0o777, got \(umask)")
        }
    }
}

extension IDMapping {
    func validate(at base: String) throws(SpecError) {
        if size == 0 { throw SpecError("\(base).size", "must be greater than 0") }
        try IDRange.check(containerID, at: "\(base).containerID")
        try IDRange.check(hostID, at: "\(base).hostID")
        // The last id of the range must stay below 4294967295, which no mapping may contain.
        for (name, start) in [("containerID", containerID), ("hostID", hostID)]
        where UInt64(start) + UInt64(size) - 1 > UInt64(UInt32.max - 1) {
            throw SpecError("\(base).size", "\(name) \(start) + size \(size) runs past 4294967294")
        }
    }
}

extension Resources {
    public func validate(at base: String) throws(SpecError) {
        for (i, rule) in (devices ?? []).enumerated() {
            let at = "\(base).devices[\(i)]"
            if let type = rule.type, !["a", "b", "c"].contains(type) {
                throw SpecError("\(at).type", "must be \"a\", \"b\" or \"c\", got \"\(Excerpt.of(type))\"")
            }
            try DeviceNumbers.checkRule(rule.major, max: DeviceNumbers.maxMajor, at: "\(at).major")
            try DeviceNumbers.checkRule(rule.minor, max: DeviceNumbers.maxMinor, at: "\(at).minor")
            // Letters other than r, w and m mean nothing to either cgroup version; runc drops
            // them, and so do we — but a rule left with none of the three is a mistake.
            if let access = rule.access, !access.isEmpty, rule.effectiveAccess.isEmpty {
                throw SpecError("\(at).access", "must hold r, w or m, got \"\(Excerpt.of(access))\"")
            }
        }
        if let swappiness = memory?.swappiness, swappiness > 100 {
            throw SpecError("\(base).memory.swappiness", "must be between 0 and 100, got \(swappiness)")
        }
        for (name, value) in [("limit", memory?.limit), ("reservation", memory?.reservation), ("swap", memory?.swap)] {
            if let value, value < -1 { throw SpecError("\(base).memory.\(name)", "must be -1 (unlimited) or positive, got \(value)") }
        }
        // cgroup v1's cpu.shares range; 0 leaves the kernel default.
        if let shares = cpu?.shares, shares != 0, shares < 2 || shares > 262_144 {
            throw SpecError("\(base).cpu.shares", "must be between 2 and 262144, got \(shares)")
        }
        if let quota = cpu?.quota, quota != -1, quota < 1000 && quota != 0 {
            throw SpecError("\(base).cpu.quota", "must be -1 (unlimited) or at least 1000, got \(quota)")
        }
        if let period = cpu?.period, period != 0, period < 1000 || period > 1_000_000 {
            throw SpecError("\(base).cpu.period", "must be between 1000 and 1000000, got \(period)")
        }
        if let weight = blockIO?.weight, weight != 0, weight < 10 || weight > 1000 {
            throw SpecError("\(base).blockIO.weight", "must be between 10 and 1000, got \(weight)")
        }
        if let limit = pids?.limit, limit < -1 {
            throw SpecError("\(base).pids.limit", "must be -1 (unlimited) or at least 0, got \(limit)")
        }
    }
}
