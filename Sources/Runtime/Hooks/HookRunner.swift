import HostOS
import Glibc
import CShim
import JSON
import OCI

/// Runs OCI hooks: the container state as JSON on stdin, `timeout` enforced with a pidfd,
/// stdout/stderr captured for the error message.
enum HookRunner {
    /// `defaultEnv` is the environment of a hook that names none (startContainer hooks get the
    /// process's, as runc's always have).
    static func run(_ hooks: [Hook], kind: String, state: State, defaultEnv: [String] = []) throws(RuntimeError) {
        guard !hooks.isEmpty else { return }
        let json = try encode(state, kind: kind)
        for (i, hook) in hooks.enumerated() {
            do {
                try run(hook, stdin: json, defaultEnv: defaultEnv)
            } catch {
                // runc's prefix: clients match "error running <kind> hook #<n>:".
                throw RuntimeError("error running \(kind) hook #\(i): \(hook.path): \(error.message)", errno: error.errno, stage: "hook")
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
                logger.warn("error running \(kind) hook #\(i): \(hook.path): \(error.message)")
            }
        }
    }

    private static func encode(_ state: State, kind: String) throws(RuntimeError) -> [UInt8] {
        do { return try JSONValueEncoder().encode(state) } catch {
            throw RuntimeError("encode state for \(kind) hooks: \(error)")
        }
    }

    static func run(_ hook: Hook, stdin: [UInt8], defaultEnv: [String] = []) throws(RuntimeError) {
        var inPipe: [Int32] = [-1, -1]
        var outPipe: [Int32] = [-1, -1]
        try check("pipe") { cshim_pipe2(&inPipe, O_CLOEXEC) }
        defer { close(inPipe[0]); if inPipe[1] >= 0 { close(inPipe[1]) } }
        try check("pipe") { cshim_pipe2(&outPipe, O_CLOEXEC) }
        defer { close(outPipe[0]); if outPipe[1] >= 0 { close(outPipe[1]) } }

        let argv = (hook.args?.isEmpty ?? true) ? [hook.path] : hook.args ?? [hook.path]
        let pid: pid_t
        do {
            pid = try Spawn.start(argv, program: hook.path,
                                  Spawn.Options(stdin: inPipe[0], stdout: outPipe[1], stderr: outPipe[1], environment: hook.env ?? defaultEnv))
        } catch {
            throw .sys("start", error.errno ?? EIO)
        }
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
        let text = String(decoding: output, as: UTF8.self).trimmed()
        switch Spawn.wait(pid) {
        case .exited(0): return
        case .exited(let code): throw RuntimeError("exit status \(code)" + (text.isEmpty ? "" : ", output: \(text)"))
        case .signaled(let sig):
            // Go's words for the signal (runc's suite matches "bad system call" for SIGSYS).
            let name = strsignal(sig).map { SystemError.lowerFirst(String(cString: $0)) } ?? "signal \(sig)"
            throw RuntimeError("killed by signal \(sig) (\(name))" + (text.isEmpty ? "" : ", output: \(text)"))
        }
    }
}
