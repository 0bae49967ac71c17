import ArgumentParser
import CArchive
import FoundationEssentials
import Glibc
import Images
import OCI
import Registry

/// `swctr run --rm IMAGE [CMD...]`: an overlay of the image's layers plus a fresh upper
/// directory, an OCI config generated from the image config the way Docker does, and swrunc
/// running it in the foreground. The exit status is the container's.
struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run a command in a new container (foreground).")
    @OptionGroup var global: Global
    @Flag(help: "Remove the container when it exits (required for now: containers are not kept).")
    var rm = false
    @Option(name: [.customShort("e"), .customLong("env")], help: "Set an environment variable (K=V, or K to copy it).")
    var env: [String] = []
    @Option(name: [.customShort("w"), .customLong("workdir")], help: "Working directory inside the container.")
    var workdir: String?
    @Option(name: [.customShort("u"), .customLong("user")], help: "user[:group], names or ids, resolved in the image.")
    var user: String?
    @Option(help: "Override the image's entrypoint.") var entrypoint: String?
    @Option(help: "host or none (default none: a network namespace with only loopback).")
    var network: String = "none"
    @Option(help: "The OCI runtime (default: swrunc next to swctr, then on PATH).")
    var runtime: String?
    @Option(name: .customLong("cgroup-parent"), help: "Parent cgroup of the container.")
    var cgroupParent: String = "/swctr"
    @Option(name: .customLong("security-opt"), help: "seccomp=unconfined, seccomp=PROFILE.json (Docker's format; default \(SeccompProfile.defaultPath)), no-new-privileges.")
    var securityOpt: [String] = []
    @Argument(help: "Image name or ID.") var image: String
    @Argument(parsing: .captureForPassthrough, help: "Command and arguments (default: the image's).")
    var command: [String] = []

    func run() async throws {
        guard rm else { fail("run: only --rm is supported (swctr does not keep stopped containers yet)") }
        guard geteuid() == 0 else { fail("run: needs root (rootless containers are not supported yet; pull, load and the image commands work without root)") }
        guard network == "host" || network == "none" else { fail("--network: want host or none, got \(network)") }
        let store: ImageStore
        let record: ImageRecord
        do {
            store = try ImageStore(root: global.root)
            guard let r = try store.image(image) else { fail("image not found: \(image) (swctr pull it first)") }
            record = r
        } catch { fail("\(error)") }
        guard let config = record.imageConfig else { fail("image \(record.name): unreadable config") }
        let swrunc = runtime ?? Self.findRuntime()
        let id = String((0..<12).map { _ in "0123456789abcdef".randomElement()! })
        let dir = "\(store.root)/containers/\(id)"
        let rootfs = "\(dir)/rootfs"
        var mounted = false
        // fail() exits, so cleanup is called explicitly on every path rather than deferred.
        func cleanup() {
            if mounted { umount2(rootfs, Int32(MNT_DETACH)) }
            ImageStore.removeTree(dir)
        }
        do {
            for d in [dir, "\(dir)/upper", "\(dir)/work", rootfs] { guard mkdir(d, 0o755) == 0 else { throw StoreError("mkdir \(d): \(String(cString: strerror(errno)))") } }
            // overlayfs lists the top layer first.
            let lower = record.layerIDs.reversed().map { store.layerPath($0) }
            for l in lower where access(l, F_OK) != 0 { throw StoreError("layer \(l) is missing from the store (pull the image again)") }
            let opts = "lowerdir=\(lower.joined(separator: ":")),upperdir=\(dir)/upper,workdir=\(dir)/work"
            guard mount("overlay", rootfs, "overlay", 0, opts) == 0 else {
                throw StoreError("mount overlay on \(rootfs): \(String(cString: strerror(errno)))")
            }
            mounted = true
            // rmi refuses an image a running container uses.
            guard FileIOLite.write(Array(record.name.utf8), to: "\(dir)/image") else {
                throw StoreError("write \(dir)/image: \(String(cString: strerror(errno)))")
            }
            let spec = try makeSpec(config, rootfs: rootfs, id: id)
            let data = try JSONEncoder().encode(spec)
            guard FileIOLite.write(Array(data), to: "\(dir)/config.json") else {
                throw StoreError("write \(dir)/config.json: \(String(cString: strerror(errno)))")
            }
        } catch {
            cleanup()
            fail("\(error)")
        }
        // The in-use mark is written and the layers are mounted: rmi may look now.
        store.release()
        let status = Self.spawn([swrunc, "--root", "\(store.root)/swrunc", "run", "--bundle", dir, id])
        cleanup()
        throw ExitCode(status)
    }

    static func findRuntime() -> String {
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        if n > 0 {
            let exe = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let sibling = String(exe[..<(exe.lastIndex(of: "/") ?? exe.startIndex)]) + "/swrunc"
            if access(sibling, X_OK) == 0 { return sibling }
        }
        return "swrunc"
    }

    /// Docker's defaults: its capability set, the image's Env/Entrypoint/Cmd/WorkingDir/User,
    /// a writable root, the container id as hostname.
    func makeSpec(_ image: ImageConfig, rootfs: String, id: String) throws -> Spec {
        var spec = Spec.defaultSpec()
        let c = image.config
        var args = entrypoint.map { [$0] } ?? (c?.Entrypoint ?? [])
        if !command.isEmpty { args += command } else if entrypoint == nil { args += c?.Cmd ?? [] }
        guard !args.isEmpty else { throw StoreError("no command: the image has no Entrypoint or Cmd, give one") }
        var environment = c?.Env ?? ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
        for e in env {
            let kv: String
            if e.contains("=") { kv = e } else if let v = getenv(e) { kv = "\(e)=\(String(cString: v))" } else { continue }
            let key = kv.prefix { $0 != "=" }
            environment.removeAll { $0.prefix { $0 != "=" } == key }
            environment.append(kv)
        }
        spec.process?.args = args
        spec.process?.env = environment
        spec.process?.terminal = false
        spec.process?.cwd = workdir ?? ((c?.WorkingDir).flatMap { $0.isEmpty ? nil : $0 } ?? "/")
        spec.process?.user = try UserLookup.resolve(user ?? c?.User ?? "", rootfs: rootfs)
        let caps = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
                    "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
                    "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"]
        spec.process?.capabilities = Capabilities(bounding: caps, effective: caps, inheritable: [], permitted: caps, ambient: [])
        // Docker's defaults: setuid programs work (no no_new_privs) and its seccomp profile applies.
        spec.process?.noNewPrivileges = false
        var profile: String? = SeccompProfile.defaultPath
        var profileNamed = false
        for opt in securityOpt {
            let (key, value) = opt.contains("=") ? (String(opt.prefix { $0 != "=" }), String(opt.drop { $0 != "=" }.dropFirst()))
                : opt.contains(":") ? (String(opt.prefix { $0 != ":" }), String(opt.drop { $0 != ":" }.dropFirst())) : (opt, "")
            switch (key, value) {
            case ("seccomp", "unconfined"): profile = nil
            case ("seccomp", let path) where !path.isEmpty: profile = path; profileNamed = true
            case ("no-new-privileges", ""), ("no-new-privileges", "true"): spec.process?.noNewPrivileges = true
            case ("no-new-privileges", "false"): spec.process?.noNewPrivileges = false
            default: throw StoreError("--security-opt \"\(opt)\": want seccomp=unconfined, seccomp=PROFILE or no-new-privileges")
            }
        }
        if let profile {
            guard access(profile, F_OK) == 0 else {
                throw StoreError(profileNamed ? "seccomp profile \(profile): no such file"
                    : "no default seccomp profile at \(profile) (install golang-github-containers-common, or --security-opt seccomp=unconfined)")
            }
            spec.linux?.seccomp = try SeccompProfile.load(profile, capabilities: caps)
        }
        spec.root = Root(path: rootfs, readonly: false)
        spec.hostname = id
        if network == "host" {
            // Docker's --network host shares the host's network and UTS namespaces.
            let kept = (spec.linux?.namespaces ?? []).filter { $0.type != "network" && $0.type != "uts" }
            spec.linux?.namespaces = kept
            spec.hostname = nil
        }
        spec.linux?.cgroupsPath = "\(cgroupParent)/\(id)"
        return spec
    }

    /// posix_spawn with inherited stdio; the exit status (128+signal when killed).
    static func spawn(_ argv: [String]) -> Int32 {
        var pid: pid_t = 0
        var cargs = argv.map { strdup($0) } + [nil]
        defer { for p in cargs { free(p) } }
        forwardSignals()
        let rc = posix_spawnp(&pid, argv[0], nil, nil, &cargs, environ)
        guard rc == 0 else {
            FileHandleLite.stderr("swctr: run \(argv[0]): \(String(cString: strerror(rc)))\n")
            return 127
        }
        runtimePid = pid
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        if status & 0x7f == 0 { return (status >> 8) & 0xff }
        return 128 + (status & 0x7f)
    }
}

/// The runtime process `run` waits for; read by the signal handler.
nonisolated(unsafe) private var runtimePid: pid_t = 0

/// A signal sent to swctr (`kill`, a supervisor stopping it) goes on to swrunc, which passes it
/// to the container, and swctr keeps waiting so that it still cleans up. Signals from the
/// terminal (Ctrl-C) reach swrunc directly through the process group: the kernel marks those
/// SI_KERNEL, and they are not sent a second time. posix_spawn resets handlers in the child.
private func forwardSignals() {
    for sig in [SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2] {
        var action = sigaction()
        action.__sigaction_handler.sa_sigaction = { sig, info, _ in
            guard let info, info.pointee.si_code <= 0, runtimePid > 0 else { return }
            kill(runtimePid, sig)
        }
        action.sa_flags = SA_SIGINFO | SA_RESTART
        sigemptyset(&action.sa_mask)
        sigaction(sig, &action, nil)
    }
}

/// `user[:group]` → ids, names looked up in the image's /etc/passwd and /etc/group, read
/// inside the rootfs (openat2 RESOLVE_IN_ROOT, so an image's symlinked /etc/passwd cannot point at
/// the host's).
enum UserLookup {
    static func resolve(_ spec: String, rootfs: String) throws -> User {
        if spec.isEmpty { return User(uid: 0, gid: 0) }
        let parts = spec.split(separator: ":", maxSplits: 1).map(String.init)
        let passwd = readInRoot(rootfs, "etc/passwd")
        var uid: UInt32
        var gid: UInt32 = 0
        if let n = UInt32(parts[0]) {
            uid = n
            if let row = passwd.first(where: { $0.count > 3 && $0[2] == parts[0] }), let g = UInt32(row[3]) { gid = g }
        } else {
            guard let row = passwd.first(where: { $0.count > 3 && $0[0] == parts[0] }), let u = UInt32(row[2]), let g = UInt32(row[3]) else {
                throw StoreError("user \(parts[0]): not found in the image's /etc/passwd")
            }
            uid = u
            gid = g
        }
        if parts.count == 2 {
            if let n = UInt32(parts[1]) { gid = n } else {
                guard let row = readInRoot(rootfs, "etc/group").first(where: { $0.count > 2 && $0[0] == parts[1] }), let g = UInt32(row[2]) else {
                    throw StoreError("group \(parts[1]): not found in the image's /etc/group")
                }
                gid = g
            }
        }
        return User(uid: uid, gid: gid)
    }

    static func readInRoot(_ rootfs: String, _ path: String) -> [[String]] {
        let oPath: Int32 = 0o10000000  // O_PATH, which Glibc's module does not export
        let dirfd = open(rootfs, oPath | O_DIRECTORY | O_CLOEXEC)
        guard dirfd >= 0 else { return [] }
        defer { close(dirfd) }
        let fd = swctr_open_in_root(dirfd, path)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        let bytes = FileIOLite.read(fd: fd) ?? []
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").map {
            $0.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        }
    }
}
