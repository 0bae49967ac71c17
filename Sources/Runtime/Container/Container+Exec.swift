import HostOS
import Glibc
import CShim
import OCI

public struct ExecOptions: Sendable {
    public var id: String
    public var process: OCI.Process
    public var detach = false
    public var pidFile: String?
    public var consoleSocket: String?
    /// Receives a pidfd of the process (runc's `--pidfd-socket`).
    public var pidfdSocket: String?
    public var preserveFDs = 0
    /// `--cgroup`: sub-cgroups (relative to the container's) to run the process in, by
    /// controller; the key "" puts it in that sub-cgroup of every hierarchy.
    public var subCgroups: [String: String] = [:]
    /// `--ignore-paused`: exec into a paused container; the process runs once it is resumed.
    public var ignorePaused = false
    /// The container's config when the caller has read it already (`config(id:ctx:)`), so that
    /// exec decodes it once.
    public var config: Spec?

    public init(id: String, process: OCI.Process) {
        self.id = id
        self.process = process
    }
}

extension Container {
    /// The config a container was created (or last updated) with; an error naming the container
    /// if there is none.
    public static func config(id: String, ctx: RuntimeContext) throws(RuntimeError) -> Spec {
        try StateStore.validate(id: id)
        do {
            return try ctx.store.loadConfig(id)
        } catch where error.errno == ENOENT {
            // Only a missing copy needs the record read (exec reads it next anyway): to say
            // whether the container itself is missing.
            _ = try load(id, ctx: ctx)
            throw error
        }
    }

    /// The process `exec` runs when no `--process` is given: the container's own process with
    /// the CLI's overrides, as runc builds it.
    public static func execProcess(config: Spec, args: [String]) -> OCI.Process {
        var process = config.process ?? OCI.Process()
        process.args = args
        process.terminal = false
        process.consoleSize = nil
        return process
    }

    /// `swrunc exec`: a new process in every namespace and the cgroup of a running container,
    /// with its own user, capabilities and terminal. Returns its exit status unless detached.
    public static func exec(_ opts: ExecOptions, ctx: RuntimeContext) throws(RuntimeError) -> Int32 {
        let record = try load(opts.id, ctx: ctx)
        switch status(of: record, store: ctx.store) {
        case .running, .created: break
        case .paused where !opts.ignorePaused:
            throw RuntimeError("cannot exec in a paused container (resume it first, or use --ignore-paused)")
        case .paused: break
        default: throw RuntimeError("cannot exec in a stopped container")
        }
        do { try opts.process.validate(at: "process") } catch { throw RuntimeError(config: error) }
        try LSM.validate(opts.process, mountLabel: nil)
        let caps = CapabilitySets(opts.process.capabilities)
        for name in caps.unraisableAmbient {
            ctx.logger.warn("can't raise ambient capability \(name): operation not permitted (not in the inheritable and permitted sets)")
        }
        if !opts.detach {
            _ = cshim_prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        }
        var joins: [OCI.Namespace] = []
        // Unprivileged, a pid namespace owned by the container's user namespace can only be
        // joined from inside that user namespace: stage 1 joins it after the user namespace.
        let unprivileged = geteuid() != 0 && record.namespacePaths?[NamespaceType.user.rawValue] != nil
        for (type, path) in (record.namespacePaths ?? [:]).sorted(by: { $0.key < $1.key }) {
            if type == NamespaceType.pid.rawValue && !unprivileged {
                // Joining a pid namespace only affects children: doing it here, before the fork,
                // makes the exec'd process our direct child instead of an orphan we must inherit.
                let fd = cshim_open(path, O_RDONLY | O_CLOEXEC, 0)
                if fd < 0 { throw .sys("open pid namespace \(path)") }
                defer { close(fd) }
                try check("join pid namespace \(path)") { cshim_setns(fd, CLONE_NEWPID) }
                continue
            }
            joins.append(Namespace(type: type, path: path))
        }
        var consolePair: [Int32] = [-1, -1]
        defer { for fd in consolePair where fd >= 0 { close(fd) } }
        var consoleFD: Int32 = -1
        if let path = opts.consoleSocket {
            consoleFD = try Console.connect(path)
        } else if opts.process.terminal == true {
            guard !opts.detach else { throw RuntimeError("--tty with --detach needs a --console-socket") }
            try check("socketpair") { socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &consolePair) }
            consoleFD = consolePair[1]
        }
        defer { if consoleFD >= 0 && consoleFD != consolePair[1] { close(consoleFD) } }
        var pidfdSocket = try opts.pidfdSocket.map { (path: String) throws(RuntimeError) in try PidfdSocket(path: path) }
        defer { pidfdSocket?.close() }

        let paths = try subCgroupPaths(record.cgroupPaths, opts.subCgroups)
        var spec: Spec
        if let config = opts.config { spec = config } else { spec = try ctx.store.loadConfig(record.id) }
        let configProcess = spec.process
        spec.process = opts.process
        var plan = InitPlan(
            id: record.id, bundle: record.bundle, rootfs: record.rootfs,
            process: ResolvedProcess(opts.process, capabilities: caps), annotations: spec.annotations,
            namespaces: NamespacePlan(joins), cgroupPaths: paths, noPivot: false, noNewKeyring: true,
            preserveFDs: opts.preserveFDs, fifoFD: -1, consoleFD: consoleFD, isExec: true)
        plan.consoleIsOurs = consoleFD >= 0 && consoleFD == consolePair[1]
        plan.memoryLimit = spec.linux?.resources?.memory?.limit
        plan.settings = try ProcessSettings(spec: spec, process: opts.process, configProcess: configProcess)
        if let affinity = opts.process.execCPUAffinity ?? configProcess?.execCPUAffinity {
            do { plan.execAffinity = try affinity.resolve(at: "process.execCPUAffinity") } catch { throw RuntimeError(config: error) }
        }
        if ctx.logger.debugEnabled { plan.debugLog = ctx.logger }
        // The exec'd process gets the container's filter; with a notify action, its listener fd
        // goes to the agent too (runc's behaviour), with the exec'd process's pid.
        if let profile = spec.linux?.seccomp {
            plan.seccomp = try SeccompFilter(profile, cacheDir: ctx.store.seccompCacheDir)
            if let filter = plan.seccomp { ctx.logger.debug("seccomp filter flags: \(filter.effectiveFlags)") }
        }
        let launcher = Launcher(plan: plan, cgroup: Cgroups.driver(paths: paths, owned: record.ownedCgroups.map(Set.init)))
        let channel: SyncChannel
        do throws(RuntimeError) {
            channel = try launcher.launch()
            try launcher.commit()
        } catch {
            launcher.abort()
            throw error
        }
        defer { channel.close() }
        if consolePair[1] >= 0 { close(consolePair[1]); consolePair[1] = -1 }
        let pid = launcher.initPid
        do throws(RuntimeError) {
            try waitForExec(channel)
            try pidfdSocket?.send(pid: pid, name: "setns")
        } catch {
            launcher.abort()
            throw error
        }
        if let pidFile = opts.pidFile {
            let path = pidFile.hasPrefix("/") ? pidFile : (currentDirectory() + "/" + pidFile)
            try FileIO.writeAtomic(path, Array(String(pid).utf8))
        }
        if opts.detach { return 0 }
        let master = opts.process.terminal == true ? receiveMaster(consolePair[0]) : -1
        defer { if master >= 0 { close(master) } }
        return waitForExit(pid: pid, master: master)
    }

    /// The container's cgroup paths with `--cgroup`'s sub-cgroups below them; a sub-path that
    /// climbs out of the container's cgroup is refused (runc's words).
    static func subCgroupPaths(_ base: [String: String], _ subs: [String: String]) throws(RuntimeError) -> [String: String] {
        var paths = base
        func below(_ dir: String, _ sub: String) throws(RuntimeError) -> String {
            let joined = Cgroups.cleanPath(dir + "/" + sub)
            guard joined == dir || joined.hasPrefix(dir + "/") else { throw RuntimeError("bad sub cgroup path: \(sub)") }
            return joined
        }
        if let sub = subs[""] {
            for (k, v) in base { paths[k] = try below(v, sub) }
            return paths
        }
        for (controller, sub) in subs.sorted(by: { $0.key < $1.key }) {
            guard let dir = base[controller] else { throw RuntimeError("--cgroup: unknown controller \(controller)") }
            paths[controller] = try below(dir, sub)
        }
        return paths
    }
}
