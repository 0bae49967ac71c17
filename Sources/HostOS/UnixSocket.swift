import Glibc
import CShim

public enum UnixSocket {
    /// A connected AF_UNIX stream socket; `what` names the socket in errors ("console socket").
    public static func connect(_ path: String, what: String) throws(SystemError) -> Int32 {
        let fd = try check("socket") { socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        let rc: Int32
        do {
            rc = try withAddress(path, what: what) { Glibc.connect(fd, $0, $1) }
        } catch {
            close(fd)
            throw error
        }
        if rc != 0 {
            let e = errno
            close(fd)
            throw .sys("connect to \(what) \(path)", e)
        }
        return fd
    }

    /// A listening AF_UNIX stream socket at `path` (an old socket file there is replaced).
    public static func listen(_ path: String, backlog: Int32 = 16) throws(SystemError) -> Int32 {
        let fd = try check("socket") { socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        unlink(path)
        let rc: Int32
        do {
            rc = try withAddress(path, what: "socket") { bind(fd, $0, $1) }
        } catch {
            close(fd)
            throw error
        }
        if rc != 0 || Glibc.listen(fd, backlog) != 0 {
            let e = errno
            close(fd)
            throw .sys("listen on \(path)", e)
        }
        return fd
    }

    /// Calls `body` with the address of `path`. A path longer than sun_path (108 bytes: a
    /// container directory under a deep --root) is reached through its directory's fd as
    /// /proc/self/fd/N/NAME, which the kernel resolves for bind and connect alike.
    static func withAddress(_ path: String, what: String,
                            _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32) throws(SystemError) -> Int32 {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: addr.sun_path)
        var bytes = Array(path.utf8)
        var dirFD: Int32 = -1
        defer { if dirFD >= 0 { close(dirFD) } }
        if bytes.count >= capacity, let slash = path.lastIndex(of: "/") {
            let dir = slash == path.startIndex ? "/" : String(path[..<slash])
            dirFD = open(dir, 0o10000000 /* O_PATH, not exported by Glibc */ | O_DIRECTORY | O_CLOEXEC)
            guard dirFD >= 0 else { throw .sys("open \(dir) for the \(what)") }
            bytes = Array("/proc/self/fd/\(dirFD)/\(path[path.index(after: slash)...])".utf8)
        }
        guard bytes.count < capacity else { throw SystemError("\(what) path too long: \(path)") }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }
}

extension UnixSocket {
    /// Receives one message carrying an fd (SCM_RIGHTS), as a console socket gets a pty master.
    public static func receiveFD(_ sock: Int32) throws(SystemError) -> Int32 {
        var buf = [UInt8](repeating: 0, count: 256)
        var fd: Int32 = -1
        let n = buf.withUnsafeMutableBytes { cshim_recv_msg(sock, $0.baseAddress, $0.count, &fd) }
        if n < 0 { throw .sys("receive a file descriptor") }
        if fd < 0 { throw SystemError("receive a file descriptor: none was sent") }
        return fd
    }
}
