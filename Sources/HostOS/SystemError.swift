import Glibc

/// A failure that says where: the stage or object and, for syscalls, the errno text —
/// `mount proc on /proc: Operation not permitted`. Printed as one line.
public struct SystemError: Error, CustomStringConvertible, Sendable, Equatable {
    public var message: String
    public var errno: Int32?
    /// What was being done, for callers that act on the kind of failure rather than its text:
    /// `exec` (the container's program could not be run), `hook`, … ; nil when unclassified.
    public var stage: String?

    public init(_ message: String, errno: Int32? = nil, stage: String? = nil) {
        self.message = message
        self.errno = errno
        self.stage = stage
    }

    /// A failed syscall: `what` plus the current errno's text.
    public static func sys(_ what: String, _ code: Int32 = Glibc.errno) -> SystemError {
        SystemError("\(what): \(String(cString: strerror(code)))", errno: code)
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
public func check(_ what: @autoclosure () -> String, _ call: () -> Int32) throws(SystemError) -> Int32 {
    while true {
        let rc = call()
        if rc != -1 { return rc }
        let code = errno
        if code == EINTR { continue }
        throw .sys(what(), code)
    }
}
