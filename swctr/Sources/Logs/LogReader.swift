import Glibc
import HostOS

/// Reads a container's json-file log (rotated files oldest first) for `logs`: all of it, the
/// last N entries, a time window, and with `follow` whatever is written after.
public struct LogReader {
    public let path: String
    public let maxFiles: Int

    public init(path: String, maxFiles: Int = 1) {
        self.path = path
        self.maxFiles = max(1, maxFiles)
    }

    public struct Query: Sendable {
        public var tail: Int?
        public var since: Int64?
        public var until: Int64?

        public init(tail: Int? = nil, since: Int64? = nil, until: Int64? = nil) {
            self.tail = tail
            self.since = since
            self.until = until
        }

        func accepts(_ e: LogEntry) -> Bool {
            if since == nil && until == nil { return true }
            let t = e.nanos
            if let since, t < since { return false }
            if let until, t > until { return false }
            return true
        }
    }

    /// The files in the order they were written.
    var files: [String] {
        (1..<maxFiles).reversed().map { "\(path).\($0)" }.filter { FileIO.exists($0) } + [path]
    }

    /// The entries of json-file lines that the query selects.
    static func parse(_ bytes: ArraySlice<UInt8>, _ query: Query, into out: inout [LogEntry]) {
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            if let e = LogEntry(line: line), query.accepts(e) { out.append(e) }
        }
    }

    public func entries(_ query: Query = Query()) -> [LogEntry] {
        var out: [LogEntry] = []
        for file in files {
            if let bytes = try? FileIO.read(file) { Self.parse(bytes[...], query, into: &out) }
        }
        if let tail = query.tail, tail >= 0, out.count > tail { out = Array(out.suffix(tail)) }
        return out
    }

    /// Calls `emit` for the entries the query selects, then for entries written from now on
    /// until `stop` says so (checked every 100 ms when nothing arrives); follows the file across
    /// rotation. The history and the follow read one open file, so no line falls between them.
    public func follow(_ query: Query, emit: (LogEntry) -> Void, stop: () -> Bool) {
        var fd = open(path, O_RDONLY | O_CLOEXEC)
        var inode: ino_t = 0
        var st = stat()
        var history: [LogEntry] = []
        for file in files.dropLast() {
            if let bytes = try? FileIO.read(file) { Self.parse(bytes[...], query, into: &history) }
        }
        var current: [UInt8] = []
        if fd >= 0, fstat(fd, &st) == 0 {
            inode = st.st_ino
            var chunk = [UInt8](repeating: 0, count: 65536)
            while current.count < Int(st.st_size) {
                let n = read(fd, &chunk, min(chunk.count, Int(st.st_size) - current.count))
                if n <= 0 { break }
                current.append(contentsOf: chunk[0..<n])
            }
        }
        // A last line without its newline yet is finished by the follow below.
        let complete = current.lastIndex(of: 0x0a).map { current.index(after: $0) } ?? 0
        Self.parse(current[..<complete], query, into: &history)
        if let tail = query.tail, tail >= 0, history.count > tail { history = Array(history.suffix(tail)) }
        for e in history { emit(e) }
        var partial = Array(current[complete...])
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fd >= 0 ? read(fd, &buf, buf.count) : 0
            if n > 0 {
                partial.append(contentsOf: buf[0..<n])
                while let nl = partial.firstIndex(of: 0x0a) {
                    if let e = LogEntry(line: Substring(String(decoding: partial[..<nl], as: UTF8.self))), query.accepts(e) { emit(e) }
                    partial.removeSubrange(...nl)
                }
                continue
            }
            // Nothing new: rotated away (a new file at the path)? stopped?
            if stat(path, &st) == 0, st.st_ino != inode {
                if fd >= 0 { close(fd) }
                fd = open(path, O_RDONLY | O_CLOEXEC)
                inode = st.st_ino
                continue
            }
            if stop() { break }
            usleep(100_000)
        }
        if fd >= 0 { close(fd) }
    }
}
