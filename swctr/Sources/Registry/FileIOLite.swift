import Glibc

/// Whole-file reads and writes with plain syscalls (FoundationEssentials has no FileManager),
/// shared by the registry client, the store and the CLI.
public enum FileIOLite {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public static func read(_ path: String) throws(Failure) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(description: "open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard let bytes = read(fd: fd) else { throw Failure(description: "read \(path): \(String(cString: strerror(errno)))") }
        return bytes
    }

    /// Everything left on `fd`; nil on a read error.
    public static func read(fd: Int32) -> [UInt8]? {
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = Glibc.read(fd, &buf, buf.count)
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return nil }
            if n == 0 { return out }
            out += buf[0..<n]
        }
    }

    /// Creates or truncates `path` with `mode`; `sync` fsyncs before returning.
    public static func write(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644, sync: Bool = false) -> Bool {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + off, bytes.count - off) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return false }
            off += n
        }
        return !sync || fsync(fd) == 0
    }
}
