import CShim
import Glibc

/// The loopback interface of the network namespace the caller is in.
enum Loopback {
    /// Sets `lo` up (SIOCGIFFLAGS, then SIOCSIFFLAGS with IFF_UP).
    static func bringUp() throws(RuntimeError) {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw RuntimeError("bring lo up: socket: \(String(cString: strerror(errno)))", errno: errno) }
        defer { close(fd) }
        var req = ifreq()
        withUnsafeMutableBytes(of: &req.ifr_ifrn.ifrn_name) { buf in
            for (i, b) in "lo".utf8.enumerated() { buf[i] = b }
        }
        guard cshim_ioctl_ptr(fd, UInt(SIOCGIFFLAGS), &req) == 0 else {
            throw RuntimeError("bring lo up: SIOCGIFFLAGS: \(String(cString: strerror(errno)))", errno: errno)
        }
        req.ifr_ifru.ifru_flags |= Int16(IFF_UP)
        guard cshim_ioctl_ptr(fd, UInt(SIOCSIFFLAGS), &req) == 0 else {
            throw RuntimeError("bring lo up: SIOCSIFFLAGS: \(String(cString: strerror(errno)))", errno: errno)
        }
    }
}
