import Foundation
import Testing
import OCI

@Suite("exec: a new process in a running container")
struct ExecTests {
    func running(_ name: String = #function, configure: (TestBundle) -> Void = { _ in }) throws -> TestBundle {
        let b = try TestBundle(name, args: ["sleep", "60"])
        b.spec.hostname = "exec-target"
        configure(b)
        let r = try b.run("-d")
        try #require(r.ok, "\(r.stderr)")
        return b
    }

    @Test func joinsEveryNamespaceAndReturnsTheExitStatus() throws {
        let b = try running()
        let pid = try #require(try b.state()["pid"] as? Int)
        let r = b.swrunc("exec", b.id, "sh", "-c", "hostname; echo $$; for n in mnt net pid; do readlink /proc/self/ns/$n; done; exit 9")
        #expect(r.status == 9, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "exec-target")
        #expect(lines.dropFirst().first != "1" && lines.dropFirst().first.flatMap { Int($0) } != nil)
        for (i, ns) in ["mnt", "net", "pid"].enumerated() {
            let want = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/\(ns)")
            #expect(lines.dropFirst(2 + i).first == want, "\(ns)")
        }
    }

    @Test func runsInTheContainersCgroup() throws {
        let b = try running()
        let r = b.swrunc("exec", b.id, "cat", "/proc/self/cgroup")
        #expect(r.stdout.contains(":pids:/\(b.cgroupParent)/\(b.id)"), "\(r.stdout) \(r.stderr)")
    }

    @Test func userCwdEnvAndCapabilityOverrides() throws {
        let b = try running()
        let r = b.swrunc("exec", "--user", "1000:1000", "-g", "5", "--cwd", "/tmp", "--env", "FOO=bar", "--cap", "CAP_SYS_ADMIN",
                         b.id, "sh", "-c", "id; pwd; echo $FOO; grep CapBnd /proc/self/status")
        #expect(r.ok, "\(r.stderr)")
        #expect(r.stdout.contains("uid=1000 gid=1000 groups=5"))
        #expect(r.stdout.contains("/tmp\nbar\n"))
        #expect(r.stdout.contains("CapBnd:\t00000000202004"), "CAP_SYS_ADMIN (bit 21) added to the bounding set")
    }

    @Test func processJSON() throws {
        let b = try running()
        var p = OCI.Process(user: User(uid: 0, gid: 0), args: ["sh", "-c", "echo $X; pwd"], env: ["PATH=/bin", "X=from-json"], cwd: "/etc")
        p.noNewPrivileges = true
        let file = b.dir + "/process.json"
        try JSONEncoder().encode(p).write(to: URL(fileURLWithPath: file))
        let r = b.swrunc("exec", "--process", file, b.id)
        #expect(r.stdout == "from-json\n/etc\n", "\(r.stderr)")
        try #"{"user":{"uid":0,"gid":0},"cwd":"relative","args":["true"]}"#.write(toFile: file, atomically: true, encoding: .utf8)
        let bad = b.swrunc("exec", "--process", file, b.id)
        #expect(!bad.ok && bad.stderr.contains("process.cwd"))
    }

    @Test func detachedWithPidFile() throws {
        let b = try running()
        let pidFile = b.dir + "/exec.pid"
        let r = b.swrunc("exec", "-d", "--pid-file", pidFile, b.id, "sleep", "30")
        #expect(r.ok, "\(r.stderr)")
        let pid = try #require(Int(try String(contentsOfFile: pidFile, encoding: .utf8)))
        let cmd = try String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)
        #expect(cmd.hasPrefix("sleep"))
        let procs = try String(contentsOfFile: "/sys/fs/cgroup/pids/\(b.cgroupParent)/\(b.id)/cgroup.procs", encoding: .utf8)
        #expect(procs.split(separator: "\n").contains(Substring(String(pid))))
    }

    @Test func ttyThroughConsoleSocketAndThroughTheProxy() throws {
        let b = try running()
        let socketPath = b.dir + "/exec-console.sock"
        let listener = try ConsoleListener(path: socketPath)
        defer { listener.close() }
        let r = b.swrunc("exec", "-d", "-t", "--console-socket", socketPath, b.id, "sh", "-c", "tty; sleep 1")
        #expect(r.ok, "\(r.stderr)")
        let master = try listener.acceptMaster()
        defer { close(master) }
        var buf = [UInt8](repeating: 0, count: 256)
        var pfd = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
        #expect(poll(&pfd, 1, 3000) == 1)
        let n = read(master, &buf, buf.count)
        #expect(String(decoding: buf[0..<max(n, 0)], as: UTF8.self).contains("/dev/pts/"))
        let proxied = Swrunc.exec([Swrunc.binary, "--root", b.swrunc.root, "exec", "-t", b.id, "sh", "-c", "tty"])
        #expect(proxied.ok && proxied.stdout.contains("/dev/pts/"), "\(proxied.stderr)")
    }

    @Test func execIntoAUserNamespacedContainer() throws {
        let b = try running { b in
            b.spec.linux?.namespaces?.append(Namespace(type: "user"))
            b.spec.linux?.uidMappings = [IDMapping(containerID: 0, hostID: 300000, size: 65536)]
            b.spec.linux?.gidMappings = [IDMapping(containerID: 0, hostID: 300000, size: 65536)]
            try? chownTree(b.rootfs, uid: 300000, gid: 300000)
        }
        let r = b.swrunc("exec", b.id, "sh", "-c", "id -u; cat /proc/self/uid_map")
        #expect(r.ok, "\(r.stderr)")
        #expect(r.stdout.contains("0\n") && r.stdout.contains("300000"))
    }

    @Test func noHostFdsLeakIntoExec() throws {
        let b = try running()
        let r = Swrunc.sh("exec 6</etc/hostname; \(Swrunc.binary) --root \(b.swrunc.root) exec -d --pid-file \(b.dir)/e.pid \(b.id) sleep 30")
        #expect(r.ok, "\(r.stderr)")
        let pid = try #require(Int(try String(contentsOfFile: b.dir + "/e.pid", encoding: .utf8)))
        let fds = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").compactMap { Int($0) }.sorted()
        #expect(fds == [0, 1, 2])
    }

    /// `--cgroup controller[,controller]:path` on v1, a plain path for all; climbing out is refused.
    @Test func subCgroupsByController() throws {
        let b = try running()
        let base = "/sys/fs/cgroup/pids/\(b.cgroupParent)/\(b.id)"
        try FileManager.default.createDirectory(atPath: base + "/sub", withIntermediateDirectories: false)
        let r = b.swrunc("exec", "--cgroup", "pids:sub", b.id, "cat", "/proc/self/cgroup")
        #expect(r.ok, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.contains { $0.hasSuffix(":pids:/\(b.cgroupParent)/\(b.id)/sub") })
        #expect(lines.contains { $0.hasSuffix(":memory:/\(b.cgroupParent)/\(b.id)") })
        let up = b.swrunc("exec", "--cgroup", "..", b.id, "true")
        #expect(up.status == 255 && up.stderr.contains("bad sub cgroup path"))
        let unknown = b.swrunc("exec", "--cgroup", "whaaat:/", b.id, "true")
        #expect(!unknown.ok && unknown.stderr.contains("unknown controller whaaat"))
        let missing = b.swrunc("exec", "--cgroup", "pids:nonexistent", b.id, "true")
        #expect(!missing.ok && missing.stderr.contains("adding pid"), "\(missing.stderr)")
        let twice = b.swrunc("exec", "--cgroup", "pids:a", "--cgroup", "pids:b", b.id, "true")
        #expect(!twice.ok && twice.stderr.contains("specified multiple times"))
    }

    @Test func errors() throws {
        let b = try TestBundle(args: ["true"])
        #expect(try b.run("--keep").ok)
        let stopped = b.swrunc("exec", b.id, "true")
        #expect(!stopped.ok && stopped.stderr.contains("stopped"))
        let missing = b.swrunc("exec", "ghost-\(b.id)", "true")
        #expect(!missing.ok && missing.stderr.contains("does not exist"))
        let r = try running()
        let label = r.swrunc("exec", "--process-label", "system_u:system_r:container_t:s0", r.id, "true")
        #expect(!label.ok && label.stderr.contains("SELinux"))
        let notFound = r.swrunc("exec", r.id, "no-such-cmd")
        #expect(!notFound.ok && notFound.stderr.contains("executable file not found"))
        // runc's convention: exec's own failures are 255, leaving 1…254 to the process.
        #expect(notFound.status == 255 && missing.status == 255 && stopped.status == 255)
        #expect(r.swrunc("exec", r.id, "sh", "-c", "exit 42").status == 42)
    }
}
