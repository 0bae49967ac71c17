import HostOS
import JSON
import Glibc

/// Where runc-style log lines go: stderr always for errors, and `--log` (text or JSON lines,
/// the format containerd parses) when given.
public final class Logger: @unchecked Sendable {
    public enum Format: String, Sendable { case text, json }
    private let fd: Int32
    private let format: Format
    public let debugEnabled: Bool
    /// Why `--log` could not be opened (runc refuses to run without its log).
    public private(set) var openError: String?

    public init(path: String?, format: Format, debug: Bool) {
        if let path, !path.isEmpty {
            fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
            if fd < 0 { openError = "--log \(path): \(String(cString: strerror(errno)))" }
        } else {
            fd = -1
        }
        self.format = format
        self.debugEnabled = debug
    }

    /// runc's fields, plus an error's parts when it has them — `errno`, `stage`, the config
    /// `field`, the `path` and the container `id` — for clients that act on the kind of failure
    /// (swctr, say) rather than parse the text.
    private struct Line: Encodable {
        var level: String
        var msg: String
        var time: String
        var errno: Int32?
        var stage: String?
        var field: String?
        var path: String?
        var id: String?
    }

    public func log(_ level: String, _ message: String, error: SystemError? = nil) {
        if level == "debug" && !debugEnabled { return }
        guard fd >= 0 else {
            if level == "warning" {
                // One line whatever the message holds (a name from config.json may contain a newline).
                let text = "swrunc \(level): \(Excerpt.line(message))\n"
                _ = text.withCString { write(2, $0, strlen($0)) }
            } else if level == "debug" {
                // runc's text lines: what people (and runc's tests) grep a --debug run for.
                let text = Self.textLine(level, message) + "\n"
                _ = text.withCString { write(2, $0, strlen($0)) }
            }
            return
        }
        let time = Clock.rfc3339Now()
        var out: String
        switch format {
        case .json:
            let data = (try? JSONValueEncoder().encode(Line(level: level, msg: message, time: time, errno: error?.errno, stage: error?.stage,
                                                                 field: error?.field, path: error?.path, id: error?.id))) ?? []
            out = String(decoding: data, as: UTF8.self)
        case .text:
            out = Self.textLine(level, message, time: time)
        }
        out += "\n"
        _ = out.withCString { write(fd, $0, strlen($0)) }
    }

    private static func textLine(_ level: String, _ message: String, time: String = Clock.rfc3339Now()) -> String {
        "time=\"\(time)\" level=\(level) msg=\"\(Excerpt.line(message).replacingOccurrences(of: "\"", with: "'"))\""
    }

    public func warn(_ message: String) { log("warning", message) }
    public func debug(_ message: @autoclosure () -> String) { if debugEnabled { log("debug", message()) } }
}

/// The global options every command shares.
public struct RuntimeContext: Sendable {
    public var store: StateStore
    public var logger: Logger
    public var systemdCgroup: Bool
    public var rootless: Bool
    /// The runtime itself runs in a user namespace other than the host's (rootless podman's).
    public var inUserNamespace: Bool

    public init(root: String, logger: Logger, systemdCgroup: Bool = false, rootless: Bool = false, inUserNamespace: Bool = false) {
        self.store = StateStore(root: root)
        self.logger = logger
        self.systemdCgroup = systemdCgroup
        self.rootless = rootless
        self.inUserNamespace = inUserNamespace
    }
}
