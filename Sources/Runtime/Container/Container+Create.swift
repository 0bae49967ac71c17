import HostOS
import JSON
import Glibc
import CShim
import OCI

extension Container {
    /// The result of bootstrapping: the record (already saved) and, for `run`, the channel that
    /// reports the init's execve.
    struct Bootstrapped {
        var record: ContainerRecord
        var channel: SyncChannel
    }

    /// `swrunc create`: leaves the init blocked on the exec fifo and returns.
    public static func create(_ opts: CreateOptions, ctx: RuntimeContext) throws(RuntimeError) -> ContainerRecord {
        let result = try bootstrap(opts, ctx: ctx, startGate: true)
        result.channel.close()
        return result.record
    }

    static func bootstrap(_ opts: CreateOptions, ctx: RuntimeContext, startGate: Bool,
                          consoleFD presetConsole: Int32 = -1) throws(RuntimeError) -> Bootstrapped {
        try StateStore.validate(id: opts.id)
        let bundle = try absolutePath(opts.bundle.isEmpty ? "." : opts.bundle, what: "bundle")
        let configPath = bundle + "/config.json"
        let bytes = try FileIO.read(configPath)
        var spec: Spec
        do { spec = try Spec.load(bytes) } catch {
            throw RuntimeError(config: error, file: configPath)
        }
        guard let rootPath = spec.root?.path else {
            throw RuntimeError("\(configPath): root.path: required field is missing")
        }
        // The spec needs a process only to start: without one the container is set up and waits,
        // and `start` refuses it.
        let hasProcess = spec.process != nil
        if !hasProcess && !startGate { throw RuntimeError("\(configPath): process: required to run a container") }
        var process = spec.process ?? OCI.Process()
        let rootfs = try absolutePath(rootPath.hasPrefix("/") ? rootPath : bundle + "/" + rootPath, what: "root.path")
        guard FileIO.isDirectory(rootfs) else { throw RuntimeError("root.path: \(rootfs) is not a directory") }
        if ctx.systemdCgroup && !FileIO.exists("/run/systemd/system") {
            throw RuntimeError("--systemd-cgroup: systemd is not running on this host; use the cgroupfs driver")
        }
        try LSM.validate(process, mountLabel: spec.linux?.mountLabel)
        if spec.linux?.intelRdt != nil {
            // A knob the host lacks is an error, never silently dropped.
            throw RuntimeError(FileIO.exists("/sys/fs/resctrl/schemata")
                ? "linux.intelRdt: not supported by this runtime"
                : "linux.intelRdt: the host has no resctrl filesystem (Intel RDT is not available)")
        }
        let caps = CapabilitySets(process.capabilities)
        if !caps.unknown.isEmpty {
            ctx.logger.warn("ignoring unknown capabilities: \(caps.unknown.map { Excerpt.of($0) }.joined(separator: ", "))")
        }
        for name in caps.unraisableAmbient {
            ctx.logger.warn("can't raise ambient capability \(name): operation not permitted (not in the inheritable and permitted sets)")
        }
        if !caps.unavailable.isEmpty {
            ctx.logger.warn("ignoring capabilities not in the runtime's bounding set: \(caps.unavailable.map { Excerpt.of($0) }.joined(separator: ", "))")
        }
        var preserve = opts.preserveFDs
        // The config copy is the bundle's file unless the process below changes.
        var configBytes: [UInt8]? = bytes
        // Socket activation: pass LISTEN_FDS through as runc does.
        if let listen = getenv("LISTEN_FDS").map({ String(cString: $0) }), let n = Int(listen), n > 0 {
            process.env = (process.env ?? []) + ["LISTEN_FDS=\(n)", "LISTEN_PID=1"]
            preserve += n
            configBytes = nil
        }

        let lock = try ctx.store.reserve(opts.id)
        var rollback = Rollback()
        var hookFailure = false
        rollback.add { ctx.store.remove(opts.id) }
        do throws(RuntimeError) {
            var fifoFD: Int32 = -1
            if startGate {
                let fifo = ctx.store.fifoPath(opts.id)
                try check("mkfifo \(fifo)") { mkfifo(fifo, 0o622) }
                try check("chmod \(fifo)") { chmod(fifo, 0o622) }
                fifoFD = try check("open \(fifo)") { cshim_open(fifo, O_PATH | O_CLOEXEC, 0) }
            }
            defer { if fifoFD >= 0 { close(fifoFD) } }

            let layout = try CgroupLayout.current()
            var cgroup = try Cgroups.driver(cgroupsPath: spec.linux?.cgroupsPath, id: opts.id, layout: layout)
            let namespaces = NamespacePlan(spec.linux?.namespaces ?? [])
            let hostMount = namespaces.has(.mount) ? nil : HostRootfsMount.bind(rootfs)
            // Recorded before a directory or mount is made, so that `delete --force` after a crash
            // finds (and removes) exactly what this create made.
            cgroup.owned = cgroup.missingDirectories()
            try ctx.store.saveIntent(CreateIntent(cgroupPaths: cgroup.paths, ownedCgroups: cgroup.owned,
                                                  hostRootfsMount: hostMount), id: opts.id)
            rollback.add { try? cgroup.destroy() }
            do throws(RuntimeError) {
                try cgroup.create()
            } catch where ctx.rootless && [EACCES, EPERM, EROFS].contains(error.errno ?? 0) {
                // An unprivileged user without a delegated cgroup: the container runs without
                // one (runc's rule), unless the config asks for limits only a cgroup can keep.
                try? cgroup.destroy()
                if let limits = spec.linux?.resources, limits.needsACgroup {
                    throw RuntimeError("linux.resources: limits need a cgroup, and this unprivileged user has none delegated (\(error.message))", errno: error.errno)
                }
                ctx.logger.debug("rootless: running without a cgroup (\(error.message))")
                cgroup = Cgroups.driver(paths: [:], owned: [])
                try ctx.store.saveIntent(CreateIntent(cgroupPaths: [:], ownedCgroups: [], hostRootfsMount: hostMount), id: opts.id)
            } catch {
                throw error.during("cgroup")
            }
            if let hostMount {
                rollback.add { try? hostMount.unmount() }
                try hostMount.mount()
            }
            if let resources = spec.linux?.resources, !cgroup.paths.isEmpty {
                do { try cgroup.apply(resources) } catch { throw error.during("cgroup") }
            }
            // Spec: a failing prestart/createRuntime/createContainer hook still gets poststop.
            rollback.add {
                if hookFailure {
                    let state = State(id: opts.id, status: .stopped, pid: 0, bundle: bundle, annotations: spec.annotations)
                    HookRunner.runWarning(spec.hooks?.poststop ?? [], kind: "poststop", state: state, logger: ctx.logger)
                }
            }

            var consoleFD = presetConsole
            if let path = opts.consoleSocket {
                consoleFD = try Console.connect(path)
            }
            defer { if consoleFD >= 0 && consoleFD != presetConsole { close(consoleFD) } }
            var pidfdSocket = try opts.pidfdSocket.map { (path: String) throws(RuntimeError) in try PidfdSocket(path: path) }
            defer { pidfdSocket?.close() }
            if process.terminal == true && consoleFD < 0 {
                throw RuntimeError("process.terminal is set: --console-socket is required")
            }

            if hasProcess { spec.process = process }
            let seccomp = try spec.linux?.seccomp.map { (s: OCI.Seccomp) throws(RuntimeError) in try SeccompFilter(s, cacheDir: ctx.store.seccompCacheDir) }
            var plan = InitPlan(
                id: opts.id, bundle: bundle, rootfs: rootfs, process: ResolvedProcess(process, capabilities: caps),
                container: ResolvedContainer(spec), annotations: spec.annotations,
                namespaces: namespaces, cgroupPaths: cgroup.paths,
                noPivot: opts.noPivot, noNewKeyring: opts.noNewKeyring, preserveFDs: preserve,
                fifoFD: fifoFD, consoleFD: consoleFD)
            plan.seccomp = seccomp
            if let seccomp { ctx.logger.debug("seccomp filter flags: \(seccomp.effectiveFlags)") }
            plan.hasProcess = hasProcess
            plan.consoleIsOurs = presetConsole >= 0 && consoleFD == presetConsole
            plan.cgroupLayout = layout
            plan.runtimeInUserNamespace = ctx.rootless && ctx.inUserNamespace
            if hasProcess { plan.settings = try ProcessSettings(spec: spec, process: process) }
            plan.uidMappings = spec.linux?.uidMappings ?? []
            plan.gidMappings = spec.linux?.gidMappings ?? []
            plan.timeOffsets = spec.linux?.timeOffsets ?? [:]
            plan.memoryLimit = spec.linux?.resources?.memory?.limit
            if ctx.logger.debugEnabled { plan.debugLog = ctx.logger }
            let launcher = Launcher(plan: plan, cgroup: cgroup)
            launcher.createRuntimeHooks = { (pid: Int32) throws(RuntimeError) in
                let state = State(id: opts.id, status: .creating, pid: pid, bundle: bundle, annotations: spec.annotations)
                try HookRunner.run(spec.hooks?.prestart ?? [], kind: "prestart", state: state)
                try HookRunner.run(spec.hooks?.createRuntime ?? [], kind: "createRuntime", state: state)
            }
            rollback.add {
                launcher.abort()
                hookFailure = launcher.hookFailed
            }
            let parentEnd = try launcher.launch()
            let initPid = launcher.initPid
            try pidfdSocket?.send(pid: initPid, name: "standard")
            guard let stat = ProcStat.read(pid: initPid) else {
                throw RuntimeError("container init (pid \(initPid)) exited during create")
            }
            var nsPaths: [String: String] = [:]
            for type in NamespaceType.allCases where plan.namespaces.has(type) {
                nsPaths[type.rawValue] = "/proc/\(initPid)/ns/\(type.procName)"
            }
            var record = ContainerRecord(
                id: opts.id, bundle: bundle, rootfs: rootfs, pid: initPid, pidStartTime: stat.startTime,
                created: Clock.rfc3339Now(), owner: "", annotations: spec.annotations, cgroupPaths: cgroup.paths,
                config: spec, namespacePaths: nsPaths, rootless: ctx.rootless ? true : nil)
            record.ownedCgroups = cgroup.owned.map { $0.sorted() }
            if !hasProcess { record.hasProcess = false }
            record.hostRootfsMount = hostMount
            record.configBytes = configBytes
            if plan.namespaces.newPid { record.pidNamespace = ProcStat.pidNamespace(of: initPid) }
            try ctx.store.save(record)
            if let pidFile = opts.pidFile {
                let path = pidFile.hasPrefix("/") ? pidFile : (currentDirectory() + "/" + pidFile)
                try FileIO.writeAtomic(path, Array(String(initPid).utf8))
            }
            try launcher.commit()
            ctx.store.removeIntent(opts.id)
            lock.release()
            return Bootstrapped(record: record, channel: parentEnd)
        } catch {
            rollback.run()
            throw error
        }
    }

    static func absolutePath(_ path: String, what: String) throws(RuntimeError) -> String {
        guard let resolved = realpath(path, nil) else { throw .sys("\(what) \(path)") }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    static func currentDirectory() -> String {
        guard let cwd = getcwd(nil, 0) else { return "." }
        defer { free(cwd) }
        return String(cString: cwd)
    }
}

/// Undo steps of a half-done operation, run in reverse order.
struct Rollback {
    private var steps: [() -> Void] = []
    mutating func add(_ step: @escaping () -> Void) { steps.append(step) }
    func run() { for step in steps.reversed() { step() } }
}

func reap(_ pid: Int32) {
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
}
