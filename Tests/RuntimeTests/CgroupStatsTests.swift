import Foundation
import Testing
@testable import Runtime

/// `events --stats` readers against fake cgroupfs trees: v1 files on a hybrid layout, v2 files
/// on a host whose only hierarchy is the unified one.
@Suite("cgroup stats on fake v1 and v2 trees")
struct CgroupStatsTests {
    func tree(_ files: [String: [String: String]]) throws -> (root: String, paths: [String: String]) {
        let tree = try FakeCgroupTree(files)
        return (tree.root, tree.paths)
    }

    @Test func v2FilesOnAPureV2Host() throws {
        let (root, paths) = try tree(["": [
            "cpu.stat": "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 7\nnr_throttled 2\nthrottled_usec 30\n",
            "memory.current": "4096\n", "memory.max": "1048576\n", "memory.peak": "8192\n",
            "memory.swap.current": "100\n", "memory.swap.max": "max\n",
            "memory.events": "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n",
            "memory.stat": "anon 2048\nfile 1024\n",
            "pids.current": "2\n", "pids.max": "max\n",
            "io.stat": "8:0 rbytes=4096 wbytes=512 rios=2 wios=1 dbytes=0 dios=0\n",
            "hugetlb.2MB.current": "0\n", "hugetlb.2MB.max": "4194304\n", "hugetlb.2MB.events": "max 0\n",
            "hugetlb.2MB.rsvd.current": "0\n",
        ]])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let s = Cgroups.driver(paths: paths).stats()
        #expect(s.cpu.usage.total == 1_500_000 && s.cpu.usage.user == 1_000_000 && s.cpu.usage.kernel == 500_000)
        #expect(s.cpu.throttling.periods == 7 && s.cpu.throttling.throttledPeriods == 2 && s.cpu.throttling.throttledTime == 30_000)
        #expect(s.memory.usage.usage == 4096 && s.memory.usage.limit == 1_048_576 && s.memory.usage.max == 8192
                && s.memory.usage.failcnt == 3)
        // Swap as v1's memsw: memory plus swap; no swap limit reads as none.
        #expect(s.memory.swap.usage == 4196 && s.memory.swap.limit == 0)
        #expect(s.memory.cache == 1024 && s.memory.raw["anon"] == 2048)
        #expect(s.pids.current == 2 && s.pids.limit == 0)
        #expect(s.blkio.ioServiceBytesRecursive.map { "\($0.major):\($0.minor) \($0.op) \($0.value)" } == ["8:0 Read 4096", "8:0 Write 512"])
        #expect(s.blkio.ioServicedRecursive.map { "\($0.op) \($0.value)" } == ["Read 2", "Write 1"])
        #expect(Array(s.hugetlb.keys) == ["2MB"] && s.hugetlb["2MB"]?.limit == 4_194_304)
    }

    /// Hybrid (this machine): the v1 controllers are read even though the unified hierarchy is in the paths.
    @Test func v1FilesWhereV1ControllersAreUsed() throws {
        let (root, paths) = try tree([
            "": ["memory.current": "1\n"],
            "memory": ["memory.usage_in_bytes": "4096\n", "memory.limit_in_bytes": "9223372036854771712\n",
                       "memory.stat": "cache 7\n"],
            "cpuacct": ["cpuacct.usage": "1500000\n", "cpuacct.usage_percpu": "1000000 500000 \n", "cpuacct.stat": "user 1\nsystem 2\n"],
            "pids": ["pids.current": "2\n", "pids.max": "max\n"],
        ])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let s = Cgroups.driver(paths: paths).stats()
        #expect(s.memory.usage.usage == 4096 && s.memory.cache == 7)
        #expect(s.cpu.usage.total == 1_500_000 && s.cpu.usage.percpu == [1_000_000, 500_000])
        #expect(s.cpu.usage.user == 10_000_000 && s.cpu.usage.kernel == 20_000_000)
        #expect(s.pids.current == 2)
    }
}
