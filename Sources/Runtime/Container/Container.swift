/// The container operations, one file per operation (`Container+Create.swift`, …). Each takes
/// the shared `RuntimeContext` and the container id, and is what the CLI and the tests call.
public enum Container {}

public struct CreateOptions: Sendable {
    public var id: String
    public var bundle: String
    public var pidFile: String?
    public var consoleSocket: String?
    /// Receives a pidfd of the container's init (runc's `--pidfd-socket`).
    public var pidfdSocket: String?
    public var noPivot = false
    public var noNewKeyring = false
    public var preserveFDs = 0

    public init(id: String, bundle: String) {
        self.id = id
        self.bundle = bundle
    }
}
