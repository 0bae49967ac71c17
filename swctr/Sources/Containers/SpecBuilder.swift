import Database
import HostOS
import OCI
import Registry

/// Image config × `run` options → the OCI config swrunc gets, the way Docker builds it. Pure:
/// everything it needs from the host or the image (passwd and group files, the seccomp profile,
/// the init binary) is passed in, so every rule is unit-tested without root.
public struct SpecBuilder {
    public var id: String
    public var rootfs: String
    public var image: ImageConfig.Config
    public var options: ContainerConfig
    /// The image's /etc/passwd and /etc/group, read inside its rootfs.
    public var passwd: String?
    public var group: String?
    /// The seccomp filter to apply (nil: unconfined).
    public var seccomp: Seccomp?
    /// Host path of the init (`--init`: catatonit or tini), bound at /dev/init.
    public var initBinary: String?
    /// The store is rootless: the runtime runs as root of the user's namespace, not of the host.
    public var rootless = false
    /// A named network (or container:ID): the namespace to join, and the directory holding the
    /// hosts, hostname and resolv.conf bound over the image's (nil: the image's stay).
    public var networkNamespace: String?
    public var nameFiles: String?

    public init(id: String, rootfs: String, image: ImageConfig.Config?, options: ContainerConfig) {
        self.id = id
        self.rootfs = rootfs
        self.image = image ?? ImageConfig.Config()
        self.options = options
    }

    /// Docker's default capabilities.
    public static let defaultCapabilities = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
        "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL",
        "CAP_AUDIT_WRITE",
    ]

    public static let allCapabilities = KnownNames.capabilities

    public static let defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    /// The program and its arguments: Docker's entrypoint/cmd rules (an `--entrypoint` replaces
    /// the image's and drops its Cmd; `--entrypoint ""` clears it).
    public func arguments() throws(SwctrError) -> [String] {
        var entry: [String]
        var cmd: [String]
        if let e = options.entrypoint {
            entry = e.filter { !$0.isEmpty }
            cmd = options.cmd ?? []
        } else {
            entry = image.Entrypoint ?? []
            cmd = options.cmd ?? image.Cmd ?? []
        }
        if options.cmd != nil && options.cmd?.isEmpty == false { cmd = options.cmd ?? [] }
        let args = entry + cmd
        guard !args.isEmpty else {
            throw SwctrError(.invalidArgument, "No command specified")
        }
        return args
    }

    public var hostname: String { options.hostname ?? String(id.prefix(12)) }

    /// The image's Env, then `-e` (a later value of a key replaces an earlier one), HOSTNAME, and
    /// PATH and TERM where Docker adds them.
    public func environment() -> [String] {
        var env: [String] = []
        func set(_ kv: String) {
            let key = kv.prefix { $0 != "=" }
            env.removeAll { $0.prefix { $0 != "=" } == key }
            env.append(kv)
        }
        if !(image.Env ?? []).contains(where: { $0.hasPrefix("PATH=") }) { env.append(Self.defaultPath) }
        for e in image.Env ?? [] { set(e) }
        set("HOSTNAME=\(hostname)")
        if options.tty && !env.contains(where: { $0.hasPrefix("TERM=") }) { env.append("TERM=xterm") }
        for e in options.env { set(e) }
        return env
    }

    /// `user[:group]`, names looked up in the image's files; the user's supplementary groups
    /// come from /etc/group, as Docker gives them.
    public func user() throws(SwctrError) -> User {
        try UserSpec.resolve(options.user ?? image.User ?? "", passwd: passwd, group: group)
    }

    /// Docker's defaults, with `--cap-add`/`--cap-drop` (ALL, names with or without CAP_).
    public func capabilities() throws(SwctrError) -> [String] {
        if options.privileged { return Self.allCapabilities }
        func normalize(_ c: String) throws(SwctrError) -> String {
            let up = c.uppercased()
            if up == "ALL" { return up }
            let name = up.hasPrefix("CAP_") ? up : "CAP_" + up
            guard Self.allCapabilities.contains(name) else { throw SwctrError(.invalidArgument, "invalid capability: \(c)") }
            return name
        }
        var caps = Self.defaultCapabilities
        let drop = try options.capDrop.map(normalize)
        let add = try options.capAdd.map(normalize)
        if drop.contains("ALL") { caps = [] } else { caps.removeAll { drop.contains($0) } }
        if add.contains("ALL") { caps = Self.allCapabilities } else {
            for c in add where !caps.contains(c) { caps.append(c) }
        }
        return caps
    }

    public func build() throws(SwctrError) -> Spec {
        var spec = Spec.defaultSpec()
        let caps = try capabilities()
        var process = spec.process ?? OCI.Process()
        process.args = try arguments()
        process.env = environment()
        process.terminal = options.tty
        process.cwd = (options.workingDir ?? image.WorkingDir).flatMap { $0.isEmpty ? nil : $0 } ?? "/"
        process.user = try user()
        process.capabilities = Capabilities(bounding: caps, effective: caps, inheritable: [], permitted: caps, ambient: [])
        // Docker's defaults: setuid programs work (no no_new_privs); limits come from the host
        // unless --ulimit names them.
        process.noNewPrivileges = options.securityOpt.contains { $0 == "no-new-privileges" || $0 == "no-new-privileges:true" || $0 == "no-new-privileges=true" }
        process.rlimits = try options.ulimits.map { u throws(SwctrError) in
            guard let type = Self.rlimitNames[u.name] else { throw SwctrError(.invalidArgument, "invalid ulimit type: \(u.name)") }
            return Rlimit(type: type, hard: u.hard, soft: u.soft)
        }
        if options.initProcess {
            guard let initBinary else {
                throw SwctrError(.invalidArgument, "--init: no init binary found (install catatonit or tini)")
            }
            spec.mounts?.append(Mount(destination: "/dev/init", type: "bind", source: initBinary, options: ["bind", "ro"]))
            process.args = ["/dev/init", "--"] + (process.args ?? [])
        }
        spec.process = process
        spec.root = Root(path: rootfs, readonly: options.readOnly)
        spec.hostname = hostname
        var linux = spec.linux ?? Linux()
        linux.seccomp = options.privileged ? nil : seccomp
        linux.cgroupsPath = "\(options.cgroupParent)/\(id)"
        linux.resources = try resources(base: linux.resources ?? Resources())
        if options.privileged {
            linux.maskedPaths = []
            linux.readonlyPaths = []
        }
        switch options.network {
        case "host":
            // Docker's --network host shares the host's network and UTS namespaces.
            linux.namespaces = (linux.namespaces ?? []).filter { $0.type != "network" && $0.type != "uts" }
            spec.hostname = nil
            if rootless {
                // sysfs can be mounted only by root of the network namespace's owner, which the
                // host's is not: the host's /sys is bound read-only instead (as podman does).
                spec.mounts = spec.mounts?.map { m in
                    m.type == "sysfs" ? Mount(destination: m.destination, type: "bind", source: "/sys",
                                              options: ["rbind", "nosuid", "noexec", "nodev", "ro"]) : m
                }
            }
        case "none":
            break
        default:
            // A named network's namespace, or (container:ID) the other container's, whose path is
            // filled in at each start; the hosts, hostname and resolv.conf files of whichever owns it.
            guard let networkNamespace else { throw SwctrError(.invalidArgument, "network \(options.network) not found") }
            linux.namespaces = (linux.namespaces ?? []).map { $0.type == "network" ? Namespace(type: "network", path: networkNamespace) : $0 }
            for file in ["hosts", "hostname", "resolv.conf"] where nameFiles != nil {
                spec.mounts?.append(Mount(destination: "/etc/" + file, type: "bind", source: (nameFiles ?? "") + "/" + file,
                                          options: ["rbind", options.readOnly ? "ro" : "rw", "rprivate"]))
            }
        }
        spec.linux = linux
        return spec
    }

    func resources(base: Resources) throws(SwctrError) -> Resources {
        var r = base
        if options.privileged {
            r.devices = [DeviceCgroupRule(allow: true, access: "rwm")]
        }
        if let m = options.memory, m > 0 {
            var mem = r.memory ?? Memory()
            mem.limit = m
            // Docker: without --memory-swap the container may use as much swap as memory.
            if let s = options.memorySwap {
                mem.swap = s == -1 ? -1 : s
            } else {
                mem.swap = m * 2
            }
            r.memory = mem
        }
        var cpu = r.cpu ?? CPU()
        if let n = options.nanoCPUs, n > 0 {
            cpu.period = 100_000
            cpu.quota = n * 100_000 / 1_000_000_000
        }
        if let s = options.cpuShares, s > 0 { cpu.shares = s }
        if cpu != CPU() { r.cpu = cpu }
        if let p = options.pidsLimit, p > 0 { r.pids = Pids(limit: p) }
        return r
    }

    /// `--ulimit` names (Docker's) → RLIMIT_*.
    static let rlimitNames: [String: String] = [
        "core": "RLIMIT_CORE", "cpu": "RLIMIT_CPU", "data": "RLIMIT_DATA", "fsize": "RLIMIT_FSIZE",
        "locks": "RLIMIT_LOCKS", "memlock": "RLIMIT_MEMLOCK", "msgqueue": "RLIMIT_MSGQUEUE", "nice": "RLIMIT_NICE",
        "nofile": "RLIMIT_NOFILE", "nproc": "RLIMIT_NPROC", "rss": "RLIMIT_RSS", "rtprio": "RLIMIT_RTPRIO",
        "rttime": "RLIMIT_RTTIME", "sigpending": "RLIMIT_SIGPENDING", "stack": "RLIMIT_STACK", "as": "RLIMIT_AS",
    ]
}

/// `user[:group]` against an image's passwd and group files.
public enum UserSpec {
    public static func resolve(_ spec: String, passwd: String?, group: String?) throws(SwctrError) -> User {
        if spec.isEmpty { return User(uid: 0, gid: 0) }
        let parts = spec.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let users = Passwd.parseUsers(passwd ?? "")
        let groups = Passwd.parseGroups(group ?? "")
        var uid: UInt32
        var gid: UInt32 = 0
        var name: String?
        if let n = UInt32(parts[0]) {
            uid = n
            if let u = users.first(where: { $0.uid == n }) { gid = u.gid; name = u.name }
        } else {
            guard let u = users.first(where: { $0.name == parts[0] }) else {
                throw SwctrError(.invalidArgument, "unable to find user \(parts[0]): no matching entries in passwd file")
            }
            uid = u.uid
            gid = u.gid
            name = u.name
        }
        if parts.count == 2 && !parts[1].isEmpty {
            if let n = UInt32(parts[1]) { gid = n } else {
                guard let g = groups.first(where: { $0.name == parts[1] }) else {
                    throw SwctrError(.invalidArgument, "unable to find group \(parts[1]): no matching entries in group file")
                }
                gid = g.gid
            }
        }
        // The primary group is a supplementary one too, as Docker (runc's user lookup) gives it:
        // `id` shows groups=GID.
        let extra = name.map { n in groups.filter { $0.members.contains(n) && $0.gid != gid }.map(\.gid) } ?? []
        var user = User(uid: uid, gid: gid)
        user.additionalGids = [gid] + extra
        return user
    }
}
