import Foundation
import Testing
import OCI

@Suite("lifecycle: create, start, state, kill, delete, run")
struct LifecycleTests {
    @Test func runReturnsTheContainerExitStatus() throws {
        let b = try TestBundle(args: ["sh", "-c", "echo hello; exit 7"])
        let r = try b.run()
        #expect(r.status == 7)
        #expect(r.stdout == "hello\n")
        #expect(!FileManager.default.fileExists(atPath: b.swrunc.root + "/" + b.id), "run deletes the container")
    }

    @Test func runReportsDeathBySignalAs128PlusSignal() throws {
        // Not pid 1: the kernel protects a namespace's init from its own SIGKILL.
        let b = try TestBundle(args: ["sh", "-c", "kill -9 $$"])
        b.spec.linux?.namespaces?.removeAll { $0.type == "pid" }
        #expect(try b.run().status == 137)
    }

    @Test func createBlocksBeforeExecUntilStart() throws {
        let b = try TestBundle(args: ["sh", "-c", "echo started > /tmp/marker; sleep 60"])
        let pidFile = b.dir + "/init.pid"
        let c = try b.create("--pid-file", pidFile)
        #expect(c.ok, "\(c.stderr)")
        var st = try b.state()
        #expect(st["status"] as? String == "created")
        let pid = try #require(st["pid"] as? Int)
        #expect(try String(contentsOfFile: pidFile, encoding: .utf8) == String(pid))
        #expect(st["bundle"] as? String == b.dir)
        #expect(st["rootfs"] as? String == b.rootfs)
        #expect(st["ociVersion"] as? String != nil)
        #expect(st["created"] as? String != nil)
        // Blocked before execve: the user's program has not run.
        #expect(!FileManager.default.fileExists(atPath: b.rootfs + "/tmp/marker"))

        #expect(b.swrunc("start", b.id).ok)
        st = try b.state()
        #expect(st["status"] as? String == "running")
        var ran = false
        for _ in 0..<100 where !ran {
            ran = FileManager.default.fileExists(atPath: b.rootfs + "/tmp/marker")
            if !ran { usleep(20_000) }
        }
        #expect(ran)
        #expect(b.swrunc("start", b.id).stderr.contains("already running"))

        #expect(b.swrunc("kill", b.id, "KILL").ok)
        for _ in 0..<100 where (try b.state())["status"] as? String != "stopped" { usleep(20_000) }
        st = try b.state()
        #expect(st["status"] as? String == "stopped")
        #expect(b.swrunc("start", b.id).stderr.contains("stopped"))
        #expect(b.swrunc("delete", b.id).ok)
        #expect(!b.swrunc("state", b.id).ok)
        #expect(!FileManager.default.fileExists(atPath: "/sys/fs/cgroup/pids/\(b.cgroupParent)/\(b.id)"))
    }

    @Test func deleteRefusesARunningContainerUnlessForced() throws {
        let b = try TestBundle(args: ["sleep", "60"])
        #expect(try b.run("--detach").ok)
        let d = b.swrunc("delete", b.id)
        #expect(!d.ok)
        #expect(d.stderr.contains("not stopped"))
        #expect(b.swrunc("delete", "--force", b.id).ok)
        #expect(!b.swrunc("state", b.id).ok)
    }

    /// Signal 0 asks whether the container runs (runc and kill(1) take it): yes while it does,
    /// "container not running" after.
    @Test func signalZeroChecksTheContainerRuns() throws {
        let b = try TestBundle(args: ["sleep", "60"])
        defer { b.cleanup() }
        #expect(try b.run("--detach").ok)
        #expect(b.swrunc("kill", b.id, "0").ok)
        #expect(b.swrunc("kill", b.id, "KILL").ok)
        #expect(eventually { (try? b.state())?["status"] as? String == "stopped" })
        let r = b.swrunc("kill", b.id, "0")
        #expect(!r.ok && r.stderr.contains("container not running"), "\(r.stderr)")
    }

    @Test func deleteOfACreatedContainerKillsIt() throws {
        let b = try TestBundle(args: ["sleep", "60"])
        #expect(try b.create().ok)
        let pid = try #require(try b.state()["pid"] as? Int)
        #expect(b.swrunc("delete", b.id).ok)
        #expect(processGone(pid))
    }

    @Test func deleteForceOfAMissingContainerSucceeds() throws {
        let b = try TestBundle()
        #expect(b.swrunc("delete", "--force", "no-such-\(b.id)").ok)
        let d = b.swrunc("delete", "no-such-\(b.id)")
        #expect(!d.ok)
        #expect(d.stderr.contains("does not exist"))
    }

    @Test func killAcceptsNamesAndNumbers() throws {
        let b = try TestBundle(args: ["sh", "-c", "trap 'echo got-usr1 > /tmp/sig' USR1; while true; do sleep 0.1; done"])
        #expect(try b.run("--detach").ok)
        usleep(200_000)
        #expect(b.swrunc("kill", b.id, "SIGUSR1").ok)
        var seen = false
        for _ in 0..<100 where !seen {
            seen = (try? String(contentsOfFile: b.rootfs + "/tmp/sig", encoding: .utf8)) == "got-usr1\n"
            if !seen { usleep(20_000) }
        }
        #expect(seen)
        #expect(b.swrunc("kill", b.id, "9").ok)
        let bad = b.swrunc("kill", b.id, "SIGNOPE")
        #expect(!bad.ok)
        #expect(bad.stderr.contains("SIGNOPE"))
    }

    @Test func killAllSignalsEveryProcess() throws {
        let b = try TestBundle(args: ["sh", "-c", "sleep 60 & sleep 60 & wait"])
        #expect(try b.run("--detach").ok)
        usleep(200_000)
        let pids = try String(contentsOfFile: "/sys/fs/cgroup/pids/\(b.cgroupParent)/\(b.id)/cgroup.procs", encoding: .utf8)
        #expect(pids.split(separator: "\n").count == 3)
        #expect(b.swrunc("kill", "--all", b.id, "KILL").ok)
        var left = 3
        for _ in 0..<100 where left > 0 {
            left = ((try? String(contentsOfFile: "/sys/fs/cgroup/pids/\(b.cgroupParent)/\(b.id)/cgroup.procs", encoding: .utf8)) ?? "")
                .split(separator: "\n").count
            if left > 0 { usleep(20_000) }
        }
        #expect(left == 0)
    }

    /// Without a pid namespace of its own, SIGKILL to the container reaches every process in
    /// its cgroup (exec'd ones too), even once the init is gone — runc's rule.
    @Test(arguments: [false, true])
    func sigkillWithoutAPidNamespaceKillsEveryProcess(initGone: Bool) throws {
        let b = try TestBundle(args: ["sleep", "60"])
        defer { b.cleanup() }
        b.spec.linux?.namespaces?.removeAll { $0.type == "pid" }
        #expect(try b.run("-d").ok)
        for _ in 0..<3 { #expect(b.swrunc("exec", "-d", b.id, "sleep", "60").ok) }
        let procs = "/sys/fs/cgroup/pids/\(b.cgroupParent)/\(b.id)/cgroup.procs"
        func members() -> [Int32] {
            ((try? String(contentsOfFile: procs, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { Int32($0) }
        }
        #expect(members().count == 4)
        if initGone {
            let pid = try #require(try b.state()["pid"] as? Int)
            kill(pid_t(pid), SIGKILL)
            #expect(eventually { processGone(pid) })
        }
        let k = b.swrunc("kill", b.id, "KILL")
        #expect(k.ok, "\(k.stderr)")
        #expect(eventually { members().isEmpty }, "left: \(members())")
        #expect(!b.swrunc("kill", b.id, "KILL").ok, "nothing left: container not running")
    }

    /// A created container's init ends on SIGTERM (it would ignore it as its namespace's init
    /// without a handler); runc's does the same.
    @Test func aCreatedContainerEndsOnSIGTERM() throws {
        let b = try TestBundle(args: ["sleep", "60"])
        defer { b.cleanup() }
        #expect(try b.create().ok)
        #expect(b.swrunc("kill", b.id, "TERM").ok)
        #expect(eventually { (try? b.state()["status"] as? String) == "stopped" })
    }

    @Test func statusComesFromTheLiveProcessAndItsStartTime() throws {
        let b = try TestBundle(args: ["sleep", "60"])
        #expect(try b.run("--detach").ok)
        #expect(try b.state()["status"] as? String == "running")
        // Pretend the recorded init started at another time: a recycled pid is not the container.
        let path = b.swrunc.root + "/" + b.id + "/state.json"
        var record = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        record["pidStartTime"] = 1
        try JSONSerialization.data(withJSONObject: record).write(to: URL(fileURLWithPath: path))
        #expect(try b.state()["status"] as? String == "stopped")
    }

    @Test func listShowsContainersAsTableJsonAndIds() throws {
        let b = try TestBundle(args: ["sleep", "60"])
        #expect(try b.run("--detach").ok)
        let table = b.swrunc("list")
        #expect(table.stdout.hasPrefix("ID"))
        #expect(table.stdout.contains(b.id) && table.stdout.contains("running"))
        let json = b.swrunc("list", "--format", "json")
        let arr = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(arr.first?["id"] as? String == b.id)
        #expect(arr.first?["status"] as? String == "running")
        #expect(b.swrunc("list", "-q").stdout == b.id + "\n")
    }

    @Test func runDetachedLeavesItRunning() throws {
        let b = try TestBundle(args: ["sleep", "60"])
        #expect(try b.run("-d").ok)
        #expect(try b.state()["status"] as? String == "running")
    }

    @Test func runKeepLeavesTheStoppedContainer() throws {
        let b = try TestBundle(args: ["true"])
        #expect(try b.run("--keep").ok)
        #expect(try b.state()["status"] as? String == "stopped")
        #expect(b.swrunc("delete", b.id).ok)
    }

    @Test func noPivotUsesChroot() throws {
        let b = try TestBundle(args: ["sh", "-c", "ls /; cat /proc/self/mountinfo | wc -l"])
        let r = try b.run("--no-pivot")
        #expect(r.ok, "\(r.stderr)")
        #expect(r.stdout.contains("bin"))
    }

    @Test func containerIsInItsCgroupAndTheCgroupIsRemoved() throws {
        let b = try TestBundle(args: ["cat", "/proc/self/cgroup"])
        b.spec.linux?.namespaces?.removeAll { $0.type == "cgroup" }
        let r = try b.run()
        #expect(r.ok, "\(r.stderr)")
        #expect(r.stdout.contains(":pids:/\(b.cgroupParent)/\(b.id)"))
        #expect(r.stdout.contains(":memory:/\(b.cgroupParent)/\(b.id)"))
        #expect(!FileManager.default.fileExists(atPath: "/sys/fs/cgroup/memory/\(b.cgroupParent)/\(b.id)"))
    }
}
