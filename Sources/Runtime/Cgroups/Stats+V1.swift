import HostOS

/// The v1 reader: one file per counter in each controller's hierarchy, as runc's fs driver reads them.
extension CgroupV1 {
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
}
