import Glibc
import CShim
import FoundationEssentials
import OCI

/// Runs OCI hooks: the container state as JSON on stdin, `timeout` enforced with a pidfd,
/// stdout/stderr captured for the error message.
enum HookRunner {
    static func run(_ hooks: [Hook], kind: String, state: State) throws(RuntimeError) {
        guard !hooks.isEmpty else { return }
        let json = try encode(state, kind: kind)
        for (i, hook) in hooks.enumerated() {
            do {
                try run(hook, stdin: json)
            } catch {
                throw RuntimeError("\(kind) hook #\(i) (\(hook.path)): \(error.message)", errno: error.errno)
            }
        }
    }

    /// poststart and poststop: a failing hook is a warning and the remaining hooks still run
    /// (runtime-spec: "the remaining hooks and lifecycle continue as if the hook had succeeded").
    static func runWarning(_ hooks: [Hook], kind: String, state: State, logger: Logger) {
        guard !hooks.isEmpty else { return }
        let json: [UInt8]
        do throws(RuntimeError) { json = try encode(state, kind: kind) } catch {
            logger.warn(error.message)
            return
        }
        for (i, hook) in hooks.enumerated() {
            do throws(RuntimeError) { try run(hook, stdin: json) } catch {
                logger.warn("\(kind) hook #\(i) (\(hook.path)): \(error.message)")
            }
        }
    }

    private static func encode(_ state: State, kind: String) throws(RuntimeError) -> [UInt8] {
        do { return Array(try JSONEncoder().encode(state)) } catch {
            throw RuntimeError("encode state for \(kind) hooks: \(error)")
        }
    }

    static func run(_ hook: Hook, stdin: [UInt8]) throws(RuntimeError) {
        var inPipe: [Int32] = [-1, -1]
        var outPipe: [Int32] = [-1, -1]
        try check("pipe") { cshim_pipe2(&inPipe, O_CLOEXEC) }
        defer { close(inPipe[0]); if inPipe[1] >= 0 { close(inPipe[1]) } }
        try check("pipe") { cshim_pipe2(&outPipe, O_CLOEXEC) }
        defer { close(outPipe[0]); if outPipe[1] >= 0 { close(outPipe[1]) } }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 2)

        let argv = (hook.args?.isEmpty ?? true) ? [hook.path] : hook.args!
        var cargs = argv.map { strdup($0) } + [nil]
        var cenv = (hook.env ?? []).map { strdup($0) } + [nil]
        defer { cargs.forEach { free($0) }; cenv.forEach { free($0) } }
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigdefault(&attr, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attr, &empty)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, hook.path, &actions, &attr, &cargs, &cenv)
        if rc != 0 { throw .sys("start", rc) }
        close(inPipe[0]); inPipe[0] = -1
        close(outPipe[1]); outPipe[1] = -1
        // The state is a few hundred bytes; a hook that does not read stdin must not block us.
        _ = cshim_fcntl_int(inPipe[1], F_SETFL, O_NONBLOCK)
        _ = stdin.withUnsafeBytes { write(inPipe[1], $0.baseAddress, $0.count) }
        close(inPipe[1]); inPipe[1] = -1

        let pidfd = cshim_pidfd_open(pid)
        defer { if pidfd >= 0 { close(pidfd) } }
        let deadline = hook.timeout.map { Clock.monotonicNanos() + UInt64($0) * 1_000_000_000 }
        var output: [UInt8] = []
        var outOpen = true
        var exited = false
        while !exited {
            var fds = [pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: outOpen ? outPipe[0] : -1, events: Int16(POLLIN), revents: 0)]
            var wait: Int32 = -1
            if let deadline {
                let now = Clock.monotonicNanos()
                if now >= deadline {
                    kill(pid, SIGKILL)
                    var st: Int32 = 0
                    waitpid(pid, &st, 0)
                    throw RuntimeError("timed out after \(hook.timeout ?? 0)s")
                }
                wait = Int32(min((deadline - now) / 1_000_000 + 1, 60_000))
            }
            if poll(&fds, 2, wait) < 0 && errno != EINTR { throw .sys("poll") }
            if outOpen && fds[1].revents != 0 {
                var buf = [UInt8](repeating: 0, count: 4096)
                let n = buf.withUnsafeMutableBytes { read(outPipe[0], $0.baseAddress, $0.count) }
                if n > 0 { if output.count < 8192 { output.append(contentsOf: buf[0..<n]) } } else { outOpen = false }
            }
            if fds[0].revents != 0 { exited = true }
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let text = String(decoding: output, as: UTF8.self).trimmed()
        if cshim_wifexited(status) != 0 {
            let code = cshim_wexitstatus(status)
            if code != 0 {
                throw RuntimeError("exit status \(code)" + (text.isEmpty ? "" : ", output: \(text)"))
            }
        } else {
            throw RuntimeError("killed by signal \(cshim_wtermsig(status))" + (text.isEmpty ? "" : ", output: \(text)"))
        }
    }
}
