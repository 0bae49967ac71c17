import Glibc
import HostOS
import Monitor

/// Requests to a container's monitor over its control socket: one line out, one line back.
public enum MonitorClient {
    /// The reply line, or nil when no monitor answers (it is gone) or the wait ran out.
    public static func request(_ directory: String, _ line: String, timeoutMs: Int32) -> String? {
        guard let fd = try? UnixSocket.connect(AttachFrame.socketPath(in: directory), what: "monitor socket") else { return nil }
        defer { close(fd) }
        _ = Array((line + "\n").utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        var reply: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 512)
        let deadline = Clock.monotonicNanos() + UInt64(timeoutMs) * 1_000_000
        while !reply.contains(0x0a) {
            let now = Clock.monotonicNanos()
            guard now < deadline else { return nil }
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, Int32((deadline - now) / 1_000_000) + 1) > 0 else { return nil }
            let n = read(fd, &buf, buf.count)
            if n <= 0 { break }
            reply.append(contentsOf: buf[0..<n])
        }
        guard let nl = reply.firstIndex(of: 0x0a) else { return nil }
        return String(decoding: reply[..<nl], as: UTF8.self)
    }

    /// An attached connection to the monitor of the container in `directory`: the fd, and frame
    /// bytes that came with the acknowledgement. Nil when no monitor answers or it refuses.
    public static func attach(_ directory: String) -> (fd: Int32, pending: [UInt8])? {
        guard let fd = try? UnixSocket.connect(AttachFrame.socketPath(in: directory), what: "monitor socket") else { return nil }
        _ = Array("attach\n".utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        var ack = LineReader(fd: fd)
        guard ack.next() == "ok" else {
            close(fd)
            return nil
        }
        return (fd, ack.rest)
    }
}
