import Foundation
import Testing
import Glibc
@testable import Runtime
import HostOS

@Suite("mount options")
struct MountOptionsTests {
    @Test func flagsPropagationRecursiveAndData() {
        let o = MountOptions(["rbind", "ro", "nosuid", "rw", "rslave", "rnoexec", "size=64k", "mode=755"])
        #expect(o.flags & UInt(MS_BIND) != 0 && o.flags & UInt(MS_REC) != 0)
        #expect(o.flags & UInt(MS_RDONLY) == 0, "a later rw clears ro")
        #expect(o.clearedFlags & UInt(MS_RDONLY) != 0)
        #expect(o.flags & UInt(MS_NOSUID) != 0)
        #expect(o.propagation == [UInt(MS_SLAVE) | UInt(MS_REC)])
        #expect(o.recursiveSet == MountOptions.attrNoexec)
        #expect(o.data == ["size=64k", "mode=755"])
        #expect(o.bindRemountFlags == UInt(MS_NOSUID))
    }
}

@Suite("cgroup layout and paths")
struct CgroupTests {
    let mountinfo = """
    30 25 0:26 / /sys/fs/cgroup/memory rw,relatime shared:9 - cgroup cgroup rw,memory
    31 25 0:27 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:10 - cgroup cgroup rw,cpu,cpuacct
    32 25 0:28 / /sys/fs/cgroup/unified rw,relatime shared:11 - cgroup2 cgroup2 rw
    33 25 0:29 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
    """
    let own = "4:memory:/workplace/abc\n3:cpu,cpuacct:/\n1:name=systemd:/\n0::/\n"

    @Test func parsesHybridLayout() {
        let layout = CgroupLayout.parse(mountinfo: mountinfo, cgroup: own)
        #expect(layout.v1.map(\.controllers) == [["memory"], ["cpu", "cpuacct"], ["name=systemd"]])
        #expect(layout.unified?.mountPoint == "/sys/fs/cgroup/unified")
        #expect(layout.ownPaths["memory"] == "/workplace/abc")
        #expect(layout.ownPaths["cpuacct"] == "/")
        #expect(!layout.isUnifiedOnly)
    }

    @Test func absoluteRelativeAndDefaultPathsFollowRunc() throws {
        let layout = CgroupLayout.parse(mountinfo: mountinfo, cgroup: own)
        let abs = try Cgroups.driver(cgroupsPath: "/a/b", id: "x", layout: layout).paths
        #expect(abs["memory"] == "/sys/fs/cgroup/memory/a/b")
        #expect(abs["cpu"] == "/sys/fs/cgroup/cpu,cpuacct/a/b")
        #expect(abs[""] == "/sys/fs/cgroup/unified/a/b")
        let rel = try Cgroups.driver(cgroupsPath: "a/b", id: "x", layout: layout).paths
        #expect(rel["memory"] == "/sys/fs/cgroup/memory/workplace/abc/a/b", "relative to our own cgroup")
        #expect(rel["cpu"] == "/sys/fs/cgroup/cpu,cpuacct/a/b")
        let def = try Cgroups.driver(cgroupsPath: nil, id: "ctr", layout: layout).paths
        #expect(def["memory"] == "/sys/fs/cgroup/memory/workplace/abc/ctr")
        let dotted = try Cgroups.driver(cgroupsPath: "/a/../../etc", id: "x", layout: layout).paths
        #expect(dotted["memory"] == "/sys/fs/cgroup/memory/etc", "cannot climb out of the hierarchy")
    }

    @Test func pathsThatReachAHierarchyRootOrOurOwnCgroupAreRefused() {
        let layout = CgroupLayout.parse(mountinfo: mountinfo, cgroup: own)
        for path in ["/", "/a/../..", "//", "/a/b/../../"] {
            #expect(throws: RuntimeError.self, "\(path)") { try Cgroups.driver(cgroupsPath: path, id: "x", layout: layout) }
        }
        #expect(throws: RuntimeError.self, "own cgroup") { try Cgroups.driver(cgroupsPath: "a/..", id: "x", layout: layout) }
        do {
            _ = try Cgroups.driver(cgroupsPath: "/a/../..", id: "x", layout: layout)
        } catch {
            #expect(error.message == "linux.cgroupsPath: \"/a/../..\" resolves to the root of the cgroup hierarchy")
        }
        // Inside a container whose cgroup mount shows only /kubepods/x: nothing outside it.
        let nested = CgroupLayout.parse(mountinfo: "40 25 0:30 /kubepods/x /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
                                        cgroup: "0::/kubepods/x\n")
        #expect(throws: RuntimeError.self) { try Cgroups.driver(cgroupsPath: "/other", id: "x", layout: nested) }
        #expect(throws: RuntimeError.self) { try Cgroups.driver(cgroupsPath: "/kubepods/x", id: "x", layout: nested) }
        #expect((try? Cgroups.driver(cgroupsPath: "/kubepods/x/c", id: "x", layout: nested))?.paths == ["": "/sys/fs/cgroup/c"])
    }

    @Test func pureV2Layout() throws {
        let layout = CgroupLayout.parse(mountinfo: "40 25 0:30 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n", cgroup: "0::/user.slice\n")
        #expect(layout.isUnifiedOnly)
        #expect(try Cgroups.driver(cgroupsPath: "pod/c", id: "x", layout: layout).paths == ["": "/sys/fs/cgroup/user.slice/pod/c"])
    }
}

@Suite("signals and ids")
struct ParsingTests {
    @Test func signals() throws {
        #expect(try Container.parseSignal("KILL") == SIGKILL)
        #expect(try Container.parseSignal("sigterm") == SIGTERM)
        #expect(try Container.parseSignal("9") == 9)
        #expect(try Container.parseSignal("RTMIN+2") == 36)
        #expect(throws: RuntimeError.self) { try Container.parseSignal("NOPE") }
        #expect(try Container.parseSignal("0") == 0)
        #expect(throws: RuntimeError.self) { try Container.parseSignal("-1") }
    }

    @Test func containerIDs() {
        for ok in ["a", "abc-1.2_3+x"] { #expect((try? StateStore.validate(id: ok)) != nil) }
        for bad in ["", ".", "..", "a/b", "a b", "é"] { #expect(throws: RuntimeError.self) { try StateStore.validate(id: bad) } }
    }

    @Test func procStatParsesNamesWithSpacesAndParens() throws {
        let stat = try #require(ProcStat.read(pid: getpid()))
        #expect(stat.isAlive)
        #expect(stat.startTime > 0)
    }
}

@Suite("subordinate id ranges")
struct SubordinateRangeTests {
    /// newuidmap's file format: `name:start:count` or `uid:start:count`; the caller's first range.
    @Test func byNameOrUid() throws {
        let dir = "/tmp/swrunc-subid-\(getpid())"
        try FileIO.mkdirAll(dir)
        defer { FileIO.removeTree(dir) }
        let file = dir + "/subuid"
        try FileIO.writeFile(Array("alice:100000:65536\n2001:300000:1000\nbroken line\nbob:x:5\nalice:900000:10\n".utf8), to: file)
        let alice = try #require(IDMaps.subordinateRange(file: file, user: "alice", id: 2000))
        #expect(alice.start == 100000 && alice.count == 65536)
        let byUid = try #require(IDMaps.subordinateRange(file: file, user: "carol", id: 2001))
        #expect(byUid.start == 300000 && byUid.count == 1000)
        #expect(IDMaps.subordinateRange(file: file, user: "bob", id: 5) == nil)
        #expect(IDMaps.subordinateRange(file: dir + "/missing", user: "alice", id: 2000) == nil)
    }
}
