import Foundation
import Testing
import OCI
import CShim

@Suite("process: args, env, cwd, user, umask, rlimits, capabilities, no_new_privs, oom, terminal, fds")
struct ProcessTests {
    @Test func envCwdAndHome() throws {
        let b = try TestBundle(args: ["sh", "-c", "pwd; echo $FOO; echo $HOME; echo $PATH"])
        b.spec.process?.env = ["PATH=/bin", "FOO=bar baz"]
        b.spec.process?.cwd = "/work/dir"
        let r = try b.run()
        #expect(r.stdout == "/work/dir\nbar baz\n/root\n/bin\n", "\(r.stderr)")
    }

    /// runc's environment: a duplicate keeps its first place and its last value; an empty HOME
    /// comes from /etc/passwd.
    @Test func duplicateVariablesAndEmptyHome() throws {
        let b = try TestBundle(args: ["env"])
        defer { b.cleanup() }
        b.spec.process?.env = ["A=1", "PATH=/bin", "HOME=", "A=2", "B=x"]
        let r = try b.run()
        #expect(r.ok, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").filter { ["A", "PATH", "HOME", "B"].contains($0.prefix { $0 != "=" }) }
        #expect(lines == ["A=2", "PATH=/bin", "HOME=/root", "B=x"], "\(r.stdout)")
    }

    /// A working directory only root may enter works for another user: entered before the
    /// switch (runc's order).
    @Test func cwdOnlyRootMayEnter() throws {
        let b = try TestBundle(args: ["sh", "-c", "pwd; id -u"])
        defer { b.cleanup() }
        try FileManager.default.createDirectory(atPath: b.rootfs + "/secret", withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        b.spec.process?.cwd = "/secret"
        b.spec.process?.user = User(uid: 1000, gid: 1000)
        let r = try b.run()
        #expect(r.ok, "\(r.stderr)")
        #expect(r.stdout == "/secret\n1000\n", "\(r.stdout)")
    }

    @Test func userGroupsAndUmask() throws {
        let b = try TestBundle(args: ["sh", "-c", "id -u; id -g; cat /proc/self/status | grep ^Groups; umask; touch /tmp/f; stat -c %a /tmp/f"])
        b.spec.process?.user = User(uid: 1000, gid: 1001, umask: 0o027, additionalGids: [5, 1002])
        b.spec.process?.cwd = "/tmp"
        chmod(b.rootfs + "/tmp", 0o1777)
        let r = try b.run()
        #expect(r.ok, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 5)
        #expect(lines.first == "1000")
        #expect(lines.dropFirst().first == "1001")
        #expect(lines.dropFirst(2).first?.split(separator: "\t").last?.trimmingCharacters(in: .whitespaces) == "5 1002")
        #expect(lines.dropFirst(3).first == "0027")
        #expect(lines.last == "640")
    }

    @Test func rlimits() throws {
        let b = try TestBundle(args: ["sh", "-c", "grep -E 'open files|processes' /proc/self/limits"])
        b.spec.process?.rlimits = [Rlimit(type: "RLIMIT_NOFILE", hard: 512, soft: 256),
                                   Rlimit(type: "RLIMIT_NPROC", hard: 300, soft: 200)]
        let r = try b.run()
        #expect(r.ok, "\(r.stderr)")
        let nofile = r.stdout.split(separator: "\n").first { $0.hasPrefix("Max open files") } ?? ""
        #expect(nofile.split(separator: " ", omittingEmptySubsequences: true).dropFirst(3).prefix(2) == ["256", "512"])
        let nproc = r.stdout.split(separator: "\n").first { $0.hasPrefix("Max processes") } ?? ""
        #expect(nproc.split(separator: " ", omittingEmptySubsequences: true).dropFirst(2).prefix(2) == ["200", "300"])
    }

    @Test func capabilitiesInAllFiveSets() throws {
        let b = try TestBundle(args: ["sh", "-c", "grep ^Cap /proc/self/status"])
        let caps = ["CAP_CHOWN", "CAP_NET_RAW", "CAP_KILL"]
        b.spec.process?.capabilities = Capabilities(
            bounding: caps + ["CAP_SYS_ADMIN"], effective: caps, inheritable: ["CAP_KILL", "CAP_NET_RAW"],
            permitted: caps, ambient: ["CAP_KILL", "CAP_NOT_A_REAL_ONE"])
        let r = try b.run()
        #expect(r.ok, "\(r.stderr)")
        func mask(_ names: [String]) -> String {
            var bits: UInt64 = 0
            for n in names { bits |= 1 << UInt64(KnownNames.capabilities.firstIndex(of: n)!) }
            let hex = String(bits, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }
        #expect(r.stdout.contains("CapBnd:\t\(mask(caps + ["CAP_SYS_ADMIN"]))"))
        #expect(r.stdout.contains("CapEff:\t\(mask(caps))"))
        #expect(r.stdout.contains("CapPrm:\t\(mask(caps))"))
        #expect(r.stdout.contains("CapInh:\t\(mask(["CAP_KILL", "CAP_NET_RAW"]))"))
        #expect(r.stdout.contains("CapAmb:\t\(mask(["CAP_KILL"]))"))
    }

    @Test func noNewPrivilegesAndOomScoreAdj() throws {
        let b = try TestBundle(args: ["sh", "-c", "grep NoNewPrivs /proc/self/status; cat /proc/self/oom_score_adj"])
        b.spec.process?.noNewPrivileges = true
        b.spec.process?.oomScoreAdj = 500
        let r = try b.run()
        #expect(r.stdout == "NoNewPrivs:\t1\n500\n", "\(r.stderr)")
        b.spec.process?.noNewPrivileges = false
        b.spec.process?.oomScoreAdj = nil
        let r2 = try b.run()
        #expect(r2.stdout.hasPrefix("NoNewPrivs:\t0\n"), "\(r2.stderr)")
    }

    /// The fds of the detached container's init, read from the host.
    func initFDs(_ b: TestBundle) throws -> [Int] {
        let pid = try #require(try b.state()["pid"] as? Int)
        return try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").compactMap { Int($0) }.sorted()
    }

    @Test func noHostFileDescriptorReachesTheContainer() throws {
        let b = try TestBundle(args: ["sleep", "60"])
        try b.write()
        // The caller has fds 5 and 7 open (not CLOEXEC): they must not leak in.
        let r = Swrunc.sh("exec 5</etc/hostname 7</etc/passwd; \(Swrunc.binary) --root \(b.swrunc.root) run -d --bundle \(b.dir) \(b.id)")
        #expect(r.ok, "\(r.stderr)")
        #expect(try initFDs(b) == [0, 1, 2])
    }

    @Test func preserveFdsPassesExactlyThoseFds() throws {
        let b = try TestBundle(args: ["sleep", "60"])
        try b.write()
        let r = Swrunc.sh("exec 3</etc/hostname 4</etc/passwd; \(Swrunc.binary) --root \(b.swrunc.root) run -d --preserve-fds 1 --bundle \(b.dir) \(b.id)")
        #expect(r.ok, "\(r.stderr)")
        #expect(try initFDs(b) == [0, 1, 2, 3])
        let pid = try #require(try b.state()["pid"] as? Int)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/3") == "/etc/hostname")
    }

    @Test func listenFdsAreForwarded() throws {
        let b = try TestBundle(args: ["sh", "-c", "echo $LISTEN_FDS $LISTEN_PID; cat <&3"])
        try b.write()
        try "socket-ish".write(toFile: b.dir + "/fd3", atomically: true, encoding: .utf8)
        let r = Swrunc.sh("exec 3<\(b.dir)/fd3; LISTEN_FDS=1 \(Swrunc.binary) --root \(b.swrunc.root) run --bundle \(b.dir) \(b.id)")
        #expect(r.stdout == "1 1\nsocket-ish", "\(r.stderr)")
    }

    @Test func terminalThroughConsoleSocket() throws {
        let b = try TestBundle(args: ["sh", "-c", "tty; test -t 0 && echo stdin-is-tty; readlink /proc/self/fd/1; stat -c %t:%T /dev/console; sleep 0.2"])
        b.spec.process?.terminal = true
        b.spec.process?.consoleSize = Box(height: 30, width: 100)
        let socketPath = b.dir + "/console.sock"
        let listener = try ConsoleListener(path: socketPath)
        defer { listener.close() }
        let c = try b.create("--console-socket", socketPath)
        #expect(c.ok, "\(c.stderr)")
        let master = try listener.acceptMaster()
        defer { Glibc.close(master) }
        var ws = winsize()
        _ = cshim_ioctl_ptr(master, UInt(TIOCGWINSZ), &ws)
        #expect(ws.ws_row == 30 && ws.ws_col == 100)
        #expect(b.swrunc("start", b.id).ok)
        let out = readAll(master, seconds: 3)
        #expect(out.contains("/dev/pts/0"))
        #expect(out.contains("stdin-is-tty"))
        #expect(out.contains("88:0"), "/dev/console is the pty slave (major 136 = 0x88)")
    }

    @Test func runProxiesTheTerminalWithoutAConsoleSocket() throws {
        let b = try TestBundle(args: ["sh"])
        b.spec.process?.terminal = true
        try b.write()
        let r = Swrunc.exec([Swrunc.binary, "--root", b.swrunc.root, "run", "--bundle", b.dir, b.id],
                            stdin: "echo in-a-tty $(tty)\nexit 3\n")
        #expect(r.status == 3, "\(r.stderr)")
        #expect(r.stdout.contains("in-a-tty /dev/pts/0"))
        // runc clears ONLCR on a console it receives: the lines end in "\n" alone.
        #expect(r.stdout.contains("in-a-tty /dev/pts/0\n") && !r.stdout.contains("/dev/pts/0\r\n"), "\(r.stdout.debugDescription)")
    }

    /// Under `script` with nothing on its stdin (as runc's own suite runs), the end-of-file
    /// `script` types before swrunc puts the terminal in raw mode must not come out as "^@".
    @Test func noStrayNULUnderAScriptTerminal() throws {
        let b = try TestBundle(args: ["echo", "hi"])
        defer { b.cleanup() }
        b.spec.process?.terminal = true
        try b.write()
        let command = "\(Swrunc.binary) --root \(b.swrunc.root) run --bundle \(b.dir) \(b.id)"
        let r = Swrunc.exec(["/usr/bin/script", "-qec", command, "/dev/null"], stdin: "")
        #expect(r.ok, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("hi") && !r.stdout.contains("^@") && !r.stdout.contains("\0"), "\(r.stdout.debugDescription)")
    }

    /// What was typed before swrunc took the terminal (script forwards piped input at once, and
    /// its ^D at the end) reaches the container: lines as lines, the end-of-file as one.
    @Test func inputTypedBeforeTheRuntimeStartsIsKept() throws {
        let b = try TestBundle(args: ["sh"])
        defer { b.cleanup() }
        b.spec.process?.terminal = true
        try b.write()
        let command = "sleep 0.5; \(Swrunc.binary) --root \(b.swrunc.root) run --bundle \(b.dir) \(b.id)"
        let r = Swrunc.exec(["/usr/bin/script", "-qec", command, "/dev/null"], stdin: "echo typed $((40+2)) ahead\n")
        #expect(r.ok, "\(r.stderr)")
        #expect(r.stdout.contains("typed 42 ahead") && !r.stdout.contains("^@"), "\(r.stdout.debugDescription)")
    }

    /// The terminal belongs to the process's user (the group stays devpts's tty group).
    @Test func theTerminalIsOwnedByTheProcessUser() throws {
        let b = try TestBundle(args: ["sh", "-c", "stat -c %u:%g $(tty); sleep 0.2"])
        defer { b.cleanup() }
        b.spec.process?.terminal = true
        b.spec.process?.user = User(uid: 1000, gid: 100)
        let socketPath = b.dir + "/console.sock"
        let listener = try ConsoleListener(path: socketPath)
        defer { listener.close() }
        #expect(try b.run("-d", "--console-socket", socketPath).ok)
        let master = try listener.acceptMaster()
        defer { Glibc.close(master) }
        #expect(readAll(master, seconds: 2).contains("1000:5"))
    }

    /// An execve that fails after the lookup (here: a missing interpreter) ends with runc's line.
    @Test func execveFailureIsRuncsLine() throws {
        let b = try TestBundle(args: ["/run.sh"])
        defer { b.cleanup() }
        try "#!/mmnnttbb foo\nsh\n".write(toFile: b.rootfs + "/run.sh", atomically: true, encoding: .utf8)
        chmod(b.rootfs + "/run.sh", 0o755)
        let r = try b.run()
        #expect(!r.ok)
        #expect(r.stderr == "exec /run.sh: no such file or directory\n", "\(r.stderr)")
    }

    func readAll(_ fd: Int32, seconds: Double) -> String {
        var out = [UInt8]()
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&pfd, 1, 100) <= 0 { continue }
            var buf = [UInt8](repeating: 0, count: 4096)
            let n = read(fd, &buf, buf.count)
            if n <= 0 { break }
            out += buf[0..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// The client side of `--console-socket`: listens, accepts, receives the pty master.
final class ConsoleListener {
    let fd: Int32
    init(path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in path.utf8.enumerated() { raw[i] = b }
        }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        try #require(rc == 0 && listen(fd, 1) == 0)
    }

    func acceptMaster() throws -> Int32 {
        try acceptFD().fd
    }

    /// One connection's message: its text and the fd it carried.
    func acceptFD() throws -> (name: String, fd: Int32) {
        let conn = accept(fd, nil, nil)
        try #require(conn >= 0)
        defer { Glibc.close(conn) }
        var buf = [UInt8](repeating: 0, count: 256)
        var received: Int32 = -1
        let n = buf.withUnsafeMutableBytes { cshim_recv_msg(conn, $0.baseAddress, $0.count, &received) }
        try #require(received >= 0, "no fd received")
        return (String(decoding: buf.prefix(max(n, 0)), as: UTF8.self), received)
    }

    func close() { Glibc.close(fd) }
}
