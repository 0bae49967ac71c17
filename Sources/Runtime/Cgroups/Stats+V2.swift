import HostOS

/// The v2 reader: the unified hierarchy's flat-keyed files, turned into the v1-shaped document
/// runc's `events --stats` prints (its fs2 driver's conversions: microseconds to nanoseconds,
/// swap reported as memory+swap like v1's memsw, io.stat's bytes and ios as Read/Write entries).
extension CgroupV2 {
    func statsV2() -> CgroupStats {
        var s = CgroupStats()
        let cpu = keyed("", "cpu.stat")
        s.cpu.usage.total = (cpu["usage_usec"] ?? 0) * 1000
        s.cpu.usage.user = (cpu["user_usec"] ?? 0) * 1000
        s.cpu.usage.kernel = (cpu["system_usec"] ?? 0) * 1000
        s.cpu.throttling = .init(periods: cpu["nr_periods"] ?? 0, throttledPeriods: cpu["nr_throttled"] ?? 0,
                                 throttledTime: (cpu["throttled_usec"] ?? 0) * 1000)
        let memory = number("", "memory.current")
        let swap = number("", "memory.swap.current")
        let events = keyed("", "memory.events")
        // "max" reads as 0 (no limit), as in v1's reports.
        s.memory.usage = .init(limit: number("", "memory.max"), usage: memory, max: number("", "memory.peak"),
                               failcnt: events["max"] ?? 0)
        let swapLimit = number("", "memory.swap.max")
        let memoryLimit = s.memory.usage.limit
        s.memory.swap = .init(limit: swapLimit == 0 || memoryLimit == 0 ? 0 : swapLimit + memoryLimit, usage: memory + swap,
                              max: 0, failcnt: keyed("", "memory.swap.events")["max"] ?? 0)
        s.memory.raw = keyed("", "memory.stat")
        s.memory.cache = s.memory.raw["file"] ?? 0
        s.pids.current = number("", "pids.current")
        s.pids.limit = number("", "pids.max")
        (s.blkio.ioServiceBytesRecursive, s.blkio.ioServicedRecursive) = ioStat()
        for size in hugepageSizes() {
            s.hugetlb[size] = .init(limit: number("", "hugetlb.\(size).max"), usage: number("", "hugetlb.\(size).current"),
                                    max: 0, failcnt: keyed("", "hugetlb.\(size).events")["max"] ?? 0)
        }
        return s
    }

    /// io.stat lines (`8:0 rbytes=4096 wbytes=0 rios=1 wios=0 …`) as v1's Read/Write entries.
    private func ioStat() -> ([CgroupStats.BlkioEntry], [CgroupStats.BlkioEntry]) {
        guard let dir = paths[""], let text = try? FileIO.readString(dir + "/io.stat") else { return ([], []) }
        var bytes: [CgroupStats.BlkioEntry] = [], ios: [CgroupStats.BlkioEntry] = []
        for line in text.split(separator: "\n") {
            let f = line.split(separator: " ")
            guard let device = f.first, let colon = device.firstIndex(of: ":"), let major = UInt64(device[..<colon]),
                  let minor = UInt64(device[device.index(after: colon)...]) else { continue }
            var kv: [Substring: UInt64] = [:]
            for pair in f.dropFirst() {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.count == 2, let v = UInt64(parts[1]) { kv[parts[0]] = v }
            }
            for (op, b, n) in [("Read", "rbytes", "rios"), ("Write", "wbytes", "wios")] {
                if let v = kv[Substring(b)] { bytes.append(.init(major: major, minor: minor, op: op, value: v)) }
                if let v = kv[Substring(n)] { ios.append(.init(major: major, minor: minor, op: op, value: v)) }
            }
        }
        return (bytes, ios)
    }

    /// The page sizes the hierarchy has hugetlb files for (`hugetlb.2MB.current` → "2MB").
    private func hugepageSizes() -> [String] {
        guard let dir = paths[""] else { return [] }
        return FileIO.listDirectory(dir).compactMap { name in
            guard name.hasPrefix("hugetlb."), name.hasSuffix(".current"), !name.contains(".rsvd.") else { return nil }
            return String(name.dropFirst("hugetlb.".count).dropLast(".current".count))
        }.sorted()
    }
}
