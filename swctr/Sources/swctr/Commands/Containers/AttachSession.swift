import Containers
import Glibc
import HostOS
import Monitor

/// The foreground side of `run` (and `start -a`): frames from the monitor go to our stdout and
/// stderr, our stdin (with -i) goes to the container, signals we get are passed on (without a
/// terminal, as Docker's --sig-proxy does), the terminal is raw and its size followed with -t.
/// The detach keys (ctrl-p ctrl-q by default) typed on stdin leave the container running.
struct AttachSession {
    enum Outcome: Equatable {
        case exited(Int32)
        case detached
        /// The monitor went away without an exit code.
        case lost
    }

    let fd: Int32
    var pending: [UInt8]
    let directory: String
    let interactive: Bool
    let tty: Bool
    let proxySignals: Bool
    var detachKeys: [UInt8] = DetachKeys.default
    /// Which of the container's streams are shown (`run -a`); the others are left to its log.
    var showStdout = true
    var showStderr = true

    static let forwardedSignals: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH]

    /// The read end of the signal pipe `main` installed for run and start.
    nonisolated(unsafe) static var signalPipe: Int32?

    func run() -> Outcome {
        let signals = Self.signalPipe
        var keys = DetachKeys.Matcher(sequence: detachKeys)
        let terminal = tty && isatty(0) == 1 ? RawTerminal(fd: 0) : nil
        defer { terminal?.restore() }
        if tty { sendWindowSize() }
        var buffer = pending
        var stdinOpen = interactive
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            for (kind, payload) in AttachFrame.decode(&buffer) {
                switch kind {
                case .stdout: if showStdout { _ = try? FileIO.writeAll(1, payload, what: "stdout") }
                case .stderr: if showStderr { _ = try? FileIO.writeAll(2, payload, what: "stderr") }
                case .exit: return .exited(Int32(String(decoding: payload, as: UTF8.self)) ?? 255)
                default: break
                }
            }
            var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: signals ?? -1, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: stdinOpen ? 0 : -1, events: Int16(POLLIN), revents: 0)]
            if poll(&fds, 3, -1) < 0 {
                if errno == EINTR { continue }
                return .lost
            }
            if fds[1].revents != 0, let signals {
                while let sig = SignalPipe.read(signals) {
                    if sig == SIGWINCH {
                        if tty { sendWindowSize() }
                    } else if proxySignals && !tty {
                        _ = MonitorClient.request(directory, "signal \(sig)", timeoutMs: 5_000)
                    }
                }
            }
            if fds[2].revents != 0 {
                let n = read(0, &chunk, chunk.count)
                if n > 0 {
                    let (forward, detach) = keys.feed(chunk[0..<n])
                    if !forward.isEmpty { send(.stdin, forward) }
                    if detach { return .detached }
                } else if n == 0 || (errno != EINTR && errno != EAGAIN) {
                    stdinOpen = false
                    send(.closeStdin, [])
                }
            }
            if fds[0].revents != 0 {
                let n = read(fd, &chunk, chunk.count)
                if n <= 0 {
                    if n < 0 && errno == EINTR { continue }
                    return .lost
                }
                buffer.append(contentsOf: chunk[0..<n])
            }
        }
    }

    func send(_ kind: AttachFrame.Kind, _ payload: some Collection<UInt8>) {
        _ = try? FileIO.writeAll(fd, AttachFrame.encode(kind, payload), what: "attach")
    }

    func sendWindowSize() {
        var size = winsize()
        guard ioctl(1, UInt(TIOCGWINSZ), &size) == 0 || ioctl(0, UInt(TIOCGWINSZ), &size) == 0 else { return }
        send(.resize, Array("\(size.ws_row) \(size.ws_col)".utf8))
    }
}

/// The caller's terminal in raw mode for as long as a container has it.
final class RawTerminal {
    let fd: Int32
    var saved = termios()
    let active: Bool

    init?(fd: Int32) {
        self.fd = fd
        guard tcgetattr(fd, &saved) == 0 else { return nil }
        var raw = saved
        cfmakeraw(&raw)
        active = tcsetattr(fd, TCSANOW, &raw) == 0
    }

    func restore() { if active { tcsetattr(fd, TCSANOW, &saved) } }
}
