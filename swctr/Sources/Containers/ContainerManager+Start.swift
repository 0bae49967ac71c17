import Database
import Glibc
import HostOS
import Images
import Monitor
import Registry

/// A monitor that was started: its pid, and for a foreground run the attached connection.
public struct StartedMonitor: Sendable {
    public var pid: Int32
    /// The attach connection (frames), when `attach` was asked for, and frame bytes already
    /// read from it.
    public var attachFD: Int32
    public var pending: [UInt8] = []
}

extension ContainerManager {
    /// Starts a created or stopped container under a new monitor. With `attach` the monitor
    /// waits for this process to attach before it starts the container, so a foreground `run`
    /// sees all of its output. An already running container is left as it is.
    @discardableResult
    public func start(_ ref: String, attach: Bool = false) throws(SwctrError) -> StartedMonitor? {
        let row = try find(ref)
        return try locked(row.id) { () throws(SwctrError) -> StartedMonitor? in
            let current = view(row)
            switch current.status {
            case .running, .paused, .restarting: return nil
            default: break
            }
            let dir = directory(row.id)
            // What a dead monitor or a reboot left: the runtime's record of an old run.
            try? runtime.delete(row.id, force: true)
            let record = try imageRecord(of: row)
            try Snapshot.mount(dir, layers: record.layerIDs, store: store)
            let options = config(of: row)
            do throws(SwctrError) { try attachNetwork(row, options) } catch {
                Snapshot.unmount(dir)
                throw error
            }
            let monitor = monitorConfig(row, options)
            do { try monitor.save() } catch {
                detachNetwork(row)
                Snapshot.unmount(dir)
                throw SwctrError(.failure, "write \(MonitorConfig.path(in: dir)): \(error)")
            }
            do throws(SwctrError) { return try launchMonitor(dir, attach: attach) } catch {
                detachNetwork(row)
                throw error
            }
        }
    }

    func monitorConfig(_ row: ContainerRow, _ options: ContainerConfig) -> MonitorConfig {
        let dir = directory(row.id)
        let health = options.healthcheck.flatMap { $0.test == ["NONE"] || $0.test.isEmpty ? nil : $0.resolved }
        let stopSignal = options.stopSignal.flatMap { try? OptionParsing.signal($0) } ?? SIGTERM
        let cgroup = "/sys/fs/cgroup/memory\(options.cgroupParent)/\(row.id)"
        return MonitorConfig(
            id: row.id, runtime: runtimeBinary, runtimeRoot: runtimeRoot, directory: dir,
            log: LogOptions(path: logPath(row.id), maxSize: options.log.maxSize, maxFiles: options.log.maxFiles),
            tty: options.tty, openStdin: options.openStdin, restart: options.restart, health: health,
            stopSignal: stopSignal, stopTimeout: options.stopTimeout ?? 10,
            exitCommand: [swctrBinary, "--root", store.root, "--runtime", runtimeBinary, "container", "cleanup", row.id],
            memoryCgroup: FileIO.exists("/sys/fs/cgroup/memory") ? cgroup : "/sys/fs/cgroup\(options.cgroupParent)/\(row.id)")
    }

    /// Spawns the monitor in a session of its own and waits for its report of the first start:
    /// "pid N", then "ok" or "error KIND MESSAGE".
    func launchMonitor(_ dir: String, attach: Bool) throws(SwctrError) -> StartedMonitor {
        let pipe: (Int32, Int32)
        do { pipe = try ProcessControl.pipe() } catch { throw SwctrError(.failure, error.message) }
        defer { close(pipe.0) }
        ProcessControl.setCloseOnExec(pipe.1, false)
        var argv = [monitorBinary, dir, "--sync-fd", String(pipe.1)]
        if attach { argv.append("--wait-attach") }
        let launcher: pid_t
        do {
            launcher = try Spawn.startQuiet(argv, newSession: true)
        } catch {
            close(pipe.1)
            Snapshot.unmount(dir)
            throw SwctrError(.failure, "cannot run the container monitor \(monitorBinary): \(error.message)")
        }
        close(pipe.1)
        _ = Spawn.wait(launcher)
        var reader = LineReader(fd: pipe.0)
        let first = reader.next()
        guard let first, first.hasPrefix("pid "), let pid = Int32(first.dropFirst(4)) else {
            Snapshot.unmount(dir)
            // "error KIND MESSAGE" when it could not even set itself up.
            let reason = first.map { $0.split(separator: " ", maxSplits: 2).dropFirst(2).joined() } ?? ""
            throw SwctrError(.failure, "the container monitor exited before it started the container" + (reason.isEmpty ? "" : ": \(reason)"))
        }
        var attachFD: Int32 = -1
        var pending: [UInt8] = []
        if attach {
            guard let connection = MonitorClient.attach(dir) else {
                throw SwctrError(.failure, "cannot attach to the container's monitor")
            }
            attachFD = connection.fd
            // Frames may already follow the acknowledgement in the same read.
            pending = connection.pending
        }
        guard let result = reader.next() else {
            throw SwctrError(.failure, "the container monitor exited before it started the container")
        }
        if result == "ok" { return StartedMonitor(pid: pid, attachFD: attachFD, pending: pending) }
        if attachFD >= 0 { close(attachFD) }
        // The monitor cleans up (and removes a --rm container) before it exits: wait for that.
        waitForExit(pid: pid, timeoutMs: 30_000)
        let words = result.split(separator: " ", maxSplits: 2).map(String.init)
        let message = words.count == 3 ? words[2] : result
        switch words.count > 1 ? words[1] : "" {
        case "notFound": throw SwctrError(.commandNotFound, message)
        case "notExecutable": throw SwctrError(.commandNotExecutable, message)
        default: throw SwctrError(.runtimeFailure, message)
        }
    }

    /// Polls a process that is not our child until it has gone.
    public func waitForExit(pid: Int32, timeoutMs: Int32) {
        let fd = ProcessControl.pidfd(pid)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        _ = poll(&pfd, 1, timeoutMs)
    }
}

/// Lines from an fd, one at a time (the monitor's sync pipe, a control-socket reply).
struct LineReader {
    let fd: Int32
    var buffer: [UInt8] = []

    init(fd: Int32) { self.fd = fd }

    /// Whatever was read past the last line returned.
    var rest: [UInt8] { buffer }

    mutating func next() -> String? {
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            if let nl = buffer.firstIndex(of: 0x0a) {
                let line = String(decoding: buffer[..<nl], as: UTF8.self)
                buffer.removeSubrange(...nl)
                return line
            }
            let n = read(fd, &chunk, chunk.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return nil }
            buffer.append(contentsOf: chunk[0..<n])
        }
    }
}
