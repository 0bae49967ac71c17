import Foundation
import Testing
import OCI

/// `delete` kills what is in a container's cgroup and removes it, so a cgroupsPath must never
/// lead to someone else's processes: a cgroup that already has members is refused, a path that
/// resolves to a hierarchy's root is refused, and only cgroups swrunc created are removed.
@Suite("cgroup ownership: delete never kills or removes what the container does not own", .serialized)
struct CgroupOwnershipTests {
    /// A `sleep` of the test's own.
    final class Sleeper {
        let pid: Int32
        private var stopped = false

        init() throws {
            pid = spawnProcess(["/bin/sleep", "1000"])
            try #require(pid > 0, "spawn sleep")
        }

        var alive: Bool {
            var info = siginfo_t()
            return waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info._sifields._sigchld.si_pid == 0
        }

        func stop() {
            guard !stopped else { return }
            stopped = true
            stopProcess(pid)
        }
    }

    /// A `sleep` in /<parent>/victim of every hierarchy, as another tenant's process would be.
    final class Victim {
        let parent = "swrunc-victim-\(UUID().uuidString.prefix(8).lowercased())"
        let process: Sleeper
        var pid: Int32 { process.pid }
        var hierarchies: [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? [])
                .map { "/sys/fs/cgroup/\($0)" }.filter { FileManager.default.fileExists(atPath: $0 + "/cgroup.procs") }
        }

        init() throws {
            process = try Sleeper()
            for h in hierarchies {
                try FileManager.default.createDirectory(atPath: "\(h)/\(parent)/victim", withIntermediateDirectories: true)
                if h.hasSuffix("/cpuset") {
                    for f in ["cpuset.cpus", "cpuset.mems"] {
                        let v = try String(contentsOfFile: "\(h)/\(f)", encoding: .utf8)
                        try v.write(toFile: "\(h)/\(parent)/\(f)", atomically: false, encoding: .utf8)
                        try v.write(toFile: "\(h)/\(parent)/victim/\(f)", atomically: false, encoding: .utf8)
                    }
                }
                try "\(pid)".write(toFile: "\(h)/\(parent)/victim/cgroup.procs", atomically: false, encoding: .utf8)
            }
        }

        var alive: Bool { process.alive }

        /// Still in its cgroup in every hierarchy.
        var inPlace: Bool {
            let text = (try? String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8)) ?? ""
            return text.split(separator: "\n").allSatisfy { $0.hasSuffix("/\(parent)/victim") }
        }

        func cleanup() {
            process.stop()
            for h in hierarchies {
                for d in ["\(h)/\(parent)/victim/y", "\(h)/\(parent)/victim", "\(h)/\(parent)/empty", "\(h)/\(parent)/frozen",
                          "\(h)/\(parent)/new", "\(h)/\(parent)"] { rmdir(d) }
            }
        }
    }

    @Test func aCgroupWithAnotherProcessIsRefusedAndItsProcessSurvives() throws {
        let victim = try Victim()
        defer { victim.cleanup() }
        for path in ["/\(victim.parent)/victim", "/\(victim.parent)/victim/y/.."] {
            let b = try TestBundle(args: ["sleep", "30"])
            b.spec.linux?.cgroupsPath = path
            let r = try b.create()
            #expect(!r.ok, "\(path): created in a cgroup that holds pid \(victim.pid)")
            #expect(r.stderr.contains("container's cgroup is not empty") && r.stderr.contains("has processes (pid \(victim.pid))"), "\(r.stderr)")
            b.swrunc("delete", "--force", b.id)
            #expect(victim.alive && victim.inPlace, "\(path): the victim was killed or moved")
            #expect(FileManager.default.fileExists(atPath: "/sys/fs/cgroup/pids/\(victim.parent)/victim"))
        }
    }

    /// A frozen cgroup would freeze the init as it joins: create refuses it (it waited out its
    /// timeout before), as runc does, and leaves the cgroup as it was.
    @Test func aFrozenCgroupIsRefusedAtOnce() throws {
        let victim = try Victim()
        defer {
            try? "THAWED".write(toFile: "/sys/fs/cgroup/freezer/\(victim.parent)/frozen/freezer.state", atomically: false, encoding: .utf8)
            victim.cleanup()
        }
        for h in victim.hierarchies {
            try FileManager.default.createDirectory(atPath: "\(h)/\(victim.parent)/frozen", withIntermediateDirectories: true)
        }
        let freezer = "/sys/fs/cgroup/freezer/\(victim.parent)/frozen/freezer.state"
        try #require(FileManager.default.fileExists(atPath: freezer), "no v1 freezer")
        try "FROZEN".write(toFile: freezer, atomically: false, encoding: .utf8)
        let b = try TestBundle(args: ["true"])
        b.spec.linux?.cgroupsPath = "/\(victim.parent)/frozen"
        let r = try b.create()
        #expect(!r.ok && r.stderr.contains("unexpectedly frozen"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: b.swrunc.root + "/" + b.id))
        #expect(FileManager.default.fileExists(atPath: "/sys/fs/cgroup/pids/\(victim.parent)/frozen"), "removed a cgroup it did not create")
    }

    @Test func pathsThatResolveToAHierarchyRootAreRefused() throws {
        for path in ["/", "/a/../..", "//"] {
            let b = try TestBundle(args: ["true"])
            b.spec.linux?.cgroupsPath = path
            let r = try b.create()
            #expect(!r.ok && r.stderr.contains("resolves to the root of the cgroup hierarchy"), "\(path): \(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: b.swrunc.root + "/" + b.id))
        }
    }

    @Test func anEmptyExistingCgroupIsUsedButNotRemoved() throws {
        let victim = try Victim()
        defer { victim.cleanup() }
        for h in victim.hierarchies {
            try FileManager.default.createDirectory(atPath: "\(h)/\(victim.parent)/empty", withIntermediateDirectories: true)
        }
        let b = try TestBundle(args: ["sleep", "30"])
        b.spec.linux?.cgroupsPath = "/\(victim.parent)/empty"
        #expect(try b.run("-d").ok)
        let del = b.swrunc("delete", "--force", b.id)
        #expect(del.ok, "\(del.stderr)")
        for h in victim.hierarchies {
            #expect(FileManager.default.fileExists(atPath: "\(h)/\(victim.parent)/empty"), "\(h): removed a cgroup swrunc did not create")
        }
        // One it made itself goes.
        let c = try TestBundle(args: ["sleep", "30"])
        c.spec.linux?.cgroupsPath = "/\(victim.parent)/new"
        #expect(try c.run("-d").ok)
        #expect(c.swrunc("delete", "--force", c.id).ok)
        for h in victim.hierarchies {
            #expect(!FileManager.default.fileExists(atPath: "\(h)/\(victim.parent)/new"), "\(h): its own cgroup was left")
        }
        #expect(victim.alive && victim.inPlace)
    }

    @Test func deleteKillsOnlyTheContainersPidNamespace() throws {
        // A process moved into the container's cgroup from outside is not the container's.
        let b = try TestBundle(args: ["sleep", "30"])
        #expect(try b.run("-d").ok)
        let outsider = try Sleeper()
        defer { outsider.stop() }
        let dir = "/sys/fs/cgroup/pids/\(b.cgroupParent)/\(b.id)"
        try "\(outsider.pid)".write(toFile: dir + "/cgroup.procs", atomically: false, encoding: .utf8)
        b.swrunc("kill", "--all", b.id, "KILL")
        usleep(200_000)
        #expect(outsider.alive, "kill --all reached a process outside the container")
        let del = b.swrunc("delete", "--force", b.id)
        #expect(outsider.alive, "delete killed a process outside the container")
        // Its cgroup cannot go while the outsider is in it: delete says so and keeps the state.
        #expect(!del.ok && del.stderr.contains("remove cgroup"), "\(del.stderr)")
        outsider.stop()
        #expect(b.swrunc("delete", "--force", b.id).ok)
    }

    @Test func runcLeavesTheVictimAliveToo() throws {
        let runc = try #require(RuncCompatibilityTests.runc, "runc is installed by `make test`")
        let victim = try Victim()
        defer { victim.cleanup() }
        let b = try TestBundle(args: ["sleep", "30"])
        b.spec.linux?.cgroupsPath = "/\(victim.parent)/victim"
        try b.write()
        let root = b.swrunc.root + "-runc"
        defer { try? FileManager.default.removeItem(atPath: root) }
        _ = Swrunc.exec([runc, "--root", root, "create", "--bundle", b.dir, b.id])
        _ = Swrunc.exec([runc, "--root", root, "delete", "--force", b.id])
        #expect(victim.alive, "runc killed the victim")
    }
}
