import Glibc
import Synchronization

/// Per-layer progress for `pull` and `push`. On a terminal it redraws one line per layer in place (ANSI
/// cursor-up); otherwise it prints plain lines once per state change, as `docker pull` does in a
/// pipe.
final class LayerProgress: Sendable {
    let live: Bool
    private let state: Mutex<(order: [String], lines: [String: String])>

    init(layers: [String]) {
        live = isatty(1) == 1
        state = Mutex((order: layers, lines: [:]))
        if live { for l in layers { write("\(l): Waiting\n") } }
    }

    /// A layer that was not known at the start (push learns them as it goes).
    func add(_ layer: String, _ text: String) {
        let known = state.withLock { s in
            if s.order.contains(layer) { return true }
            s.order.append(layer)
            if live { write("\n") }
            return false
        }
        if !known { update(layer, text) }
    }

    func update(_ layer: String, _ text: String) {
        state.withLock { s in
            s.lines[layer] = text
            guard live else { return }
            // Up to the first layer line, rewrite every line, end where we started.
            var out = "\u{1b}[\(s.order.count)A"
            for l in s.order { out += "\u{1b}[2K\(l): \(s.lines[l] ?? "Waiting")\n" }
            write(out)
        }
        if !live && !text.hasPrefix("Downloading") && !text.hasPrefix("Pushing") { write("\(layer): \(text)\n") }
    }

    static func bar(_ done: Int64, _ total: Int64, verb: String = "Downloading") -> String {
        let width = 30
        let filled = total > 0 ? Int(Double(done) / Double(total) * Double(width)) : 0
        let f = min(max(filled, 0), width)
        return verb + " [" + String(repeating: "=", count: f) + (f < width ? ">" : "") +
            String(repeating: " ", count: max(0, width - f - 1)) + "] \(mb(done))/\(mb(total))"
    }

    static func mb(_ n: Int64) -> String {
        let tenths = (n * 10 + 524_288) / 1_048_576
        return "\(tenths / 10).\(tenths % 10)MB"
    }

    /// Straight to fd 1, after what print() has buffered (the heading before the layers).
    private func write(_ s: String) {
        fflush(nil)
        _ = s.withCString { Glibc.write(1, $0, strlen($0)) }
    }
}
