import Glibc
import HostOS
import Logs
import RuntimeClient

/// A connection on the control socket: first a request line, then (for `attach`) frames.
final class Client {
    /// -1 once dropped (the loop then forgets it).
    var fd: Int32
    var request: [UInt8] = []
    var attached = false
    var input: [UInt8] = []
    /// `stop` waits for the container to exit before its reply.
    var awaitingExit = false

    init(fd: Int32) { self.fd = fd }
}

extension Supervisor {
    /// Serves everything until the container's init has exited and its output is drained.
    func waitForExit() {
        while exitStatus == nil {
            pollOnce(until: nil)
        }
        // The init is gone; whatever it (or its children) wrote is still in the pipes.
        let drainUntil = Clock.monotonicNanos() + 1_000_000_000
        while (stdoutFD >= 0 || stderrFD >= 0 || masterFD >= 0) && Clock.monotonicNanos() < drainUntil {
            if !pollOutputs(timeoutMs: 50) { break }
        }
        log.flush()
    }

    /// One round of the loop: signals, the control socket, clients, output, timers.
    func pollOnce(until deadline: UInt64?) {
        var fds: [pollfd] = [pollfd(fd: signals.fd, events: Int16(POLLIN), revents: 0),
                             pollfd(fd: control, events: Int16(POLLIN), revents: 0)]
        let outputs = [stdoutFD, stderrFD, masterFD]
        for fd in outputs { fds.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0)) }
        // The clients polled this round (accepting below adds to `clients`).
        let polled = clients
        for c in polled { fds.append(pollfd(fd: c.fd, events: Int16(POLLIN), revents: 0)) }
        let now = Clock.monotonicNanos()
        var wake = [deadline, stopDeadline, health?.nextEvent].compactMap { $0 }.min()
        if wake == nil && exitStatus != nil { wake = now }
        let timeout = wake.map { $0 <= now ? 0 : Int32(min(($0 - now) / 1_000_000 + 1, 60_000)) } ?? 60_000
        _ = poll(&fds, nfds_t(fds.count), timeout)
        if fds[0].revents != 0 { handleSignals() }
        if fds[1].revents != 0 { acceptClients() }
        for (i, fd) in outputs.enumerated() where fd >= 0 && fds[2 + i].revents != 0 { readOutput(fd) }
        for (i, c) in polled.enumerated() where c.fd >= 0 && fds[5 + i].revents != 0 { readClient(c) }
        clients.removeAll { $0.fd < 0 }
        timers()
    }

    /// Output only (after the init exited); false when nothing is left open.
    func pollOutputs(timeoutMs: Int32) -> Bool {
        let outputs = [stdoutFD, stderrFD, masterFD]
        var fds = outputs.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        guard poll(&fds, nfds_t(fds.count), timeoutMs) > 0 else { return false }
        for (i, fd) in outputs.enumerated() where fd >= 0 && fds[i].revents != 0 { readOutput(fd) }
        return true
    }

    func handleSignals() {
        while let sig = signals.read() {
            switch sig {
            case SIGCHLD: reap()
            default:
                // The monitor itself is being stopped (a host shutting down): stop the container.
                requestStop(timeout: config.stopTimeout)
            }
        }
    }

    func reap() {
        var status: Int32 = 0
        while true {
            let pid = waitpid(-1, &status, WNOHANG)
            if pid <= 0 { break }
            if pid == initPid {
                exitStatus = Spawn.Status(waitStatus: status).code
                initPid = 0
            } else if health?.pid == pid {
                health?.finished(status: Spawn.Status(waitStatus: status))
                recordHealth()
            }
        }
    }

    func timers() {
        let now = Clock.monotonicNanos()
        if let d = stopDeadline, now >= d, exitStatus == nil {
            try? runtime.kill(config.id, signal: SIGKILL, all: true)
            stopDeadline = nil
        }
        if exitStatus == nil, let h = health {
            if h.timedOut(now: now) {
                recordHealth()
            } else if h.due(now: now) {
                h.launch()
            }
        }
    }

    func recordHealth() {
        guard let h = health, let result = h.takeResult() else { return }
        var current = state.health ?? Health()
        current.record(result, retries: h.config.retries, inStartPeriod: h.inStartPeriod)
        state.health = current
        save()
    }

    // MARK: clients

    func acceptClients() {
        while true {
            let fd = accept(control, nil, nil)
            if fd < 0 { break }
            ProcessControl.setCloseOnExec(fd, true)
            ProcessControl.setNonBlocking(fd)
            clients.append(Client(fd: fd))
        }
    }

    func readClient(_ c: Client) {
        var buf = [UInt8](repeating: 0, count: 65536)
        let n = read(c.fd, &buf, buf.count)
        if n <= 0 {
            if n < 0 && (errno == EAGAIN || errno == EINTR) { return }
            drop(c)
            return
        }
        if !c.attached {
            c.request.append(contentsOf: buf[0..<n])
            guard let nl = c.request.firstIndex(of: 0x0a) else { return }
            let line = String(decoding: c.request[..<nl], as: UTF8.self)
            let rest = Array(c.request[(nl + 1)...])
            c.request = []
            handle(request: line, from: c)
            if c.attached && !rest.isEmpty { frames(rest, from: c) }
            return
        }
        frames(Array(buf[0..<n]), from: c)
    }

    func handle(request line: String, from c: Client) {
        let words = line.split(separator: " ").map(String.init)
        switch words.first ?? "" {
        case "attach":
            c.attached = true
            // An attached client gets all of the output, in whole frames: its writes block
            // (a slow terminal slows the container, as with Docker) instead of dropping bytes.
            ProcessControl.setBlocking(c.fd)
            send(c, "ok\n")
        case "stop":
            c.awaitingExit = true
            requestStop(timeout: words.count > 1 ? Int(words[1]) ?? config.stopTimeout : config.stopTimeout)
            if exitStatus != nil || initPid == 0 { send(c, "ok \(state.exitCode)\n"); drop(c) }
        case "kill":
            let sig = words.count > 1 ? Int32(words[1]) ?? SIGKILL : SIGKILL
            // A kill the user sends ends the policy's restarts (Docker counts it as a stop).
            stopRequested = true
            state.stoppedByUser = true
            save()
            do {
                try runtime.kill(config.id, signal: sig, all: false)
                send(c, "ok\n")
            } catch {
                send(c, "error \(error.message)\n")
            }
            drop(c)
        case "signal":
            // A signal a foreground client passes on (its Ctrl-C): the restart policy still applies.
            if words.count > 1, let sig = Int32(words[1]), exitStatus == nil, initPid > 0 {
                try? runtime.kill(config.id, signal: sig, all: false)
            }
            send(c, "ok\n")
            drop(c)
        case "resize":
            if words.count == 3, let rows = UInt16(words[1]), let cols = UInt16(words[2]), masterFD >= 0 {
                ProcessControl.setWindowSize(masterFD, rows: rows, columns: cols)
            }
            send(c, "ok\n")
            drop(c)
        case "state":
            send(c, "ok \(state.status.rawValue)\n")
            drop(c)
        default:
            send(c, "error unknown request\n")
            drop(c)
        }
    }

    func frames(_ bytes: [UInt8], from c: Client) {
        c.input.append(contentsOf: bytes)
        for (kind, payload) in AttachFrame.decode(&c.input) {
            switch kind {
            case .stdin:
                if stdinFD >= 0 { _ = try? FileIO.writeAll(stdinFD, payload, what: "stdin") }
            case .closeStdin:
                if stdinFD >= 0 && stdinFD != masterFD { close(stdinFD); stdinFD = -1 }
            case .resize:
                let words = String(decoding: payload, as: UTF8.self).split(separator: " ")
                if words.count == 2, let r = UInt16(words[0]), let w = UInt16(words[1]), masterFD >= 0 {
                    ProcessControl.setWindowSize(masterFD, rows: r, columns: w)
                }
            default: break
            }
        }
    }

    func requestStop(timeout: Int) {
        stopRequested = true
        state.stoppedByUser = true
        save()
        guard exitStatus == nil, initPid > 0 else { return }
        try? runtime.kill(config.id, signal: config.stopSignal, all: false)
        // A PID 1 without a handler never sees the signal (busybox httpd, sleep): the grace
        // period would only be waited out, so the kill comes at once.
        let discarded = SignalDelivery.isDiscarded(config.stopSignal, pid: initPid)
        stopDeadline = Clock.monotonicNanos() + (discarded ? 0 : UInt64(max(0, timeout)) * 1_000_000_000)
    }

    func send(_ c: Client, _ text: String) {
        _ = Array(text.utf8).withUnsafeBytes { write(c.fd, $0.baseAddress, $0.count) }
    }

    func drop(_ c: Client) {
        if c.fd >= 0 { close(c.fd) }
        c.fd = -1
    }

    /// Attached clients hear the exit code; stop requests get their reply.
    func finishClients(exitCode: Int32) {
        for c in clients where c.fd >= 0 {
            if c.attached {
                let frame = AttachFrame.encode(.exit, Array(String(exitCode).utf8))
                _ = frame.withUnsafeBytes { write(c.fd, $0.baseAddress, $0.count) }
            }
            if c.awaitingExit { send(c, "ok \(exitCode)\n"); drop(c) }
        }
        clients.removeAll { $0.fd < 0 }
    }

    func closeClients() {
        for c in clients where c.fd >= 0 { close(c.fd) }
        clients = []
    }

    /// A foreground `run` attaches before the container starts (up to 10 s), so that nothing it
    /// prints is lost.
    func awaitFirstAttach() {
        let deadline = Clock.monotonicNanos() + 10_000_000_000
        while !clients.contains(where: { $0.attached }) && Clock.monotonicNanos() < deadline {
            pollOnce(until: deadline)
        }
    }

    // MARK: output

    func readOutput(_ fd: Int32) {
        var buf = [UInt8](repeating: 0, count: 65536)
        let n = read(fd, &buf, buf.count)
        if n <= 0 {
            if n < 0 && (errno == EAGAIN || errno == EINTR) { return }
            if fd == stdoutFD { stdoutFD = -1 } else if fd == stderrFD { stderrFD = -1 } else if fd == masterFD { masterFD = -1; if stdinFD == fd { stdinFD = -1 } }
            close(fd)
            return
        }
        let stream: LogEntry.Stream = fd == stderrFD ? .stderr : .stdout
        log.write(buf[0..<n], stream: stream)
        let frame = AttachFrame.encode(stream == .stderr ? .stderr : .stdout, buf[0..<n])
        for c in clients where c.attached && c.fd >= 0 {
            if (try? FileIO.writeAll(c.fd, frame, what: "attach")) == nil { drop(c) }
        }
    }
}
