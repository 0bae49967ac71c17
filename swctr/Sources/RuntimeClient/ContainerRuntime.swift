import HostOS

/// What the manager and the monitor ask of an OCI runtime: swrunc's (runc's) command line, one
/// method per command with typed options. `SwruncCLI` runs the binary; `FakeRuntime` records
/// calls for tests of the manager's logic.
public protocol ContainerRuntime: Sendable {
    /// `create --bundle B [--pid-file P] [--console-socket S] ID`, with the container's stdio.
    func create(_ id: String, bundle: String, pidFile: String?, consoleSocket: String?, stdio: RuntimeStdio) throws(RuntimeCallError)
    func start(_ id: String) throws(RuntimeCallError)
    /// `run --bundle B ID` in the foreground: create, start, wait, delete; the container's exit
    /// status (128+N for a signal). A build step's container, which no monitor watches.
    func run(_ id: String, bundle: String, stdio: RuntimeStdio) throws(RuntimeCallError) -> Int32
    /// nil when the runtime has no such container.
    func state(_ id: String) throws(RuntimeCallError) -> RuntimeState?
    func kill(_ id: String, signal: Int32, all: Bool) throws(RuntimeCallError)
    func delete(_ id: String, force: Bool) throws(RuntimeCallError)
    func pause(_ id: String) throws(RuntimeCallError)
    func resume(_ id: String) throws(RuntimeCallError)
    /// Resources as linux.resources JSON.
    func update(_ id: String, resources: [UInt8]) throws(RuntimeCallError)
    /// A process in the container: `exec --process FILE [--tty] [--detach] ID`; the exit status
    /// when not detached. With `tty` and no console socket swrunc proxies the caller's terminal.
    func exec(_ id: String, processFile: String, tty: Bool, detach: Bool, pidFile: String?,
              stdio: RuntimeStdio) throws(RuntimeCallError) -> Int32
    /// `ps --format json ID`: host pids of every process in the container.
    func processes(_ id: String) throws(RuntimeCallError) -> [Int32]
    /// `events --stats ID`: the container's cgroup counters once.
    func stats(_ id: String) throws(RuntimeCallError) -> RuntimeStats
    /// The runtime's `--version` first line, e.g. "swrunc version 0.1.0".
    func version() -> String?
}

/// File descriptors a runtime command gets as 0, 1, 2 (nil: the caller's own).
public struct RuntimeStdio: Sendable {
    public var stdin: Int32?
    public var stdout: Int32?
    public var stderr: Int32?

    public init(stdin: Int32? = nil, stdout: Int32? = nil, stderr: Int32? = nil) {
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
    }

    public static let inherit = RuntimeStdio()
}

/// The runtime-spec state, as `state ID` prints it.
public struct RuntimeState: Codable, Sendable, Equatable {
    public var id: String
    public var status: String
    public var pid: Int32?
    public var bundle: String?

    public init(id: String, status: String, pid: Int32?, bundle: String?) {
        self.id = id
        self.status = status
        self.pid = pid
        self.bundle = bundle
    }
}

/// A runtime command that failed, classified from swrunc's `--log` JSON (`errno`, `stage`),
/// never from the wording of its message.
public struct RuntimeCallError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// The runtime has no container with that id.
        case noSuchContainer
        /// The container's program does not exist.
        case commandNotFound
        /// The container's program exists but cannot be executed.
        case commandNotExecutable
        /// The runtime binary itself could not be run.
        case runtimeMissing
        case failed
    }

    public var kind: Kind
    public var message: String
    public var errno: Int32?

    public init(_ kind: Kind, _ message: String, errno: Int32? = nil) {
        self.kind = kind
        self.message = message
        self.errno = errno
    }

    public var description: String { message }
}
