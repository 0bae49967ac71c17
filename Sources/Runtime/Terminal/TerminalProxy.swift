import Glibc
import CShim

/// For `swrunc run` with a terminal and no console socket: copy between our stdio and the pty
/// master, with our own terminal (if stdin is one) in raw mode, as runc does.
final class TerminalProxy {
    let master: Int32
    private var saved: termios?
    private var stdinOpen = true
    private var masterOpen = true

    init(master: Int32) {
        self.master = master
        if isatty(0) != 0 {
            var t = termios()
            if tcgetattr(0, &t) == 0 {
                saved = t
                var raw = t
                cfmakeraw(&raw)
                takeTypedAhead()
                tcsetattr(0, TCSANOW, &raw)
            }
            resize()
        }
    }

    /// Lines and end-of-file marks typed before we got here (`script` forwards its piped input at
    /// once and types ^D at its end) are read while the terminal is still canonical and passed on:
    /// going raw would turn a pending end-of-file into a NUL byte the container's terminal echoes
    /// as "^@", and flushing instead would lose the typed lines. A partial line stays queued and
    /// is read raw.
    private func takeTypedAhead() {
        var buf = [UInt8](repeating: 0, count: 4096)
        for _ in 0..<256 {
            var pfd = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, 0) == 1, pfd.revents & Int16(POLLIN) != 0 else { return }
            let n = buf.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
            if n < 0 { return }
            if n == 0 {
                var eof = UInt8(4)
                _ = write(master, &eof, 1)
            } else {
                writeAll(buf[0..<n], to: master)
            }
        }
    }

    var pollSet: [pollfd] {
        [pollfd(fd: masterOpen ? master : -1, events: Int16(POLLIN), revents: 0),
         pollfd(fd: stdinOpen ? 0 : -1, events: Int16(POLLIN), revents: 0)]
    }

    func pump(_ fds: [pollfd]) {
        guard fds.count == 2 else { return }
        if fds[0].revents & Int16(POLLIN) != 0 {
            if !copy(from: master, to: 1) { masterOpen = false }
        } else if fds[0].revents & Int16(POLLHUP | POLLERR) != 0 {
            // The last holder of the pty slave is gone: nothing more will come; stop polling it.
            masterOpen = false
        }
        if fds[1].revents & Int16(POLLIN | POLLHUP) != 0 {
            if !copy(from: 0, to: master) {
                stdinOpen = false
                // End of piped input: send EOF (^D) so a shell reading the terminal sees it. Not
                // for a terminal of ours (runc sends nothing then): the ^D `script` types at its
                // own end of input would come back as an echoed "^@" in the output.
                if saved == nil {
                    var eot: UInt8 = 4
                    _ = write(master, &eot, 1)
                }
            }
        }
    }

    /// Copies what is readable now; false at end of input.
    @discardableResult
    private func copy(from: Int32, to: Int32) -> Bool {
        var buf = [UInt8](repeating: 0, count: 16384)
        let n = buf.withUnsafeMutableBytes { read(from, $0.baseAddress, $0.count) }
        if n <= 0 { return false }
        writeAll(buf[0..<n], to: to)
        return true
    }

    private func writeAll(_ bytes: ArraySlice<UInt8>, to fd: Int32) {
        var rest = bytes
        while !rest.isEmpty {
            let w = rest.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if w <= 0 { return }
            rest = rest.dropFirst(w)
        }
    }

    func drain() {
        _ = cshim_fcntl_int(master, F_SETFL, O_NONBLOCK)
        while copy(from: master, to: 1) {}
    }

    func resize() {
        var ws = winsize()
        if cshim_ioctl_ptr(0, UInt(TIOCGWINSZ), &ws) == 0 { _ = cshim_ioctl_ptr(master, UInt(TIOCSWINSZ), &ws) }
    }

    func restore() {
        if var t = saved { tcsetattr(0, TCSANOW, &t) }
    }

    /// Lines come out ending in "\n", not "\r\n": runc clears ONLCR on a console it receives
    /// itself. The init does it on the slave before the process can write its first line (`run`
    /// has no start gate that would hold the process until the runtime got the master).
    static func clearONLCR(_ pty: Int32) {
        var attrs = termios()
        guard tcgetattr(pty, &attrs) == 0 else { return }
        attrs.c_oflag &= ~tcflag_t(ONLCR)
        _ = tcsetattr(pty, TCSANOW, &attrs)
    }
}
