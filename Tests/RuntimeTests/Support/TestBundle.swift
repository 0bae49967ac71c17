import Foundation
import Testing
import OCI

/// A busybox bundle in a fresh temp directory with its own state root and a cgroup parent of its
/// own. Tests change `spec` and call `write()`; `cleanup()` removes everything the test made,
/// including containers left by a failed assertion.
final class TestBundle {
    let id: String
    let dir: String
    let swrunc: Swrunc
    var spec: Spec
    let cgroupParent: String
    private var extraIDs: [String] = []

    var rootfs: String { dir + "/rootfs" }

    init(_ name: String = #function, args: [String] = ["true"]) throws {
        try #require(getuid() == 0, "integration tests run real containers and need root")
        let suffix = UUID().uuidString.prefix(8).lowercased()
        let clean = name.filter { $0.isLetter || $0.isNumber }.prefix(24)
        id = "t-\(clean)-\(suffix)"
        dir = NSTemporaryDirectory() + "swrunc-test-\(id)"
        swrunc = Swrunc(root: dir + "-state")
        cgroupParent = "swrunc-test-\(suffix)"
        try Self.makeRootfs(at: dir + "/rootfs")
        spec = Spec.defaultSpec()
        spec.process?.terminal = false
        spec.root?.readonly = false
        spec.process?.args = args
        spec.linux?.cgroupsPath = "/\(cgroupParent)/\(id)"
    }

    /// A busybox rootfs: the static binary plus applet links, and the usual empty directories.
    static func makeRootfs(at path: String) throws {
        let fm = FileManager.default
        for d in ["bin", "proc", "sys", "dev", "etc", "tmp", "root"] {
            try fm.createDirectory(atPath: path + "/" + d, withIntermediateDirectories: true)
        }
        try copyExecutable("/bin/busybox", to: path + "/bin/busybox")
        for applet in ["sh", "ls", "cat", "echo", "id", "hostname", "mount", "true", "false", "sleep", "grep",
                       "touch", "mkdir", "stat", "readlink", "ps", "head", "wc", "env", "pwd", "umask", "test",
                       "tty", "ip", "sed", "awk", "tr", "cut", "sort", "kill", "domainname", "uname", "nproc",
                       "dd", "rm", "ln", "chmod", "date", "printf", "find", "xargs", "seq", "sysctl", "ionice"] {
            try fm.createSymbolicLink(atPath: path + "/bin/" + applet, withDestinationPath: "busybox")
        }
        try "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
            .write(toFile: path + "/etc/passwd", atomically: true, encoding: .utf8)
        try "root:x:0:\ntty:x:5:\nnogroup:x:65534:\n".write(toFile: path + "/etc/group", atomically: true, encoding: .utf8)
    }

    /// Copies with close-on-exec descriptors: tests run in parallel threads, and a write fd
    /// inherited by another test's child until its exec would make this binary ETXTBSY.
    static func copyExecutable(_ source: String, to target: String) throws {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        try #require(input >= 0, "open \(source)")
        defer { close(input) }
        let output = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o755)
        try #require(output >= 0, "create \(target)")
        defer { close(output) }
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buf.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            try #require(n >= 0, "read \(source)")
            if n == 0 { break }
            let w = buf.withUnsafeBytes { Glibc.write(output, $0.baseAddress, n) }
            try #require(w == n, "write \(target)")
        }
    }

    func write() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted]
        try encoder.encode(spec).write(to: URL(fileURLWithPath: dir + "/config.json"))
    }

    /// Writes the config and runs the container in the foreground.
    func run(_ extra: String...) throws -> Swrunc.Result {
        try write()
        return swrunc.run(["--root", swrunc.root, "run", "--bundle", dir] + extra + [id])
    }

    func create(_ extra: String...) throws -> Swrunc.Result {
        try write()
        return swrunc.run(["--root", swrunc.root, "create", "--bundle", dir] + extra + [id])
    }

    /// Registers another container id to be force-deleted at cleanup.
    func track(_ other: String) { extraIDs.append(other) }

    func state(_ which: String? = nil) throws -> [String: Any] {
        let r = swrunc("state", which ?? id)
        try #require(r.ok, "state failed: \(r.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
    }

    func cleanup() {
        for cid in extraIDs + [id] { swrunc("delete", "--force", cid) }
        try? FileManager.default.removeItem(atPath: dir)
        try? FileManager.default.removeItem(atPath: swrunc.root)
        Self.removeCgroupParent(cgroupParent)
    }

    static func removeCgroupParent(_ parent: String) {
        for h in (try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? [] {
            let base = "/sys/fs/cgroup/\(h)/\(parent)"
            // Children first (a leftover leaf would keep the parent busy).
            for child in (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? [] {
                rmdir(base + "/" + child)
            }
            rmdir(base)
        }
    }

    deinit { cleanup() }
}

/// True once `pid` has exited (gone, or a zombie waiting for its reaper).
func processGone(_ pid: Int) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return true }
    let state = stat[stat.index(close, offsetBy: 2)]
    return state == "Z" || state == "X"
}

/// Polls `condition` for up to `seconds`.
func eventually(_ seconds: Double = 5, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(20_000)
    }
    return condition()
}

/// Starts `argv` directly (no Foundation Process): with an empty signal mask — the test runner
/// blocks signals, and children would inherit that — and returns its pid, or -1.
func spawnProcess(_ argv: [String]) -> pid_t {
    var pid: pid_t = 0
    var args: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) }
    args.append(nil)
    defer { for a in args { free(a) } }
    var attrs = posix_spawnattr_t()
    posix_spawnattr_init(&attrs)
    defer { posix_spawnattr_destroy(&attrs) }
    var empty = sigset_t()
    sigemptyset(&empty)
    posix_spawnattr_setsigmask(&attrs, &empty)
    posix_spawnattr_setflags(&attrs, Int16(POSIX_SPAWN_SETSIGMASK))
    return posix_spawn(&pid, argv[0], nil, &attrs, &args, environ) == 0 ? pid : -1
}

/// SIGKILL and reap a child started by `spawnProcess`.
func stopProcess(_ pid: pid_t) {
    guard pid > 0 else { return }
    kill(pid, SIGKILL)
    var status: Int32 = 0
    waitpid(pid, &status, 0)
}
