import Glibc
import HostOS

/// Health checks on their interval: the test runs in the container through the runtime's exec,
/// with its output kept (4 KiB, as Docker) and a timeout; one check at a time.
final class HealthRunner {
    let config: HealthConfig
    let argv: [String]
    let directory: String
    let startedAt = Clock.monotonicNanos()
    var next: UInt64 = 0
    var pid: Int32 = 0
    var checkStarted: UInt64 = 0
    var checkStartedAt = ""
    var output: TemporaryFile?
    var result: HealthResult?

    init(config: HealthConfig, command: [String], runtime: String, root: String, id: String, directory: String) {
        self.config = config
        argv = [runtime, "--root", root, "exec", id] + command
        self.directory = directory
        next = startedAt + gap
    }

    var inStartPeriod: Bool { Clock.monotonicNanos() - startedAt < UInt64(max(0, config.startPeriod)) }

    /// The wait before the next check: the start interval while the start period lasts (when
    /// one is set), else the interval.
    var gap: UInt64 {
        if let start = config.startInterval, start > 0, inStartPeriod { return UInt64(max(start, 1_000_000)) }
        return UInt64(max(config.interval, 1_000_000))
    }

    /// When the loop must wake: the next check, or the running one's timeout.
    var nextEvent: UInt64 { pid > 0 ? checkStarted + UInt64(max(config.timeout, 1_000_000)) : next }

    func due(now: UInt64) -> Bool { pid == 0 && now >= next }

    func launch() {
        guard let file = try? TemporaryFile() else { return }
        output = file
        checkStarted = Clock.monotonicNanos()
        checkStartedAt = Clock.rfc3339Now()
        let devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { close(devnull) }
        pid = (try? Spawn.start(argv, Spawn.Options(stdin: devnull, stdout: file.fd, stderr: file.fd))) ?? 0
        if pid == 0 { finish(code: -1, output: "cannot run the health check") }
    }

    func finished(status: Spawn.Status) {
        let text = (try? output?.contents()).map { String(decoding: $0.prefix(4096), as: UTF8.self) } ?? ""
        finish(code: status.code, output: text)
    }

    /// A check past its timeout is killed and counts as failed (Docker's exit code -1).
    func timedOut(now: UInt64) -> Bool {
        guard pid > 0, now >= checkStarted + UInt64(max(config.timeout, 1_000_000)) else { return false }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        finish(code: -1, output: "Health check exceeded timeout (\(config.timeout / 1_000_000_000)s)")
        return true
    }

    private func finish(code: Int32, output text: String) {
        result = HealthResult(start: checkStartedAt, end: Clock.rfc3339Now(), exitCode: code, output: text)
        pid = 0
        output = nil
        next = Clock.monotonicNanos() + gap
    }

    func takeResult() -> HealthResult? {
        defer { result = nil }
        return result
    }
}
