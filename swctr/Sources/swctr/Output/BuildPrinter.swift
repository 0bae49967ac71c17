import Build
import Glibc
import Synchronization

/// A build's progress on stderr, numbered as BuildKit's plain output numbers it:
/// `#3 [stage-0 3/5] RUN make`, the step's own output, then `#3 DONE 0.4s` or `#3 CACHED`. On
/// a terminal (`--progress tty`, or auto) step lines are bold and cache hits coloured. Quiet:
/// nothing.
final class BuildPrinter: Sendable {
    let quiet: Bool
    let tty: Bool
    private let state = Mutex<(step: Int, started: Double)>((0, 0))

    init(quiet: Bool, tty: Bool) {
        self.quiet = quiet
        self.tty = tty
    }

    func show(_ event: BuildEvent) {
        guard !quiet else {
            if case .warning(let w) = event { writeStderr("[Warning] \(w)\n") }
            return
        }
        switch event {
        case .step(let stage, let index, let count, let text):
            let n = state.withLock { s in
                s.step += 1
                return s.step
            }
            let line = "#\(n) [\(stage) \(index)/\(count)] \(text)"
            writeStderr(tty ? "\u{1b}[1m\(line)\u{1b}[0m\n" : line + "\n")
        case .cached:
            let n = state.withLock { $0.step }
            writeStderr(tty ? "#\(n) \u{1b}[34mCACHED\u{1b}[0m\n" : "#\(n) CACHED\n")
        case .done(let seconds):
            let n = state.withLock { $0.step }
            let shown = (seconds * 10).rounded() / 10
            writeStderr("#\(n) DONE \(shown)s\n")
        case .message(let m):
            writeStderr(m + "\n")
        case .warning(let w):
            writeStderr(tty ? "\u{1b}[33m[Warning] \(w)\u{1b}[0m\n" : "[Warning] \(w)\n")
        }
    }

    func failed() {
        guard !quiet else { return }
        let n = state.withLock { $0.step }
        if n > 0 { writeStderr(tty ? "#\(n) \u{1b}[31mERROR\u{1b}[0m\n" : "#\(n) ERROR\n") }
    }

    func finished() {}
}
