import OCI

/// linux.resources → cgroup v2 files (all in the container's one unified directory), with runc's
/// v1→v2 conversions so a config written for v1 means the same on v2.
public enum ResourcesV2 {
    /// cpu.shares (2…262144) → cpu.weight (1…10000).
    public static func weight(fromShares shares: UInt64) -> UInt64 {
        shares == 0 ? 0 : 1 + ((max(shares, 2) - 2) * 9999) / 262142
    }

    /// blkio.weight (10…1000) → io.weight (1…10000).
    public static func ioWeight(fromBlkio w: UInt16) -> UInt64 {
        w == 0 ? 0 : 1 + (UInt64(max(w, 10)) - 10) * 9999 / 990
    }

    /// memory.memsw semantics (memory + swap) → memory.swap.max (swap alone).
    public static func swapMax(limit: Int64?, swap: Int64) throws(RuntimeError) -> String {
        if swap == -1 { return "max" }
        guard let limit, limit > 0 else {
            throw RuntimeError("linux.resources.memory.swap: set without a memory limit, which cgroup v2 cannot express")
        }
        guard swap >= limit else {
            throw RuntimeError("linux.resources.memory.swap: \(swap) is below the memory limit \(limit)")
        }
        return String(swap - limit)
    }

    public static func writes(_ r: Resources) throws(RuntimeError) -> [CgroupWrite] {
        var out: [CgroupWrite] = []
        func add(_ f: String, _ v: String, _ field: String, optional: Bool = false) {
            out.append(CgroupWrite(controller: "", file: f, value: v, field: "linux.resources.\(field)", optional: optional))
        }
        if let m = r.memory {
            if let l = m.limit { add("memory.max", l < 0 ? "max" : String(l), "memory.limit") }
            if let s = m.swap { add("memory.swap.max", try swapMax(limit: m.limit, swap: s), "memory.swap") }
            if let res = m.reservation { add("memory.low", res < 0 ? "max" : String(res), "memory.reservation") }
        }
        if let c = r.cpu {
            if let s = c.shares, s > 0 { add("cpu.weight", String(weight(fromShares: s)), "cpu.shares") }
            if c.quota != nil || c.period != nil {
                let quota = (c.quota ?? 0) > 0 ? String(c.quota!) : "max"
                add("cpu.max", "\(quota) \(c.period ?? 100_000)", c.quota != nil ? "cpu.quota" : "cpu.period")
            }
            if let b = c.burst { add("cpu.max.burst", String(b), "cpu.burst") }
            if let i = c.idle { add("cpu.idle", String(i), "cpu.idle") }
            if let cpus = c.cpus, !cpus.isEmpty { add("cpuset.cpus", cpus, "cpu.cpus") }
            if let mems = c.mems, !mems.isEmpty { add("cpuset.mems", mems, "cpu.mems") }
        }
        if let p = r.pids { add("pids.max", ResourcesV1.pidsMax(p.limit), "pids.limit") }
        if let b = r.blockIO {
            if let w = b.weight, w > 0 { add("io.weight", String(ioWeight(fromBlkio: w)), "blockIO.weight") }
            for (i, d) in (b.weightDevice ?? []).enumerated() {
                if let w = d.weight { add("io.weight", "\(d.major):\(d.minor) \(ioWeight(fromBlkio: w))", "blockIO.weightDevice[\(i)]") }
            }
            for (name, list, key) in [("throttleReadBpsDevice", b.throttleReadBpsDevice, "rbps"),
                                      ("throttleWriteBpsDevice", b.throttleWriteBpsDevice, "wbps"),
                                      ("throttleReadIOPSDevice", b.throttleReadIOPSDevice, "riops"),
                                      ("throttleWriteIOPSDevice", b.throttleWriteIOPSDevice, "wiops")] {
                for (i, d) in (list ?? []).enumerated() {
                    add("io.max", "\(d.major):\(d.minor) \(key)=\(d.rate)", "blockIO.\(name)[\(i)]")
                }
            }
        }
        for (i, h) in (r.hugepageLimits ?? []).enumerated() {
            add("hugetlb.\(h.pageSize).max", String(h.limit), "hugepageLimits[\(i)]")
        }
        for (key, value) in (r.rdma ?? [:]).sorted(by: { $0.key < $1.key }) {
            var parts: [String] = []
            if let h = value.hcaHandles { parts.append("hca_handle=\(h)") }
            if let o = value.hcaObjects { parts.append("hca_object=\(o)") }
            add("rdma.max", "\(key) \(parts.joined(separator: " "))", "rdma.\(key)")
        }
        for (key, value) in (r.unified ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard !key.contains("/"), key.contains("."), !key.hasPrefix("cgroup.") || key == "cgroup.freeze" else {
                throw RuntimeError("linux.resources.unified.\(key): not a settable cgroup v2 file")
            }
            add(key, value, "unified.\(key)")
        }
        return out
    }
}
