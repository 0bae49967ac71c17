import HostOS
import Glibc
import CShim
import OCI

/// The container's terminal: a pty from the container's own devpts, its master handed to the
/// client over `--console-socket` with SCM_RIGHTS (runc's protocol), its slave made the
/// controlling terminal, stdio, and /dev/console.
enum Console {
    /// `owner`: the process's uid, given the slave so that it can use its own terminal (the
    /// group stays devpts's, tty in the default config); an unmapped uid leaves it as it is.
    static func setup(socket: Int32, size: Box?, mountConsole: Bool, clearONLCR: Bool, owner: UInt32) throws(RuntimeError) {
        let master = try check("open /dev/ptmx") { cshim_open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC, 0) }
        defer { close(master) }
        try check("unlockpt") { cshim_unlockpt(master) }
        var name = [CChar](repeating: 0, count: 128)
        if cshim_ptsname(master, &name, name.count) != 0 { throw .sys("ptsname") }
        let slavePath = name.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        let slave = try check("open \(slavePath)") { cshim_open(slavePath, O_RDWR | O_NOCTTY | O_CLOEXEC, 0) }
        defer { close(slave) }
        if owner != 0 { _ = fchown(slave, owner, gid_t(UInt32.max)) }
        if let size {
            var ws = winsize(ws_row: UInt16(clamping: size.height), ws_col: UInt16(clamping: size.width),
                             ws_xpixel: 0, ws_ypixel: 0)
            _ = cshim_ioctl_ptr(slave, UInt(TIOCSWINSZ), &ws)
        }
        if clearONLCR { TerminalProxy.clearONLCR(slave) }
        let label = Array("/dev/ptmx".utf8)
        let sent = label.withUnsafeBytes { cshim_send_msg(socket, $0.baseAddress, $0.count, master) }
        if sent < 0 { throw .sys("send pty master over console socket") }
        if mountConsole {
            try mountDevConsole(slavePath)
        }
        for target: Int32 in 0...2 {
            try check("dup2 terminal to fd \(target)") { dup2(slave, target) }
        }
        try check("set controlling terminal") { cshim_ioctl_int(0, UInt(TIOCSCTTY), 0) }
    }

    private static func mountDevConsole(_ slavePath: String) throws(RuntimeError) {
        let fd = cshim_open("/dev/console", O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0o600)
        if fd >= 0 { close(fd) } else if errno != EEXIST && errno != EISDIR && errno != ENXIO {
            throw .sys("create /dev/console")
        }
        try doMount(LinuxSyscalls(), slavePath, "/dev/console", "bind", UInt(MS_BIND), nil, what: "bind \(slavePath) on /dev/console")
    }

    /// Connects to the client's console socket (done by the parent, before the fork).
    static func connect(_ path: String) throws(RuntimeError) -> Int32 {
        try UnixSocket.connect(path, what: "console socket")
    }
}
