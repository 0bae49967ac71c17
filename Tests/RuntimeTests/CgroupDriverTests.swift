import Foundation
import Testing
@testable import Runtime
import OCI

/// The drivers behind CgroupDriver on fake cgroupfs trees: which one a layout gets, where each
/// puts a knob, and freeze/thaw, OOM counts and memory use per version (no root needed).
@Suite("cgroup drivers on fake v1, v2 and hybrid trees")
struct CgroupDriverTests {
    @Test func layoutPicksTheDriver() {
        #expect(Cgroups.driver(paths: ["memory": "/m", "cpu": "/c"]) is CgroupV1)
        #expect(Cgroups.driver(paths: ["": "/u"]) is CgroupV2)
        #expect(Cgroups.driver(paths: ["memory": "/m", "": "/u"]) is HybridCgroup)
        // Rootless without a delegated cgroup: a driver over nothing, which has no processes.
        let none = Cgroups.driver(paths: [:], owned: [])
        #expect(none is CgroupV1 && none.pids().isEmpty && !none.isFrozen)
        #expect(throws: RuntimeError.self) { try none.setFrozen(true) }
    }

    @Test func freezeV1() throws {
        let tree = try FakeCgroupTree(["freezer": ["freezer.state": "THAWED\n"], "memory": [:]])
        defer { tree.remove() }
        let d = Cgroups.driver(paths: tree.paths)
        #expect(!d.isFrozen)
        try d.setFrozen(true)
        #expect(tree.read("freezer", "freezer.state") == "FROZEN" && d.isFrozen)
        try d.setFrozen(false)
        #expect(tree.read("freezer", "freezer.state") == "THAWED" && !d.isFrozen)
    }

    @Test func freezeV2() throws {
        // The kernel updates cgroup.events; here it already says what the write asks for.
        let tree = try FakeCgroupTree(["": ["cgroup.freeze": "0\n", "cgroup.events": "populated 1\nfrozen 1\n"]])
        defer { tree.remove() }
        let d = Cgroups.driver(paths: tree.paths)
        #expect(d.isFrozen)
        try d.setFrozen(true)
        #expect(tree.read("", "cgroup.freeze") == "1")
    }

    @Test func hybridFreezesThroughV1AndFallsBackToV2() throws {
        let both = try FakeCgroupTree(["freezer": ["freezer.state": "FROZEN\n"], "": ["cgroup.events": "frozen 0\n", "cgroup.freeze": ""]])
        defer { both.remove() }
        let d = Cgroups.driver(paths: both.paths)
        #expect(d.isFrozen, "the v1 freezer decides when there is one")
        try d.setFrozen(false)
        #expect(both.read("freezer", "freezer.state") == "THAWED" && both.read("", "cgroup.freeze") == "")
        let noFreezer = try FakeCgroupTree(["memory": [:], "": ["cgroup.events": "frozen 1\n", "cgroup.freeze": ""]])
        defer { noFreezer.remove() }
        let h = Cgroups.driver(paths: noFreezer.paths)
        #expect(h.isFrozen)
        try h.setFrozen(true)
        #expect(noFreezer.read("", "cgroup.freeze") == "1")
    }

    @Test func oomAndMemoryPerVersion() throws {
        let v1 = try FakeCgroupTree(["memory": ["memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
                                                "memory.usage_in_bytes": "4096\n"]])
        let v2 = try FakeCgroupTree(["": ["memory.events": "low 0\nhigh 0\nmax 1\noom 1\noom_kill 3\n", "memory.current": "8192\n"]])
        let hybridNoMemory = try FakeCgroupTree(["cpu": [:], "": ["memory.events": "oom_kill 5\n", "memory.current": "12\n"]])
        defer { v1.remove(); v2.remove(); hybridNoMemory.remove() }
        let a = Cgroups.driver(paths: v1.paths), b = Cgroups.driver(paths: v2.paths), c = Cgroups.driver(paths: hybridNoMemory.paths)
        #expect(a.oomKills() == 2 && a.memoryUsage() == 4096)
        #expect(b.oomKills() == 3 && b.memoryUsage() == 8192)
        #expect(c.oomKills() == 5 && c.memoryUsage() == 12, "memory only in the unified hierarchy is read there")
    }

    @Test func hybridPutsEachKnobWhereItsControllerIs() throws {
        let tree = try FakeCgroupTree(["memory": ["memory.limit_in_bytes": ""], "pids": ["pids.max": ""],
                                       "": ["cgroup.controllers": "hugetlb\n", "hugetlb.2MB.max": ""]])
        defer { tree.remove() }
        var r = Resources()
        var m = Memory(); m.limit = 64 << 20
        r.memory = m
        r.pids = Pids(limit: 10)
        r.hugepageLimits = [HugepageLimit(pageSize: "2MB", limit: 2 << 20)]
        r.unified = ["memory.high": "777"]
        let d = Cgroups.driver(paths: tree.paths)
        // memory.high belongs to a controller v1 holds here (no such file in the unified directory): refused in runc's words.
        #expect(throws: RuntimeError.self) { try d.apply(r, includeDevices: false) }
        r.unified = nil
        try d.apply(r, includeDevices: false)
        #expect(tree.read("memory", "memory.limit_in_bytes") == String(64 << 20) && tree.read("pids", "pids.max") == "10")
        #expect(tree.read("", "hugetlb.2MB.max") == String(2 << 20), "hugetlb exists only in the unified hierarchy")
    }

    @Test func createRefusesABusyOrFrozenCgroup() throws {
        let busy = try FakeCgroupTree(["pids": ["cgroup.procs": "1\n"]])
        let frozen = try FakeCgroupTree(["freezer": ["cgroup.procs": "", "freezer.state": "FROZEN\n"]])
        defer { busy.remove(); frozen.remove() }
        #expect { try Cgroups.driver(paths: busy.paths).create() } throws: { ($0 as? RuntimeError)?.message.contains("not empty") == true }
        #expect { try Cgroups.driver(paths: frozen.paths).create() } throws: { ($0 as? RuntimeError)?.message.contains("frozen") == true }
        // Members are the union over hierarchies.
        let two = try FakeCgroupTree(["pids": ["cgroup.procs": "5\n7\n"], "memory": ["cgroup.procs": "7\n9\n"]])
        defer { two.remove() }
        #expect(Cgroups.driver(paths: two.paths).pids() == [5, 7, 9])
    }
}
