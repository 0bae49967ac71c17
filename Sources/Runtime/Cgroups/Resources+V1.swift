import HostOS
import OCI

/// One knob to set: which hierarchy, which file, what value, and the spec field it comes from
/// (for errors: `linux.resources.memory.limit: write memory.limit_in_bytes=…: Invalid argument`).
public struct CgroupWrite: Equatable, Sendable {
    public var controller: String
    public var file: String
    public var value: String
    public var field: String
    /// Left out when the host kernel has no such file (the spec lets these be skipped).
    public var optional = false
}

/// linux.resources → cgroup v1 files, in the order they must be written. Pure: unit-tested on
/// values, applied to the real hierarchy by a CgroupDriver's `apply`.
public enum ResourcesV1 {
    /// pids.max for a spec limit: negative is unlimited, and 0 becomes 1 — runc's mapping (a
    /// cgroup that admits no task at all would refuse the container's own init).
    static func pidsMax(_ limit: Int64) -> String {
        limit < 0 ? "max" : String(max(limit, 1))
    }

    public static func writes(_ r: Resources, includeDevices: Bool = true) -> [CgroupWrite] {
        var out: [CgroupWrite] = []
        func add(_ c: String, _ f: String, _ v: String, _ field: String, optional: Bool = false) {
            out.append(CgroupWrite(controller: c, file: f, value: v, field: "linux.resources.\(field)", optional: optional))
        }
        if let m = r.memory {
            // memsw must never be below the limit: raise it first, lower it last (see apply).
            if let limit = m.limit { add("memory", "memory.limit_in_bytes", String(limit), "memory.limit") }
            if let swap = m.swap { add("memory", "memory.memsw.limit_in_bytes", String(swap), "memory.swap") }
            if let res = m.reservation { add("memory", "memory.soft_limit_in_bytes", String(res), "memory.reservation") }
            if let s = m.swappiness, s <= 100 { add("memory", "memory.swappiness", String(s), "memory.swappiness") }
            if m.disableOOMKiller == true { add("memory", "memory.oom_control", "1", "memory.disableOOMKiller") }
        }
        if let c = r.cpu {
            if let s = c.shares, s > 0 { add("cpu", "cpu.shares", String(s), "cpu.shares") }
            if let p = c.period, p > 0 { add("cpu", "cpu.cfs_period_us", String(p), "cpu.period") }
            if let q = c.quota, q != 0 { add("cpu", "cpu.cfs_quota_us", String(q), "cpu.quota") }
            if let b = c.burst { add("cpu", "cpu.cfs_burst_us", String(b), "cpu.burst", optional: true) }
            if let p = c.realtimePeriod, p > 0 { add("cpu", "cpu.rt_period_us", String(p), "cpu.realtimePeriod") }
            if let rt = c.realtimeRuntime, rt != 0 { add("cpu", "cpu.rt_runtime_us", String(rt), "cpu.realtimeRuntime") }
            if let i = c.idle { add("cpu", "cpu.idle", String(i), "cpu.idle") }
            if let cpus = c.cpus, !cpus.isEmpty { add("cpuset", "cpuset.cpus", cpus, "cpu.cpus") }
            if let mems = c.mems, !mems.isEmpty { add("cpuset", "cpuset.mems", mems, "cpu.mems") }
        }
        if let p = r.pids { add("pids", "pids.max", Self.pidsMax(p.limit), "pids.limit") }
        if let b = r.blockIO {
            if let w = b.weight, w > 0 { add("blkio", "blkio.weight", String(w), "blockIO.weight") }
            if let w = b.leafWeight, w > 0 { add("blkio", "blkio.leaf_weight", String(w), "blockIO.leafWeight") }
            for (i, d) in (b.weightDevice ?? []).enumerated() {
                if let w = d.weight { add("blkio", "blkio.weight_device", "\(d.major):\(d.minor) \(w)", "blockIO.weightDevice[\(i)]") }
                if let w = d.leafWeight { add("blkio", "blkio.leaf_weight_device", "\(d.major):\(d.minor) \(w)", "blockIO.weightDevice[\(i)]") }
            }
            for (name, list, file) in [("throttleReadBpsDevice", b.throttleReadBpsDevice, "read_bps_device"),
                                       ("throttleWriteBpsDevice", b.throttleWriteBpsDevice, "write_bps_device"),
                                       ("throttleReadIOPSDevice", b.throttleReadIOPSDevice, "read_iops_device"),
                                       ("throttleWriteIOPSDevice", b.throttleWriteIOPSDevice, "write_iops_device")] {
                for (i, d) in (list ?? []).enumerated() {
                    add("blkio", "blkio.throttle.\(file)", "\(d.major):\(d.minor) \(d.rate)", "blockIO.\(name)[\(i)]")
                }
            }
        }
        for (i, h) in (r.hugepageLimits ?? []).enumerated() {
            add("hugetlb", "hugetlb.\(h.pageSize).limit_in_bytes", String(h.limit), "hugepageLimits[\(i)]")
        }
        if let n = r.network {
            if let id = n.classID { add("net_cls", "net_cls.classid", String(id), "network.classID") }
            for (i, p) in (n.priorities ?? []).enumerated() {
                add("net_prio", "net_prio.ifpriomap", "\(p.name) \(p.priority)", "network.priorities[\(i)]")
            }
        }
        for (key, value) in (r.rdma ?? [:]).sorted(by: { $0.key < $1.key }) {
            var parts: [String] = []
            if let h = value.hcaHandles { parts.append("hca_handle=\(h)") }
            if let o = value.hcaObjects { parts.append("hca_object=\(o)") }
            add("rdma", "rdma.max", "\(key) \(parts.joined(separator: " "))", "rdma.\(key)")
        }
        if includeDevices, let rules = r.devices {
            // Start from nothing, then the effective list (config, then defaults).
            add("devices", "devices.deny", "a", "devices")
            for (i, rule) in DeviceRule.effective(rules).enumerated() {
                let field = i < rules.count ? "devices[\(i)]" : "devices (defaults)"
                add("devices", rule.allow ? "devices.allow" : "devices.deny", rule.v1Line, field)
            }
        }
        return out
    }
}
