import Glibc
import HostOS
import Logs
import RuntimeClient

/// The per-container monitor: a single-threaded poll loop that owns the container's stdio, writes
/// its log, records its exit status (before anything else happens), applies the restart policy
/// with Docker's backoff, runs health checks, serves attach/stop/kill clients on the control
/// socket, and runs the exit command when the container is gone for good. It outlives the CLI
/// that started it; nothing here needs a database or Foundation.
public final class Supervisor {
    let config: MonitorConfig
    let runtime: SwruncCLI
    var state: ContainerState
    let log: LogWriter
    let signals: SignalFD
    let control: Int32
    /// Where the first start is reported to the CLI that spawned us (-1 once reported).
    var syncFD: Int32
    /// Wait for the first attach before starting (a foreground `run` must not miss output).
    let waitForAttach: Bool

    // The current run.
    var initPid: Int32 = 0
    var exitStatus: Int32?
    var stdoutFD: Int32 = -1
    var stderrFD: Int32 = -1
    var stdinFD: Int32 = -1
    var masterFD: Int32 = -1
    var clients: [Client] = []
    var stopDeadline: UInt64?
    var stopRequested = false
    var health: HealthRunner?

    public init(config: MonitorConfig, syncFD: Int32, waitForAttach: Bool) throws {
        self.config = config
        self.syncFD = syncFD
        self.waitForAttach = waitForAttach
        runtime = SwruncCLI(binary: config.runtime, root: config.runtimeRoot, scratch: config.directory)
        log = try LogWriter(path: config.log.path, maxSize: config.log.maxSize, maxFiles: config.log.maxFiles)
        signals = try SignalFD([SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT])
        control = try UnixSocket.listen(AttachFrame.socketPath(in: config.directory))
        ProcessControl.setNonBlocking(control)
        var state = ContainerState.load(directory: config.directory) ?? ContainerState()
        state.monitorPid = getpid()
        state.monitorStartTime = ProcStat.read(pid: getpid())?.startTime ?? 0
        state.restartCount = 0
        state.stoppedByUser = false
        state.error = ""
        state.health = config.health?.command != nil ? Health() : nil
        self.state = state
    }

    /// Runs the container until it is gone for good; returns the process exit status.
    public func run() -> Int32 {
        ProcessControl.becomeSubreaper()
        signal(SIGPIPE, SIG_IGN)
        // The CLI learns who we are (to wait for us) and that the control socket is up.
        tell("pid \(getpid())\n")
        if waitForAttach { awaitFirstAttach() }
        var consecutive = 0
        var first = true
        while true {
            do {
                try startContainer()
            } catch {
                record(failure: error, first: first)
                break
            }
            if first {
                report("ok\n")
                first = false
                TextPages.release()
            }
            let started = Clock.monotonicNanos()
            waitForExit()
            let code = exitStatus ?? 255
            let oom = oomKills() > oomAtStart
            state.status = .exited
            state.pid = 0
            state.exitCode = oom && code == 137 ? 137 : code
            state.oomKilled = oom
            state.finishedAt = Clock.rfc3339Now()
            save()
            finishClients(exitCode: state.exitCode)
            try? runtime.delete(config.id, force: true)
            closeStdio()
            if Clock.monotonicNanos() - started >= RestartPolicy.resetAfterNanos { consecutive = 0 }
            guard config.restart.shouldRestart(exitCode: state.exitCode, restarts: state.restartCount,
                                               stoppedByUser: state.stoppedByUser || stopRequested) else { break }
            state.status = .restarting
            save()
            if !sleepForRestart(RestartPolicy.backoffNanos(consecutive: consecutive)) {
                state.status = .exited
                save()
                break
            }
            consecutive += 1
            state.restartCount += 1
        }
        report("ok\n")
        closeClients()
        close(control)
        unlink(AttachFrame.socketPath(in: config.directory))
        if !config.exitCommand.isEmpty { _ = try? Spawn.run(config.exitCommand) }
        return 0
    }

    var oomAtStart: UInt64 = 0

    /// create + start through the runtime, with pipes (or a pty) as the container's stdio.
    func startContainer() throws {
        exitStatus = nil
        stopDeadline = nil
        try? runtime.delete(config.id, force: true)
        oomAtStart = oomKills()
        let pidFile = config.directory + "/init.pid"
        unlink(pidFile)
        let devnull = open("/dev/null", O_RDWR | O_CLOEXEC)
        defer { close(devnull) }
        var consoleListener: Int32 = -1
        var child: (Int32, Int32, Int32) = (devnull, devnull, devnull)
        if config.tty {
            consoleListener = try UnixSocket.listen(config.directory + "/console.sock")
        } else {
            let out = try ProcessControl.pipe()
            let err = try ProcessControl.pipe()
            stdoutFD = out.0
            stderrFD = err.0
            child.1 = out.1
            child.2 = err.1
            if config.openStdin {
                let input = try ProcessControl.pipe()
                stdinFD = input.1
                child.0 = input.0
            }
        }
        defer {
            for fd in [child.0, child.1, child.2] where fd != devnull { close(fd) }
            if consoleListener >= 0 { close(consoleListener); unlink(config.directory + "/console.sock") }
        }
        if config.tty {
            let creator = try Spawn.start(createArgv(pidFile: pidFile, console: config.directory + "/console.sock"),
                                          Spawn.Options(stdin: devnull, stdout: devnull, stderr: devnull))
            // swrunc connects to the console socket during create; it may also fail before that.
            let creatorFD = ProcessControl.pidfd(creator)
            while masterFD < 0 {
                var fds = [pollfd(fd: consoleListener, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: creatorFD, events: Int16(POLLIN), revents: 0)]
                if poll(&fds, 2, 60_000) <= 0 { break }
                if fds[0].revents != 0 {
                    let conn = accept(consoleListener, nil, nil)
                    if conn >= 0 {
                        masterFD = (try? UnixSocket.receiveFD(conn)) ?? -1
                        close(conn)
                    }
                } else if fds[1].revents != 0 {
                    break
                }
            }
            if creatorFD >= 0 { close(creatorFD) }
            let status = Spawn.wait(creator)
            guard status == .exited(0), masterFD >= 0 else {
                throw RuntimeCallError(.failed, "create \(config.id) failed (\(status))")
            }
            stdinFD = masterFD
        } else {
            try runtime.create(config.id, bundle: config.directory, pidFile: pidFile, consoleSocket: nil,
                               stdio: RuntimeStdio(stdin: child.0, stdout: child.1, stderr: child.2))
        }
        guard let text = try? FileIO.readString(pidFile), let pid = Int32(text.trimmed()) else {
            throw RuntimeCallError(.failed, "create \(config.id): no pid file")
        }
        initPid = pid
        try runtime.start(config.id)
        state.status = .running
        state.pid = pid
        state.pidStartTime = ProcStat.read(pid: pid)?.startTime ?? 0
        state.startedAt = Clock.rfc3339Now()
        state.exitCode = 0
        state.oomKilled = false
        if let hc = config.health, let command = hc.command {
            health = HealthRunner(config: hc, command: command, runtime: config.runtime, root: config.runtimeRoot,
                                  id: config.id, directory: config.directory)
            if state.health == nil { state.health = Health() }
        }
        save()
    }

    /// The runtime's create with the container's stdio and a console socket, run by hand
    /// (`SwruncCLI.create` waits, and the console socket must be served meanwhile).
    func createArgv(pidFile: String, console: String) -> [String] {
        [config.runtime, "--root", config.runtimeRoot, "create", "--bundle", config.directory,
         "--pid-file", pidFile, "--console-socket", console, config.id]
    }

    func record(failure error: any Error, first: Bool) {
        let (message, kind) = Self.describe(error)
        state.status = .exited
        state.exitCode = kind == "notFound" ? 127 : kind == "notExecutable" ? 126 : 128
        state.error = message
        state.finishedAt = Clock.rfc3339Now()
        save()
        try? runtime.delete(config.id, force: true)
        closeStdio()
        if first { report("error \(kind) \(message)\n") }
    }

    static func describe(_ error: any Error) -> (String, String) {
        guard let e = error as? RuntimeCallError else { return ("\(error)", "failed") }
        switch e.kind {
        case .commandNotFound: return (e.message, "notFound")
        case .commandNotExecutable: return (e.message, "notExecutable")
        default: return (e.message, "failed")
        }
    }

    /// The last line to the CLI waiting for the first start; then the pipe is closed.
    func report(_ line: String) {
        tell(line)
        if syncFD >= 0 { close(syncFD) }
        syncFD = -1
    }

    func tell(_ line: String) {
        guard syncFD >= 0 else { return }
        _ = try? FileIO.writeAll(syncFD, Array(line.utf8), what: "sync")
    }

    func save() {
        state.health = health.map { _ in state.health ?? Health() } ?? state.health
        try? state.save(in: config.directory)
    }

    func closeStdio() {
        for fd in [stdoutFD, stderrFD] where fd >= 0 { close(fd) }
        if stdinFD >= 0 && stdinFD != masterFD { close(stdinFD) }
        if masterFD >= 0 { close(masterFD) }
        stdoutFD = -1
        stderrFD = -1
        stdinFD = -1
        masterFD = -1
        health = nil
    }

    /// The kernel's OOM-kill count for the container's memory cgroup.
    func oomKills() -> UInt64 {
        guard let dir = config.memoryCgroup else { return 0 }
        for file in ["memory.oom_control", "memory.events"] {
            guard let text = try? FileIO.readString("\(dir)/\(file)") else { continue }
            for line in text.split(separator: "\n") where line.hasPrefix("oom_kill ") {
                return UInt64(line.dropFirst(9)) ?? 0
            }
        }
        return 0
    }

    /// Backoff before a restart, still serving the control socket; false when a stop came.
    func sleepForRestart(_ nanos: UInt64) -> Bool {
        let deadline = Clock.monotonicNanos() + nanos
        while Clock.monotonicNanos() < deadline {
            pollOnce(until: deadline)
            if stopRequested { return false }
        }
        return true
    }
}
