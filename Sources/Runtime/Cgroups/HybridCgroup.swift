import HostOS
import OCI

/// The hybrid driver: v1 hierarchies and the unified one at once (this project's CI host). Each
/// controller is driven where the host mounts it — v1 where it is a v1 hierarchy, v2 where only
/// the unified hierarchy offers it — and the unified directory always gets `unified` keys.
public struct HybridCgroup: CgroupDriver {
    public let paths: [String: String]
    public var owned: Set<String>?

    public init(paths: [String: String], owned: Set<String>? = nil) {
        self.paths = paths
        self.owned = owned
    }

    var v1: CgroupV1 { CgroupV1(paths: paths.filter { !$0.key.isEmpty }, owned: owned) }
    var v2: CgroupV2 { CgroupV2(path: paths[""] ?? "", owned: owned) }

    public func apply(_ resources: Resources, includeDevices: Bool) throws(RuntimeError) {
        if includeDevices, let rules = resources.devices, paths["devices"] == nil, let unified = paths[""] {
            try DeviceFilter.attach(DeviceRule.effective(rules), to: unified)
        }
        try write(plannedWrites(resources, includeDevices: includeDevices))
    }

    /// v1 writes for the controllers mounted as v1; a controller the unified hierarchy offers
    /// and v1 does not (hugetlb here) in its v2 form; `unified` key/values as given.
    func plannedWrites(_ r: Resources, includeDevices: Bool) throws(RuntimeError) -> [CgroupWrite] {
        let v2Controllers: Set<String> = {
            guard let dir = paths[""], let text = try? FileIO.readString("\(dir)/cgroup.controllers") else { return [] }
            return Set(text.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init))
        }()
        var out = ResourcesV1.writes(r, includeDevices: includeDevices).filter { w in
            paths[w.controller] != nil || !v2Controllers.contains(w.controller)
        }
        for w in try ResourcesV2.writes(r) {
            let controller = String(w.file.split(separator: ".").first ?? "")
            let fromUnifiedMap = w.field.hasPrefix("linux.resources.unified")
            if fromUnifiedMap || (paths[controller] == nil && v2Controllers.contains(controller)) { out.append(w) }
        }
        return out
    }

    /// Counters from v1, where the controllers are.
    public func stats() -> CgroupStats { v1.stats() }
    public func memoryUsage() -> UInt64 { paths["memory"] != nil ? v1.memoryUsage() : v2.memoryUsage() }
    public func oomKills() -> UInt64 { paths["memory"] != nil ? v1.oomKills() : v2.oomKills() }
    public var isFrozen: Bool { paths["freezer"] != nil ? v1.isFrozen : v2.isFrozen }

    public func setFrozen(_ frozen: Bool) throws(RuntimeError) {
        if paths["freezer"] != nil { try v1.setFrozen(frozen) } else { try v2.setFrozen(frozen) }
    }
}
