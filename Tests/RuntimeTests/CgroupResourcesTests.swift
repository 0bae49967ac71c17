import Foundation
import Testing
@testable import Runtime
import OCI

/// The resource writers against fake cgroupfs trees (plain directories with the knob files).
@Suite("cgroup resources on fake v1 and v2 trees")
struct CgroupResourcesTests {
    func fakeTree(_ files: [String: [String]]) throws -> (root: String, paths: [String: String]) {
        let tree = try FakeCgroupTree(empty: files)
        return (tree.root, tree.paths)
    }

    func read(_ paths: [String: String], _ c: String, _ f: String) -> String {
        (try? String(contentsOfFile: (paths[c] ?? "") + "/" + f, encoding: .utf8)) ?? "<missing>"
    }

    func sample() -> Resources {
        var r = Resources()
        var m = Memory(); m.limit = 100 << 20; m.swap = 300 << 20; m.reservation = 50 << 20
        r.memory = m
        var c = CPU(); c.shares = 1024; c.quota = 20000; c.period = 100000; c.cpus = "0-1"
        r.cpu = c
        r.pids = Pids(limit: 99)
        return r
    }

    @Test func v1Tree() throws {
        let (root, paths) = try fakeTree([
            "memory": ["memory.limit_in_bytes", "memory.memsw.limit_in_bytes", "memory.soft_limit_in_bytes"],
            "cpu": ["cpu.shares", "cpu.cfs_quota_us", "cpu.cfs_period_us"],
            "cpuset": ["cpuset.cpus"], "pids": ["pids.max"],
            "devices": ["devices.allow", "devices.deny"],
        ])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let m = Cgroups.driver(paths: paths)
        try m.apply(sample())
        #expect(read(paths, "memory", "memory.limit_in_bytes") == String(100 << 20))
        #expect(read(paths, "memory", "memory.memsw.limit_in_bytes") == String(300 << 20))
        #expect(read(paths, "memory", "memory.soft_limit_in_bytes") == String(50 << 20))
        #expect(read(paths, "cpu", "cpu.shares") == "1024")
        #expect(read(paths, "cpu", "cpu.cfs_quota_us") == "20000")
        #expect(read(paths, "cpuset", "cpuset.cpus") == "0-1")
        #expect(read(paths, "pids", "pids.max") == "99")
        // A knob whose controller is missing names the field.
        var r = Resources(); r.hugepageLimits = [HugepageLimit(pageSize: "2MB", limit: 1)]
        #expect(throws: RuntimeError.self) { try m.apply(r) }
    }

    @Test func devicesRulesOrder() {
        var r = Resources()
        r.devices = [DeviceCgroupRule(allow: false, access: "rwm"), DeviceCgroupRule(allow: true, type: "c", major: 10, minor: 229, access: "rw")]
        let w = ResourcesV1.writes(r)
        // No implicit allow for linux.devices nodes: the listed rules, then runc's defaults.
        #expect(w.map { "\($0.file) \($0.value)" }.prefix(4) == ["devices.deny a", "devices.deny a", "devices.allow c 10:229 rw", "devices.allow c *:* m"])
        #expect(w.first { $0.value == "c 10:229 rw" }?.field == "linux.resources.devices[1]")
        #expect(w.last?.value == "c 10:200 rwm")
    }

    @Test func v2TreeWithRuncsConversions() throws {
        let (root, paths) = try fakeTree(["": ["cgroup.controllers", "memory.max", "memory.swap.max", "memory.low", "cpu.weight",
                                               "cpu.max", "cpuset.cpus", "pids.max", "io.weight", "hugetlb.2MB.max", "memory.high"]])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let m = Cgroups.driver(paths: paths)
        var r = sample()
        var b = BlockIO(); b.weight = 500
        r.blockIO = b
        r.hugepageLimits = [HugepageLimit(pageSize: "2MB", limit: 4 << 20)]
        r.unified = ["memory.high": "12345"]
        try m.apply(r)
        #expect(read(paths, "", "memory.max") == String(100 << 20))
        #expect(read(paths, "", "memory.swap.max") == String(200 << 20), "memsw 300M with limit 100M is 200M of swap")
        #expect(read(paths, "", "cpu.weight") == "39", "runc: 1 + (1024-2)*9999/262142")
        #expect(read(paths, "", "cpu.max") == "20000 100000")
        #expect(read(paths, "", "pids.max") == "99")
        #expect(read(paths, "", "io.weight") == String(1 + 490 * 9999 / 990))
        #expect(read(paths, "", "hugetlb.2MB.max") == String(4 << 20))
        #expect(read(paths, "", "memory.high") == "12345", "unified key/values go to the unified directory")
    }

    @Test func v2ConversionsAndErrors() throws {
        #expect(ResourcesV2.weight(fromShares: 2) == 1)
        #expect(ResourcesV2.weight(fromShares: 262144) == 10000)
        #expect(try ResourcesV2.swapMax(limit: 100, swap: -1) == "max")
        #expect(throws: RuntimeError.self) { try ResourcesV2.swapMax(limit: 200, swap: 100) }
        var r = Resources(); r.unified = ["../escape": "1"]
        #expect(throws: RuntimeError.self) { try ResourcesV2.writes(r) }
        var q = Resources(); var c = CPU(); c.quota = -1; c.period = 50000; q.cpu = c
        #expect(try ResourcesV2.writes(q).first { $0.file == "cpu.max" }?.value == "max 50000")
    }
}
