import Glibc
import HostOS

/// Writes a container's output as Docker's json-file log, one entry per line of output, stdout
/// and stderr kept apart. With `maxSize` the file is rotated (`log.1`, `log.2`, … up to
/// `maxFiles` files in all), as `--log-opt max-size=/max-file=` ask.
public final class LogWriter {
    public let path: String
    public let maxSize: Int64
    public let maxFiles: Int
    private var fd: Int32
    private var size: Int64
    private var pending: [LogEntry.Stream: [UInt8]] = [:]
    /// Docker splits longer lines into several entries.
    public static let maxLine = 16 * 1024

    public init(path: String, maxSize: Int64 = 0, maxFiles: Int = 1) throws(SystemError) {
        self.path = path
        self.maxSize = maxSize
        self.maxFiles = max(1, maxFiles)
        fd = try check("open \(path)") { open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640) }
        var st = stat()
        size = fstat(fd, &st) == 0 ? Int64(st.st_size) : 0
    }

    deinit { close(fd) }

    /// Output as it arrives: complete lines become entries, the rest waits for its newline.
    public func write(_ bytes: ArraySlice<UInt8>, stream: LogEntry.Stream) {
        var buffer = pending[stream, default: []]
        buffer.append(contentsOf: bytes)
        var start = 0
        var i = 0
        while i < buffer.count {
            if buffer[i] == 0x0a || i - start + 1 >= Self.maxLine {
                emit(buffer[start...i], stream: stream)
                start = i + 1
            }
            i += 1
        }
        pending[stream] = Array(buffer[start...])
    }

    /// Writes out partial lines (the container ended without a final newline).
    public func flush() {
        for (stream, rest) in pending where !rest.isEmpty { emit(rest[...], stream: stream) }
        pending = [:]
    }

    private func emit(_ line: ArraySlice<UInt8>, stream: LogEntry.Stream) {
        let entry = LogEntry(text: String(decoding: line, as: UTF8.self), stream: stream, time: Clock.rfc3339Now())
        let bytes = Array(entry.serialized.utf8)
        if maxSize > 0, size > 0, size + Int64(bytes.count) > maxSize { rotate() }
        _ = try? FileIO.writeAll(fd, bytes, what: path)
        size += Int64(bytes.count)
    }

    private func rotate() {
        close(fd)
        if maxFiles > 1 {
            for n in stride(from: maxFiles - 1, to: 0, by: -1) {
                let from = n == 1 ? path : "\(path).\(n - 1)"
                rename(from, "\(path).\(n)")
            }
        }
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0o640)
        size = 0
    }
}
