/// swctr's errors: a code the CLI maps to Docker's exit status and wording, and a one-line
/// message people read. Callers branch on the code, never on the text.
public struct SwctrError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Code: String, Sendable {
        case notFound
        case conflict
        case inUse
        case invalidArgument
        /// Worth retrying: a registry or a lock that was busy.
        case transient
        /// The OCI runtime failed (its own message is carried).
        case runtimeFailure
        /// The container's command does not exist (Docker's 127).
        case commandNotFound
        /// The container's command exists but cannot be run (Docker's 126).
        case commandNotExecutable
        /// Anything else: a bug or the host refusing something.
        case failure
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// An unclassified failure (the store's older errors).
    public init(_ message: String) {
        self.init(.failure, message)
    }

    public var description: String { message }
}
