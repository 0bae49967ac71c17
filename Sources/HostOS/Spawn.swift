import Glibc
import CShim

/// Starting and waiting for programs, for both products: hooks, helpers, swrunc run by swctr,
/// the container monitor. posix_spawn (vfork-like, safe in a multi-threaded process), with the
/// child's signal mask and dispositions reset: a caller that blocks signals (a test runner, a
/// signalfd loop) must not hand that on.
public enum Spawn {
    public struct Options: Sendable {
        /// fds to become the child's 0, 1, 2; nil keeps the parent's.
        public var stdin: Int32?
        public var stdout: Int32?
        public var stderr: Int32?
        /// The child's environment; nil inherits.
        public var environment: [String]?
        /// A session of its own (no controlling terminal, not in the caller's process group).
        public var newSession = false
        /// `argv[0]` looked up in PATH.
        public var searchPath = false

        public init(stdin: Int32? = nil, stdout: Int32? = nil, stderr: Int32? = nil, environment: [String]? = nil,
                    newSession: Bool = false, searchPath: Bool = false) {
            self.stdin = stdin
            self.stdout = stdout
            self.stderr = stderr
            self.environment = environment
            self.newSession = newSession
            self.searchPath = searchPath
        }
    }

    /// How a child ended, with the shell's convention for a number (128 + signal).
    public enum Status: Equatable, Sendable {
        case exited(Int32)
        case signaled(Int32)

        public init(waitStatus: Int32) {
            self = cshim_wifexited(waitStatus) != 0 ? .exited(cshim_wexitstatus(waitStatus)) : .signaled(cshim_wtermsig(waitStatus))
        }

        public var code: Int32 {
            switch self {
            case .exited(let c): c
            case .signaled(let s): 128 + s
            }
        }
    }

    /// `program` when it is not `argv[0]` (an OCI hook's path and its args).
    public static func start(_ argv: [String], program: String? = nil, _ options: Options = Options()) throws(SystemError) -> pid_t {
        guard let program = program ?? argv.first else { throw SystemError("spawn: no program") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (fd, target) in [(options.stdin, Int32(0)), (options.stdout, 1), (options.stderr, 2)] {
            if let fd { posix_spawn_file_actions_adddup2(&actions, fd, target) }
        }
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var all = sigset_t()
        sigfillset(&all)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigdefault(&attr, &all)
        posix_spawnattr_setsigmask(&attr, &empty)
        var flags = Int32(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)
        if options.newSession { flags |= 0x80 }  // POSIX_SPAWN_SETSID (glibc 2.26)
        posix_spawnattr_setflags(&attr, Int16(flags))
        var args: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) }
        args.append(nil)
        defer { for a in args { free(a) } }
        var env: [UnsafeMutablePointer<CChar>?]? = options.environment.map { $0.map { strdup($0) } + [nil] }
        defer { for e in env ?? [] { free(e) } }
        var pid: pid_t = 0
        let rc: Int32
        if var e = env {
            rc = options.searchPath ? posix_spawnp(&pid, program, &actions, &attr, &args, &e)
                                    : posix_spawn(&pid, program, &actions, &attr, &args, &e)
            env = e
        } else {
            rc = options.searchPath ? posix_spawnp(&pid, program, &actions, &attr, &args, environ)
                                    : posix_spawn(&pid, program, &actions, &attr, &args, environ)
        }
        if rc != 0 { throw .sys("run \(program)", rc) }
        return pid
    }

    /// Waits for a child (retrying on EINTR).
    public static func wait(_ pid: pid_t) -> Status {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return .exited(127) }
        }
        return Status(waitStatus: status)
    }

    /// Starts a helper whose input and output nobody uses: stdin, stdout and stderr on /dev/null.
    public static func startQuiet(_ argv: [String], newSession: Bool = false) throws(SystemError) -> pid_t {
        let devnull = try check("open /dev/null") { cshim_open("/dev/null", O_RDWR | O_CLOEXEC, 0) }
        defer { close(devnull) }
        return try start(argv, Options(stdin: devnull, stdout: devnull, stderr: devnull, newSession: newSession))
    }

    /// Runs to completion with inherited stdio.
    public static func run(_ argv: [String], _ options: Options = Options()) throws(SystemError) -> Status {
        wait(try start(argv, options))
    }

    /// Runs to completion; stdout is returned, stderr goes to a file returned too (a program
    /// that leaves a child holding a pipe cannot hang the caller).
    public static func capture(_ argv: [String], stdin: [UInt8]? = nil,
                               environment: [String]? = nil) throws(SystemError) -> (status: Status, stdout: [UInt8], stderr: [UInt8]) {
        let out = try TemporaryFile()
        let err = try TemporaryFile()
        defer { out.close(); err.close() }
        var input: Int32? = nil
        if let stdin {
            let file = try TemporaryFile()
            try FileIO.writeAll(file.fd, stdin, what: "stdin")
            _ = lseek(file.fd, 0, SEEK_SET)
            input = file.fd
            defer { file.close() }
            let status = wait(try start(argv, Options(stdin: input, stdout: out.fd, stderr: err.fd, environment: environment)))
            return (status, try out.contents(), try err.contents())
        }
        let devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { if devnull >= 0 { close(devnull) } }
        let status = wait(try start(argv, Options(stdin: devnull, stdout: out.fd, stderr: err.fd, environment: environment)))
        return (status, try out.contents(), try err.contents())
    }
}

/// An unnamed temporary file (O_TMPFILE in /tmp), gone when closed.
public final class TemporaryFile {
    public let fd: Int32
    private var open = true

    public init(directory: String = "/tmp") throws(SystemError) {
        let O_TMPFILE: Int32 = 0o20200000
        fd = try check("open a temporary file in \(directory)") { cshim_open(directory, O_TMPFILE | O_RDWR | O_CLOEXEC, 0o600) }
    }

    public func contents() throws(SystemError) -> [UInt8] {
        _ = lseek(fd, 0, SEEK_SET)
        return try FileIO.readAll(fd, what: "temporary file")
    }

    public func close() {
        if open { _ = Glibc.close(fd); open = false }
    }

    deinit { close() }
}
