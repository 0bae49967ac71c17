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
/// values, applied to the real hierarchy by `FSCgroupManager.apply`.
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

extension FSCgroupManager {
    /// v1 files written in this order, whose partner goes first when the kernel refuses that order.
    static let writtenTogether = [
        "memory.limit_in_bytes": "memory.memsw.limit_in_bytes",
        "cpu.cfs_period_us": "cpu.cfs_quota_us",
        "cpu.rt_period_us": "cpu.rt_runtime_us",
    ]

    /// Writes linux.resources. A controller the host lacks is an error naming the field, except
    /// for knobs the spec lets a runtime skip.
    public func apply(_ resources: Resources, includeDevices: Bool = true) throws(RuntimeError) {
        if includeDevices, let rules = resources.devices, paths["devices"] == nil, let unified = paths[""] {
            try DeviceFilter.attach(DeviceRule.effective(rules), to: unified)
        }
        var pending = try plannedWrites(resources, includeDevices: includeDevices)[...]
        while let w = pending.first {
            pending = pending.dropFirst()
            guard let dir = paths[w.controller] else {
                if w.optional { continue }
                throw RuntimeError("\(w.field): the \(w.controller) cgroup controller is not available on this host")
            }
            let path = "\(dir)/\(w.file)"
            if !FileIO.exists(path) {
                if w.optional { continue }
                if w.field.hasPrefix("linux.resources.unified"), paths.keys.contains(where: { !$0.isEmpty }) {
                    // A v2 key for a controller that cgroup v1 manages on this host (runc's words).
                    throw RuntimeError("\(w.field): invalid configuration: \(w.file) needs its controller in the cgroup v2 hierarchy, and this host manages it with cgroup v1")
                }
                throw RuntimeError("\(w.field): \(w.file) is not supported by this kernel")
            }
            do {
                try FileIO.writeExisting(path, w.value)
            } catch {
                // Pairs the kernel checks against each other (memory below memsw, a cfs or rt
                // period against its quota and the parent's share) are refused in one order and
                // fine in the other: retry with the partner written first.
                if let partnerFile = Self.writtenTogether[w.file], let partner = pending.first(where: { $0.file == partnerFile }) {
                    try? FileIO.writeExisting("\(dir)/\(partner.file)", partner.value)
                    if (try? FileIO.writeExisting(path, w.value)) != nil { continue }
                }
                throw RuntimeError("\(w.field): write \(w.file)=\(w.value): \(error.message.split(separator: ":").last.map { String($0).trimmed() } ?? error.message)",
                                   errno: error.errno)
            }
        }
    }
}

extension FSCgroupManager {
    /// Picks, per controller, the hierarchy it lives in: v1 files where the host mounts that
    /// controller as v1, v2 files where it is enabled in the unified hierarchy (hybrid hosts have
    /// both), and `unified` key/values always in the unified directory.
    func plannedWrites(_ r: Resources, includeDevices: Bool) throws(RuntimeError) -> [CgroupWrite] {
        let v2Controllers: Set<String> = {
            guard let dir = paths[""], let text = try? FileIO.readString("\(dir)/cgroup.controllers") else { return [] }
            return Set(text.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init))
        }()
        let unifiedOnly = paths.keys.allSatisfy { $0.isEmpty }
        if unifiedOnly {
            // Device rules on v2 are an eBPF program (DeviceFilter.attach, in `apply`), not files.
            return try ResourcesV2.writes(r)
        }
        var out = ResourcesV1.writes(r, includeDevices: includeDevices)
        if paths[""] != nil {
            let v2 = try ResourcesV2.writes(r)
            // A v1 write whose controller is not mounted as v1 moves to its v2 form when the
            // unified hierarchy offers that controller (hugetlb on this project's CI host).
            out = out.filter { w in
                paths[w.controller] != nil || !v2Controllers.contains(w.controller)
            }
            for w in v2 {
                let controller = String(w.file.split(separator: ".").first ?? "")
                let fromUnifiedMap = w.field.hasPrefix("linux.resources.unified")
                if fromUnifiedMap || (paths[controller] == nil && v2Controllers.contains(controller)) { out.append(w) }
            }
        }
        return out
    }
}
