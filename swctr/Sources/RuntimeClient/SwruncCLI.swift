import Glibc
import HostOS
import JSON

/// swrunc (or runc) run as a program: every command gets `--root` and `--log FILE
/// --log-format json`, and a failure is read back from the last error line of that file.
public struct SwruncCLI: ContainerRuntime {
    public let binary: String
    public let root: String
    /// Where the per-command log files go (removed after each command).
    public let scratch: String
    /// `--log-level debug`: each command line goes to stderr before it runs.
    public var trace = false

    public init(binary: String, root: String, scratch: String, trace: Bool = false) {
        self.binary = binary
        self.root = root
        self.scratch = scratch
        self.trace = trace
    }

    /// A program (`swrunc`, `swctr-monitor`) next to `executable` (swctr's own path), then on
    /// PATH; nil when neither has it.
    public static func locate(_ name: String = "swrunc", nextTo executable: String?) -> String? {
        if let executable, let slash = executable.lastIndex(of: "/") {
            let sibling = String(executable[..<slash]) + "/" + name
            if access(sibling, X_OK) == 0 { return sibling }
        }
        for dir in (getenv("PATH").map { String(cString: $0) } ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
            .split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// Runs one command; returns its exit status (non-zero only with `allowFailure`).
    @discardableResult
    func call(_ args: [String], stdio: RuntimeStdio = .inherit, allowFailure: Bool = false,
              captureStdout: Bool = false) throws(RuntimeCallError) -> (Int32, [UInt8]) {
        let log = "\(scratch)/swrunc-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).log"
        defer { unlink(log) }
        let argv = [binary, "--root", root, "--log", log, "--log-format", "json"] + args
        if trace { _ = try? FileIO.writeAll(2, Array("DEBU running \(argv.joined(separator: " "))\n".utf8), what: "stderr") }
        var out: TemporaryFile?
        if captureStdout {
            do { out = try TemporaryFile() } catch { throw RuntimeCallError(.failed, error.message, errno: error.errno) }
        }
        let status: Spawn.Status
        do {
            let pid = try Spawn.start(argv, Spawn.Options(stdin: stdio.stdin, stdout: out?.fd ?? stdio.stdout, stderr: stdio.stderr))
            status = Spawn.wait(pid)
        } catch {
            throw RuntimeCallError(.runtimeMissing, "cannot run the OCI runtime \(binary): \(error.message)", errno: error.errno)
        }
        let stdout = (try? out?.contents()) ?? []
        if status == .exited(0) { return (status.code, stdout) }
        // With `allowFailure` (exec) a non-zero status is the program's own unless the runtime
        // logged an error of its own.
        if let logged = Self.loggedFailure(log: log) { throw logged }
        if allowFailure { return (status.code, stdout) }
        throw RuntimeCallError(.failed, "\(args.first ?? "runtime") failed (exit status \(status.code))")
    }

    /// The last error the runtime logged, with its errno and stage; nil when it logged none.
    static func loggedFailure(log: String) -> RuntimeCallError? {
        var message: String?
        var errno: Int32?
        var stage: String?
        if let bytes = try? FileIO.read(log) {
            for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n").reversed() {
                guard let value = try? JSONParser.parse(Array(line.utf8)), case .object(let o) = value,
                      case .string("error")? = o["level"], case .string(let msg)? = o["msg"] else { continue }
                message = msg
                if case .number(let n)? = o["errno"] { errno = Int32(n) }
                if case .string(let s)? = o["stage"] { stage = s }
                break
            }
        }
        guard let message else { return nil }
        let kind: RuntimeCallError.Kind
        switch (stage, errno) {
        case ("lookup", _): kind = .noSuchContainer
        case ("exec", ENOENT?): kind = .commandNotFound
        case ("exec", _): kind = .commandNotExecutable
        default: kind = .failed
        }
        return RuntimeCallError(kind, message, errno: errno)
    }

    public func create(_ id: String, bundle: String, pidFile: String?, consoleSocket: String?, stdio: RuntimeStdio) throws(RuntimeCallError) {
        var args = ["create", "--bundle", bundle]
        if let pidFile { args += ["--pid-file", pidFile] }
        if let consoleSocket { args += ["--console-socket", consoleSocket] }
        try call(args + [id], stdio: stdio)
    }

    public func start(_ id: String) throws(RuntimeCallError) { try call(["start", id], stdio: Self.quiet) }

    public func run(_ id: String, bundle: String, stdio: RuntimeStdio) throws(RuntimeCallError) -> Int32 {
        // The program's own exit status comes back as swrunc's; a runtime failure is logged.
        try call(["run", "--bundle", bundle, id], stdio: stdio, allowFailure: true).0
    }

    public func state(_ id: String) throws(RuntimeCallError) -> RuntimeState? {
        do {
            let (_, out) = try call(["state", id], stdio: Self.quiet, captureStdout: true)
            return try? JSONValueDecoder().decode(RuntimeState.self, from: out)
        } catch {
            if error.kind == .noSuchContainer { return nil }
            throw error
        }
    }

    public func kill(_ id: String, signal: Int32, all: Bool) throws(RuntimeCallError) {
        try call(["kill"] + (all ? ["--all"] : []) + [id, String(signal)], stdio: Self.quiet)
    }

    public func delete(_ id: String, force: Bool) throws(RuntimeCallError) {
        try call(["delete"] + (force ? ["--force"] : []) + [id], stdio: Self.quiet)
    }

    public func pause(_ id: String) throws(RuntimeCallError) { try call(["pause", id], stdio: Self.quiet) }
    public func resume(_ id: String) throws(RuntimeCallError) { try call(["resume", id], stdio: Self.quiet) }

    public func update(_ id: String, resources: [UInt8]) throws(RuntimeCallError) {
        let file = "\(scratch)/resources-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).json"
        defer { unlink(file) }
        do { try FileIO.writeFile(resources, to: file, mode: 0o600) } catch { throw RuntimeCallError(.failed, error.message) }
        try call(["update", "--resources", file, id], stdio: Self.quiet)
    }

    public func exec(_ id: String, processFile: String, tty: Bool, detach: Bool, pidFile: String?,
                     stdio: RuntimeStdio) throws(RuntimeCallError) -> Int32 {
        var args = ["exec", "--process", processFile]
        if tty { args.append("--tty") }
        if detach { args.append("--detach") }
        if let pidFile { args += ["--pid-file", pidFile] }
        // The program's own exit status comes back as swrunc's; a runtime failure is logged.
        return try call(args + [id], stdio: stdio, allowFailure: true).0
    }

    public func processes(_ id: String) throws(RuntimeCallError) -> [Int32] {
        let (_, out) = try call(["ps", "--format", "json", id], stdio: Self.quiet, captureStdout: true)
        guard let value = try? JSONParser.parse(out), case .array(let items) = value else { return [] }
        return items.compactMap { if case .number(let n) = $0 { return Int32(n) } else { return nil } }
    }

    public func stats(_ id: String) throws(RuntimeCallError) -> RuntimeStats {
        let (_, out) = try call(["events", "--stats", id], stdio: Self.quiet, captureStdout: true)
        return try RuntimeStats(document: out)
    }

    public func version() -> String? {
        guard let r = try? Spawn.capture([binary, "--version"]), r.status == .exited(0) else { return nil }
        return String(decoding: r.stdout, as: UTF8.self).split(separator: "\n").first.map(String.init)
    }

    /// Runtime commands whose output nobody reads: stdout to /dev/null, stderr kept.
    static var quiet: RuntimeStdio { RuntimeStdio(stdin: nil, stdout: devNull, stderr: nil) }
    static let devNull: Int32 = open("/dev/null", O_RDWR | O_CLOEXEC)
}
