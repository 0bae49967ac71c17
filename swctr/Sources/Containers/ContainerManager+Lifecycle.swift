import Database
import Glibc
import HostOS
import Monitor
import RuntimeClient

extension ContainerManager {
    public func view(_ row: ContainerRow) -> ContainerView {
        let dir = directory(row.id)
        return ContainerView.reconcile(row: row, options: config(of: row), state: ContainerState.load(directory: dir),
                                       paused: FileIO.exists(dir + "/paused"))
    }

    public func list() throws(SwctrError) -> [ContainerView] {
        do { return try database.containers().map(view) } catch { throw SwctrError(.failure, "\(error)") }
    }

    /// `stop`: the stop signal, then SIGKILL after `timeout` seconds (the container's own
    /// --stop-timeout, else 10). A stopped container is left as it is.
    public func stop(_ ref: String, timeout: Int? = nil) throws(SwctrError) {
        let row = try find(ref)
        let v = view(row)
        guard v.isRunning else { return }
        let t = timeout ?? v.options.stopTimeout ?? 10
        let dir = directory(row.id)
        if v.status == .paused { try? unpause(ref) }
        if v.state.monitorAlive, let reply = MonitorClient.request(dir, "stop \(t)", timeoutMs: Int32(t + 15) * 1000),
           reply.hasPrefix("ok") {
            return
        }
        try stopWithoutMonitor(row, timeout: t)
    }

    /// The monitor is gone: stop the container through the runtime and record what happened.
    func stopWithoutMonitor(_ row: ContainerRow, timeout: Int) throws(SwctrError) {
        let dir = directory(row.id)
        var state = ContainerState.load(directory: dir) ?? ContainerState()
        if state.initAlive {
            let signal = config(of: row).stopSignal.flatMap { try? OptionParsing.signal($0) } ?? SIGTERM
            try? runtime.kill(row.id, signal: signal, all: false)
            let discarded = SignalDelivery.isDiscarded(signal, pid: state.pid)
            let deadline = Clock.monotonicNanos() + (discarded ? 0 : UInt64(timeout) * 1_000_000_000)
            while state.initAlive && Clock.monotonicNanos() < deadline { usleep(50_000) }
            if state.initAlive { try? runtime.kill(row.id, signal: SIGKILL, all: true) }
            let killed = Clock.monotonicNanos() + 10_000_000_000
            while state.initAlive {
                // Stuck in the kernel (uninterruptible sleep): say so rather than wait forever.
                guard Clock.monotonicNanos() < killed else {
                    throw SwctrError(.failure, "container \(row.id): its init (pid \(state.pid)) did not die after SIGKILL")
                }
                usleep(20_000)
            }
            state.exitCode = 137
        }
        try? runtime.delete(row.id, force: true)
        state.status = .exited
        state.stoppedByUser = true
        state.pid = 0
        state.finishedAt = Clock.rfc3339Now()
        try? state.save(in: dir)
        detachNetwork(row)
        Snapshot.unmount(dir)
    }

    /// `kill [-s SIGNAL]`.
    public func kill(_ ref: String, signal: Int32) throws(SwctrError) {
        let row = try find(ref)
        let v = view(row)
        guard v.status == .running || v.status == .paused else {
            throw SwctrError(.conflict, "Cannot kill container: \(ref): Container \(row.id) is not running")
        }
        if v.state.monitorAlive, let reply = MonitorClient.request(directory(row.id), "kill \(signal)", timeoutMs: 10_000) {
            if reply.hasPrefix("ok") { return }
            throw SwctrError(.runtimeFailure, "Cannot kill container: \(ref): " + reply.dropFirst(6))
        }
        do { try runtime.kill(row.id, signal: signal, all: false) } catch { throw Self.translate(error) }
    }

    public func restart(_ ref: String, timeout: Int? = nil) throws(SwctrError) {
        try stop(ref, timeout: timeout)
        try waitStopped(try find(ref), timeoutMs: 30_000)
        try start(ref)
    }

    public func pause(_ ref: String) throws(SwctrError) {
        let row = try find(ref)
        let v = view(row)
        guard v.status == .running else {
            throw SwctrError(.conflict, v.status == .paused ? "Container \(row.id) is already paused" : "Container \(row.id) is not running")
        }
        do { try runtime.pause(row.id) } catch { throw Self.translate(error) }
        try? FileIO.writeFile([], to: directory(row.id) + "/paused")
    }

    public func unpause(_ ref: String) throws(SwctrError) {
        let row = try find(ref)
        guard view(row).status == .paused else { throw SwctrError(.conflict, "Container \(row.id) is not paused") }
        do { try runtime.resume(row.id) } catch { throw Self.translate(error) }
        unlink(directory(row.id) + "/paused")
    }

    /// `wait`: blocks until the container stops (a restart in between does not count); returns
    /// its exit code.
    public func wait(_ ref: String) throws(SwctrError) -> Int32 {
        let row = try find(ref)
        while true {
            let v = view(row)
            if v.status == .exited || v.status == .dead { return v.state.exitCode }
            usleep(100_000)
            // Removed meanwhile (rm -f, or --rm after it stopped): its directory is gone.
            guard FileIO.exists(directory(row.id)) else { return v.state.exitCode }
        }
    }

    func waitStopped(_ row: ContainerRow, timeoutMs: Int) throws(SwctrError) {
        let deadline = Clock.monotonicNanos() + UInt64(timeoutMs) * 1_000_000
        while view(row).isRunning {
            if Clock.monotonicNanos() > deadline { throw SwctrError(.failure, "container \(row.id) did not stop") }
            usleep(20_000)
        }
    }

    public func rename(_ ref: String, to name: String) throws(SwctrError) {
        guard Names.isValid(name) else {
            throw SwctrError(.invalidArgument, "Invalid container name (\(name)), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")
        }
        var row = try find(ref)
        guard row.name != name else {
            throw SwctrError(.conflict, "Renaming a container with the same name as its current name")
        }
        row.name = name
        do { try database.update(row) } catch let e as SwctrError { throw e } catch { throw SwctrError(.failure, "\(error)") }
    }

    /// `rm [-f]`: a running container only with force (killed first); its files, mounts and
    /// row go, whatever state they were left in.
    /// With `volumes` (rm -v), its anonymous volumes go too.
    public func remove(_ ref: String, force: Bool, volumes: Bool = false) throws(SwctrError) {
        let row = try find(ref)
        let v = view(row)
        if v.isRunning {
            guard force else {
                throw SwctrError(.conflict, "You cannot remove a running container \(row.id). Stop the container before attempting removal or force remove")
            }
            try stop(ref, timeout: 0)
            try? waitStopped(row, timeoutMs: 15_000)
        }
        try locked(row.id) { () throws(SwctrError) in
            try? runtime.delete(row.id, force: true)
            detachNetwork(row)
            let dir = directory(row.id)
            Snapshot.unmount(dir)
            FileIO.removeTree(dir)
            do { try database.deleteContainer(row.id) } catch { throw SwctrError(.failure, "\(error)") }
        }
        if volumes { removeAnonymousVolumes(config(of: row)) }
    }

    /// The monitor's exit command: the container is gone for good, so its rootfs is unmounted,
    /// and with --rm it is removed.
    public func cleanup(_ ref: String) throws(SwctrError) {
        guard let row = try? find(ref) else { return }
        let v = view(row)
        if v.isRunning { return }
        if v.options.autoRemove {
            try remove(row.id, force: false, volumes: true)
            return
        }
        try locked(row.id) { () throws(SwctrError) in
            detachNetwork(row)
            Snapshot.unmount(directory(row.id))
        }
    }

    /// `container prune`: every stopped or created container; returns the ids removed.
    public func prune() throws(SwctrError) -> [String] {
        var removed: [String] = []
        for v in try list() where !v.isRunning {
            try remove(v.row.id, force: false)
            removed.append(v.row.id)
        }
        return removed
    }
}
