import Foundation
import Testing
import OCI
import CShim

@Suite("seccomp: libseccomp filters, errno, conditions, actions, notify, loaded last")
struct SeccompTests {
    func bundle(_ name: String = #function, script: String, _ profile: Seccomp) throws -> TestBundle {
        let b = try TestBundle(name, args: ["sh", "-c", script])
        b.spec.linux?.seccomp = profile
        return b
    }

    @Test func deniedSyscallReturnsTheConfiguredErrno() throws {
        let b = try bundle(script: "mkdir /tmp/x 2>&1; grep Seccomp: /proc/self/status",
                           Seccomp(defaultAction: "SCMP_ACT_ALLOW", syscalls: [
                               SeccompSyscall(names: ["mkdir", "mkdirat", "not_a_real_syscall"], action: "SCMP_ACT_ERRNO", errnoRet: UInt32(EXDEV)),
                           ]))
        let r = try b.run()
        #expect(r.stdout.contains("Invalid cross-device link"), "\(r.stdout) \(r.stderr)")
        #expect(r.stdout.contains("Seccomp:\t2"))
    }

    /// The second container with the same profile loads the cached program: same behaviour, and
    /// a changed profile is a different entry (never a stale filter).
    @Test func compiledFiltersAreCachedByProfile() throws {
        let profile = Seccomp(defaultAction: "SCMP_ACT_ALLOW", syscalls: [
            SeccompSyscall(names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: UInt32(EXDEV)),
        ])
        let b = try bundle(script: "mkdir /tmp/x 2>&1; grep Seccomp: /proc/self/status", profile)
        let cache = b.swrunc.root + "/@seccomp-cache"
        for round in 0..<2 {
            let r = try b.run()
            #expect(r.stdout.contains("Invalid cross-device link") && r.stdout.contains("Seccomp:\t2"),
                    "round \(round): \(r.stdout) \(r.stderr)")
            #expect(((try? FileManager.default.contentsOfDirectory(atPath: cache)) ?? []).count == 1)
            b.swrunc("delete", "--force", b.id)
        }
        #expect(!(b.swrunc("list", "-q").stdout.contains("seccomp")), "the cache is not listed as a container")
        var changed = profile
        changed.syscalls?[0].errnoRet = UInt32(EACCES)
        b.spec.linux?.seccomp = changed
        let r = try b.run()
        #expect(r.stdout.contains("Permission denied"), "\(r.stdout) \(r.stderr)")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: cache)) ?? []).count == 2)
    }

    @Test func argumentConditionsIncludingMaskedEquality() throws {
        let setuidBit: UInt64 = 0o4000
        let b = try bundle(script: "touch /tmp/f; chmod 4755 /tmp/f 2>/dev/null && echo setuid-allowed || echo setuid-denied; chmod 755 /tmp/f && echo plain-allowed; kill -USR1 $$ 2>/dev/null || echo usr1-denied; kill -0 $$ && echo sig0-allowed",
                           Seccomp(defaultAction: "SCMP_ACT_ALLOW", syscalls: [
                               SeccompSyscall(names: ["chmod"], action: "SCMP_ACT_ERRNO",
                                              args: [SeccompArg(index: 1, value: setuidBit, valueTwo: setuidBit, op: "SCMP_CMP_MASKED_EQ")]),
                               SeccompSyscall(names: ["fchmodat"], action: "SCMP_ACT_ERRNO",
                                              args: [SeccompArg(index: 2, value: setuidBit, valueTwo: setuidBit, op: "SCMP_CMP_MASKED_EQ")]),
                               SeccompSyscall(names: ["kill"], action: "SCMP_ACT_ERRNO",
                                              args: [SeccompArg(index: 1, value: UInt64(SIGUSR1), op: "SCMP_CMP_EQ")]),
                           ]))
        let r = try b.run()
        #expect(r.stdout == "setuid-denied\nplain-allowed\nusr1-denied\nsig0-allowed\n", "\(r.stdout) \(r.stderr)")
    }

    @Test func killProcessAction() throws {
        let b = try bundle(script: "mkdir /tmp/y; echo mkdir-exit $?",
                           Seccomp(defaultAction: "SCMP_ACT_ALLOW", syscalls: [
                               SeccompSyscall(names: ["mkdir", "mkdirat"], action: "SCMP_ACT_KILL_PROCESS"),
                           ]))
        let r = try b.run()
        // busybox runs mkdir in a child process: that process dies of SIGSYS.
        #expect(r.stdout == "mkdir-exit \(128 + SIGSYS)\n", "\(r.stdout) \(r.stderr)")
    }

    @Test func filterIsLoadedLastJustBeforeExec() throws {
        // capset and setresuid are what the runtime itself needs to finish setting up; the
        // profile denies them, which only works because the filter goes on last.
        let b = try bundle(script: "id -u; grep Seccomp: /proc/self/status",
                           Seccomp(defaultAction: "SCMP_ACT_ALLOW", syscalls: [
                               SeccompSyscall(names: ["capset", "setresuid", "setgroups", "chdir"], action: "SCMP_ACT_ERRNO"),
                           ]))
        b.spec.process?.noNewPrivileges = true
        b.spec.process?.user = User(uid: 1000, gid: 1000)
        let r = try b.run()
        #expect(r.ok, "\(r.stderr)")
        #expect(r.stdout == "1000\nSeccomp:\t2\n")
    }

    @Test func execGetsTheContainersFilter() throws {
        let b = try bundle(script: "sleep 60", Seccomp(defaultAction: "SCMP_ACT_ALLOW", syscalls: [
            SeccompSyscall(names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: UInt32(EXDEV)),
        ]))
        #expect(try b.run("-d").ok)
        let r = b.swrunc("exec", b.id, "sh", "-c", "mkdir /tmp/z 2>&1")
        #expect(r.stdout.contains("Invalid cross-device link"), "\(r.stdout) \(r.stderr)")
    }

    @Test func invalidProfileIsAnErrorNamingTheField() throws {
        let b = try bundle(script: "true", Seccomp(defaultAction: "SCMP_ACT_ALLOW", syscalls: [
            SeccompSyscall(names: ["mkdir"], action: "SCMP_ACT_EXPLODE"),
        ]))
        let r = try b.create()
        #expect(!r.ok && r.stderr.contains("linux.seccomp.syscalls[0].action: unknown seccomp action \"SCMP_ACT_EXPLODE\""), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: b.swrunc.root + "/" + b.id))
        b.spec.linux?.seccomp = Seccomp(defaultAction: "SCMP_ACT_ALLOW", syscalls: [
            SeccompSyscall(names: ["mkdir"], action: "SCMP_ACT_ERRNO", args: [SeccompArg(index: 0, value: 1, op: "SCMP_CMP_ALMOST")]),
        ])
        let r2 = try b.create()
        #expect(!r2.ok && r2.stderr.contains("linux.seccomp.syscalls[0].args[0].op"), "\(r2.stderr)")
        var arch = Seccomp(defaultAction: "SCMP_ACT_ALLOW")
        arch.architectures = ["SCMP_ARCH_Z80"]
        b.spec.linux?.seccomp = arch
        let r3 = try b.create()
        #expect(!r3.ok && r3.stderr.contains("linux.seccomp.architectures[0]"), "\(r3.stderr)")
    }

    @Test func notifyAgentReceivesTheFdAndTheState() throws {
        let b = try bundle(script: "mkdir /tmp/n 2>&1; echo after",
                           Seccomp(defaultAction: "SCMP_ACT_ALLOW", syscalls: [
                               SeccompSyscall(names: ["mkdir", "mkdirat"], action: "SCMP_ACT_NOTIFY"),
                           ]))
        let socketPath = b.dir + "/agent.sock"
        b.spec.linux?.seccomp?.listenerPath = socketPath
        b.spec.linux?.seccomp?.listenerMetadata = "hello-agent"
        let agent = try ConsoleListener(path: socketPath)
        defer { agent.close() }
        let c = try b.create()
        #expect(c.ok, "\(c.stderr)")
        let conn = accept(agent.fd, nil, nil)
        try #require(conn >= 0)
        defer { close(conn) }
        var buf = [UInt8](repeating: 0, count: 8192)
        var fd: Int32 = -1
        let n = buf.withUnsafeMutableBytes { cshim_recv_msg(conn, $0.baseAddress, $0.count, &fd) }
        #expect(fd >= 0, "no notify fd received")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(buf[0..<max(n, 0)])) as? [String: Any])
        #expect(json["fds"] as? [String] == ["seccompFd"])
        #expect(json["metadata"] as? String == "hello-agent")
        #expect((json["state"] as? [String: Any])?["id"] as? String == b.id)
        #expect(json["pid"] as? Int == (try b.state()["pid"] as? Int))
        var st = stat()
        #expect(fstat(fd, &st) == 0)
        // Closing the agent's fd makes pending and future notified syscalls fail (ENOSYS).
        close(fd)
        #expect(b.swrunc("start", b.id).ok)
        #expect(eventually { (try? b.state()["status"] as? String) == "stopped" })
    }
}

@Suite("seccomp: a real-world profile")
struct SeccompProfileTests {
    @Test func podmansDefaultProfileLoadsAndItsDefaultErrnoApplies() throws {
        let profile = "/usr/share/containers/seccomp.json"
        try #require(FileManager.default.fileExists(atPath: profile), "make test installs golang-github-containers-common")
        let converted = Swrunc.exec(["/usr/bin/env", "python3", Swrunc.packageRoot + "/bench/oci-seccomp.py", profile])
        try #require(converted.ok, "\(converted.stderr)")
        var seccomp = try JSONDecoder().decode(Seccomp.self, from: Data(converted.stdout.utf8))
        #expect((seccomp.syscalls ?? []).flatMap(\.names).count > 300)
        #expect(seccomp.defaultAction == "SCMP_ACT_ERRNO")
        // Take mkdir out of every rule: the default action, with its errno, must answer it.
        seccomp.syscalls = seccomp.syscalls?.map { rule in
            var r = rule
            r.names.removeAll { $0 == "mkdir" || $0 == "mkdirat" }
            return r
        }.filter { !$0.names.isEmpty }
        seccomp.defaultErrnoRet = UInt32(EXDEV)
        let b = try TestBundle(args: ["sh", "-c", "mkdir /tmp/q 2>&1; echo still-running"])
        b.spec.linux?.seccomp = seccomp
        let r = try b.run()
        #expect(r.ok, "\(r.stderr)")
        #expect(r.stdout.contains("Invalid cross-device link") && r.stdout.contains("still-running"), "\(r.stdout)")
    }
}

@Suite("seccomp: runc's refinements — the -ENOSYS stub, flags, exec notify, startContainer hooks")
struct SeccompRuncParityTests {
    func bundle(_ name: String = #function, args: [String], _ profile: Seccomp) throws -> TestBundle {
        let b = try TestBundle(name, args: args)
        b.spec.linux?.seccomp = profile
        return b
    }

    /// A syscall numbered above every one the profile names gets ENOSYS (libc then falls back);
    /// one the profile leaves out below that still gets the default errno.
    @Test func syscallsNewerThanTheProfileGetENOSYS() throws {
        var profile = Seccomp(defaultAction: "SCMP_ACT_ERRNO", syscalls: [
            SeccompSyscall(names: ["read", "write", "exit", "exit_group", "brk", "arch_prctl", "set_tid_address",
                                   "rt_sigprocmask", "execve", "mmap", "munmap", "uname", "readlink", "openat",
                                   "close", "fstat", "newfstatat", "prlimit64", "set_robust_list", "rseq",
                                   "getrandom", "mprotect", "futex", "ioctl"], action: "SCMP_ACT_ALLOW"),
        ])
        profile.defaultErrnoRet = UInt32(EXDEV)
        let b = try bundle(args: ["/probe"], profile)
        defer { b.cleanup() }
        let source = b.dir + "/probe.c"
        try """
        #include <errno.h>
        #include <stdio.h>
        #include <unistd.h>
        #include <sys/syscall.h>
        int main(void) {
            long a = syscall(1000, 0, 0, 0); int ea = errno;
            long b = syscall(SYS_getppid); int eb = errno;
            printf("%ld %d %ld %d\\n", a, ea, b, eb);
            return 0;
        }
        """.write(toFile: source, atomically: true, encoding: .utf8)
        let cc = Swrunc.exec(["/usr/bin/gcc", "-static", "-O1", "-o", b.rootfs + "/probe", source])
        try #require(cc.ok, "gcc: \(cc.stderr)")
        let r = try b.run()
        #expect(r.ok, "\(r.stderr)")
        #expect(r.stdout == "-1 \(ENOSYS) -1 \(EXDEV)\n", "\(r.stdout)")
    }

    @Test func flagsAreLoadedAsAskedAndLogged() throws {
        var profile = Seccomp(defaultAction: "SCMP_ACT_ALLOW", syscalls: [
            SeccompSyscall(names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO"),
        ])
        profile.flags = ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"]
        let b = try bundle(args: ["sh", "-c", "mkdir /tmp/x 2>/dev/null || echo denied"], profile)
        defer { b.cleanup() }
        try b.write()
        let r = b.swrunc.run(["--root", b.swrunc.root, "--debug", "run", "--bundle", b.dir, b.id])
        #expect(r.ok && r.stdout == "denied\n", "\(r.stderr)")
        #expect(r.stderr.contains("seccomp filter flags: 6"), "\(r.stderr)")
        // No flags at all: SPEC_ALLOW (runc's default); TSYNC is accepted and not used.
        for (flags, expected) in [(nil, 4), (["SECCOMP_FILTER_FLAG_TSYNC"], 0)] as [([String]?, Int)] {
            b.swrunc("delete", "--force", b.id)
            b.spec.linux?.seccomp?.flags = flags
            try b.write()
            let again = b.swrunc.run(["--root", b.swrunc.root, "--debug", "run", "--bundle", b.dir, b.id])
            #expect(again.ok && again.stderr.contains("seccomp filter flags: \(expected)\""), "\(again.stderr)")
        }
    }

    /// Notifying on write(2) would have the runtime wait on its own writes: refused up front.
    @Test func notifyOnWriteIsRefused() throws {
        var profile = Seccomp(defaultAction: "SCMP_ACT_ALLOW", syscalls: [
            SeccompSyscall(names: ["write"], action: "SCMP_ACT_NOTIFY"),
        ])
        profile.listenerPath = "/tmp/nobody-listens.sock"
        let b = try bundle(args: ["true"], profile)
        defer { b.cleanup() }
        let r = try b.create()
        #expect(!r.ok && r.stderr.contains("SCMP_ACT_NOTIFY cannot be used for the write syscall"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: b.swrunc.root + "/" + b.id))
    }

    /// A startContainer hook runs under the container's filter, as under runc.
    @Test func startContainerHooksRunUnderTheFilter() throws {
        let b = try bundle(args: ["true"], Seccomp(defaultAction: "SCMP_ACT_ALLOW", syscalls: [
            SeccompSyscall(names: ["mkdir", "mkdirat"], action: "SCMP_ACT_KILL"),
        ]))
        defer { b.cleanup() }
        b.spec.hooks = Hooks(startContainer: [Hook(path: "/bin/sh", args: ["sh", "-c", "mkdir /tmp/hooked"])])
        let r = try b.run()
        #expect(!r.ok)
        #expect(r.stderr.contains("error running startContainer hook") && r.stderr.contains("bad system call"), "\(r.stderr)")
    }

    /// An exec'd process under a notifying filter: the agent gets its fd too, with its pid.
    @Test func execSendsItsNotifyFdToTheAgent() throws {
        var profile = Seccomp(defaultAction: "SCMP_ACT_ALLOW", syscalls: [
            SeccompSyscall(names: ["mkdir", "mkdirat"], action: "SCMP_ACT_NOTIFY"),
        ])
        let b = try bundle(args: ["sleep", "60"], profile)
        defer { b.cleanup() }
        let socketPath = b.dir + "/agent.sock"
        profile.listenerPath = socketPath
        b.spec.linux?.seccomp = profile
        let agent = try ConsoleListener(path: socketPath)
        defer { agent.close() }
        #expect(try b.run("-d").ok)
        let first = try agent.acceptFD()
        close(first.fd)
        let e = b.swrunc("exec", "-d", "--pid-file", b.dir + "/exec.pid", b.id, "sleep", "30")
        #expect(e.ok, "\(e.stderr)")
        let second = try agent.acceptFD()
        defer { close(second.fd) }
        let json = try #require(try JSONSerialization.jsonObject(with: Data(second.name.utf8)) as? [String: Any])
        let pid = Int(try String(contentsOfFile: b.dir + "/exec.pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(json["pid"] as? Int == pid)
        #expect((json["state"] as? [String: Any])?["status"] as? String == "running")
    }
}
