import Glibc

/// A failure that says where: the stage or object and, for syscalls, the errno text —
/// `mount proc on /proc: Operation not permitted`. Printed as one line; its parts (errno, stage,
/// field, path, id) also go apart into the `--log` JSON line, for clients that act on them.
public struct SystemError: Error, CustomStringConvertible, Sendable, Equatable {
    public var message: String
    public var errno: Int32?
    /// What was being done, for callers that act on the kind of failure rather than its text:
    /// `exec` (the container's program could not be run), `hook`, … ; nil when unclassified.
    public var stage: String?
    /// The JSON path of the config value at fault (`mounts[3]`, `linux.resources.memory.limit`),
    /// kept apart from the message for `--log` JSON; the message starts with it, as runc's do.
    public var field: String?
    /// The file or mount point at fault (`/proc/sys/net/ipv4/ip_forward`, a mount's destination).
    public var path: String?
    /// The container the failed command was about.
    public var id: String?

    public init(_ message: String, errno: Int32? = nil, stage: String? = nil, field: String? = nil, path: String? = nil) {
        self.message = message
        self.errno = errno
        self.stage = stage
        self.field = field
        self.path = path
    }

    // An inner step that already named the path, stage or container knew better: the outer
    // steps only fill in what is missing.

    /// The same error about `path`.
    public func at(path: String) -> SystemError { filling(\.path, path) }

    /// The same error marked as failing during `stage` (`config`, `cgroup`, `namespaces`,
    /// `rootfs`, `hook`, `process`, `exec`).
    public func during(_ stage: String) -> SystemError { filling(\.stage, stage) }

    /// The same error about container `id`.
    public func about(id: String) -> SystemError { filling(\.id, id) }

    private func filling(_ part: WritableKeyPath<SystemError, String?>, _ value: String) -> SystemError {
        var e = self
        if e[keyPath: part] == nil { e[keyPath: part] = value }
        return e
    }

    /// The same error located under the config field `path` (an outer one: `mounts[3]` around
    /// an error about that mount): the path goes in front of the message and of the field.
    public func within(_ path: String) -> SystemError {
        var e = self
        e.message = "\(path): \(message)"
        e.field = field.map { inner in path + (inner.hasPrefix("[") ? "" : ".") + inner } ?? path
        return e
    }

    /// A failed syscall: `what` plus the current errno's text.
    public static func sys(_ what: String, _ code: Int32 = Glibc.errno, path: String? = nil) -> SystemError {
        SystemError("\(what): \(String(cString: strerror(code)))", errno: code, path: path)
    }

    public var description: String { message }

    /// An errno's text as Go (and so runc) spells it: glibc's with a lower-case first letter
    /// ("no such file or directory"), for lines clients compare word for word.
    public static func goText(_ code: Int32) -> String {
        lowerFirst(String(cString: strerror(code)))
    }

    public static func lowerFirst(_ text: String) -> String {
        text.prefix(1).lowercased() + text.dropFirst()
    }
}

/// Runs a syscall-shaped call (−1 on failure), retrying on EINTR and throwing with context.
@discardableResult
public func check(_ what: @autoclosure () -> String, path: String? = nil, _ call: () -> Int32) throws(SystemError) -> Int32 {
    while true {
        let rc = call()
        if rc != -1 { return rc }
        let code = errno
        if code == EINTR { continue }
        throw .sys(what(), code, path: path)
    }
}
