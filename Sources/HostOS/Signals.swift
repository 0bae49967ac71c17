import Glibc
import CShim

/// The write end of the SignalPipe, for its handler (the one thing a handler may touch).
nonisolated(unsafe) private var signalPipeWriteFD: Int32 = -1

/// Signals as bytes on a pipe, for a process with threads it does not control (the Swift
/// concurrency runtime unblocks signals on the main thread, so a signalfd would miss them): a
/// handler that only writes the signal number, read back in a poll loop.
public enum SignalPipe {
    /// Installs the handlers once; returns the read end (non-blocking, close-on-exec).
    public static func install(_ signals: [Int32]) throws(SystemError) -> Int32 {
        let (r, w) = try ProcessControl.pipe()
        ProcessControl.setNonBlocking(r)
        ProcessControl.setNonBlocking(w)
        signalPipeWriteFD = w
        for sig in signals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { sig in
                var byte = UInt8(truncatingIfNeeded: sig)
                _ = Glibc.write(signalPipeWriteFD, &byte, 1)
            }
            action.sa_flags = SA_RESTART
            sigemptyset(&action.sa_mask)
            sigaction(sig, &action, nil)
        }
        return r
    }

    /// The next signal written to the pipe `fd`, or nil.
    public static func read(_ fd: Int32) -> Int32? {
        var byte: UInt8 = 0
        return Glibc.read(fd, &byte, 1) == 1 ? Int32(byte) : nil
    }
}

/// Signals as events: blocked for the process and read from a signalfd in a poll loop (a
/// supervisor must never run code from a signal handler).
public final class SignalFD {
    public let fd: Int32

    public init(_ signals: [Int32]) throws(SystemError) {
        _ = cshim_block_signals(signals, Int32(signals.count))
        fd = try check("signalfd") { cshim_signalfd(signals, Int32(signals.count)) }
        // read() drains until nothing is pending: it must not block then.
        ProcessControl.setNonBlocking(fd)
    }

    /// The next pending signal, or nil.
    public func read() -> Int32? {
        let s = cshim_signalfd_read(fd)
        return s > 0 ? s : nil
    }

    deinit { close(fd) }
}

public enum ProcessControl {
    /// Orphaned descendants (a container's init once the runtime's create has exited) become
    /// this process's children, so it can wait for them.
    public static func becomeSubreaper() {
        _ = cshim_prctl(36 /* PR_SET_CHILD_SUBREAPER */, 1, 0, 0, 0)
    }

    /// A pidfd for `pid` (readable once it exits), or -1.
    public static func pidfd(_ pid: Int32) -> Int32 { cshim_pidfd_open(pid) }

    /// Closes every fd from `first` up, except those listed.
    public static func closeFDs(from first: Int32, keeping keep: [Int32] = []) {
        var next = UInt32(first)
        for fd in keep.filter({ $0 >= first }).sorted() {
            if UInt32(fd) > next { _ = cshim_close_range(next, UInt32(fd) - 1, 0) }
            next = UInt32(fd) + 1
        }
        _ = cshim_close_range(next, UInt32.max, 0)
    }

    /// The terminal size of a pty (TIOCSWINSZ).
    public static func setWindowSize(_ fd: Int32, rows: UInt16, columns: UInt16) {
        var size = winsize(ws_row: rows, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
        _ = cshim_ioctl_ptr(fd, UInt(TIOCSWINSZ), &size)
    }

    /// Sets or clears FD_CLOEXEC.
    public static func setCloseOnExec(_ fd: Int32, _ on: Bool) {
        let flags = cshim_fcntl_int(fd, F_GETFD, 0)
        guard flags >= 0 else { return }
        _ = cshim_fcntl_int(fd, F_SETFD, on ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC)
    }

    public static func setNonBlocking(_ fd: Int32) {
        let flags = cshim_fcntl_int(fd, F_GETFL, 0)
        if flags >= 0 { _ = cshim_fcntl_int(fd, F_SETFL, flags | O_NONBLOCK) }
    }

    public static func setBlocking(_ fd: Int32) {
        let flags = cshim_fcntl_int(fd, F_GETFL, 0)
        if flags >= 0 { _ = cshim_fcntl_int(fd, F_SETFL, flags & ~O_NONBLOCK) }
    }

    /// pipe2 with O_CLOEXEC: (read end, write end).
    public static func pipe() throws(SystemError) -> (Int32, Int32) {
        var fds: [Int32] = [-1, -1]
        try check("pipe") { cshim_pipe2(&fds, O_CLOEXEC) }
        return (fds[0], fds[1])
    }
}
