import HostOS

/// The v1 reader: one file per counter in each controller's hierarchy, as runc's fs driver reads them.
extension FSCgroupManager {
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

    /// The container's usage counters, from whichever version holds its controllers: v1 where
    /// any v1 controller is in use (hybrid included), else the unified hierarchy.
    public func stats() -> CgroupStats {
        paths.keys.contains(where: { !$0.isEmpty }) || paths[""] == nil ? statsV1() : statsV2()
    }

    func statsV1() -> CgroupStats {
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
