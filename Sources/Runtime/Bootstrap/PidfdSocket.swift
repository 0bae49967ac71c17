import HostOS
import Glibc
import CShim

/// `--pidfd-socket`: the client (a shim, a supervisor) receives a pidfd of the container's process
/// over a unix socket, with SCM_RIGHTS as runc sends it ("standard" for the init, "setns" for an
/// exec), so it can signal and wait on that process without pid-reuse races. The socket is
/// connected before anything is made (a bad path fails early); the pidfd is opened by the parent
/// once the process exists.
struct PidfdSocket {
    private(set) var fd: Int32

    init(path: String) throws(RuntimeError) {
        fd = try UnixSocket.connect(path, what: "pidfd socket")
    }

    func send(pid: Int32, name: String) throws(RuntimeError) {
        let pidfd = cshim_pidfd_open(pid)
        if pidfd < 0 { throw .sys("pidfd_open \(pid)") }
        defer { Glibc.close(pidfd) }
        let label = Array(name.utf8)
        let sent = label.withUnsafeBytes { cshim_send_msg(fd, $0.baseAddress, $0.count, pidfd) }
        if sent < 0 { throw .sys("send pidfd over the pidfd socket") }
    }

    mutating func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }
}
