import Containers
import Database
import Foundation
import HostOS
import Logs

/// `logs`: every container's json-file log, each line prefixed with its container's name (in a
/// colour of its own on a terminal); with `follow` until every container has stopped.
extension ComposeEngine {
    public struct LogOptions: Sendable {
        public var services: [String] = []
        public var follow = false
        public var tail: Int?
        public var timestamps = false
        public var color = false
        public var prefix = true
        public init() {}
    }

    static let colors = ["36", "33", "32", "35", "34", "96", "93", "92", "95", "94"]

    public func logs(_ o: LogOptions, containers views: [ContainerView]? = nil) throws(SwctrError) {
        let chosen = Set(try selected(o.services).map(\.name))
        let list = views ?? containers().filter { chosen.contains($0.options.labels[ComposeLabel.service] ?? "") }
        let width = list.map(\.row.name.count).max() ?? 0
        let out = OutputLock()
        let heads = list.enumerated().map { i, v -> String in
            let name = v.row.name + String(repeating: " ", count: max(0, width - v.row.name.count))
            return !o.prefix ? "" : o.color ? "\u{1b}[\(Self.colors[i % Self.colors.count])m\(name)  |\u{1b}[0m " : "\(name)  | "
        }
        let timestamps = o.timestamps
        let emit: @Sendable (Int, LogEntry) -> Void = { i, e in
            var text = e.text
            if !text.hasSuffix("\n") { text += "\n" }
            out.write(e.stream == .stderr ? 2 : 1, heads[i] + (timestamps ? e.time + " " : "") + text)
        }
        var q = LogReader.Query()
        q.tail = o.tail
        let query = q
        if !o.follow {
            // Lines of all containers in the order they were written.
            var all: [(String, Int, LogEntry)] = []
            for (i, v) in list.enumerated() {
                let reader = LogReader(path: manager.logPath(v.row.id), maxFiles: v.options.log.maxFiles)
                for e in reader.entries(query) { all.append((e.time, i, e)) }
            }
            for (_, i, e) in all.sorted(by: { $0.0 < $1.0 }) { emit(i, e) }
            return
        }
        let manager = self.manager
        Self.parallel(list.enumerated().map { IndexedView(index: $0.offset, view: $0.element) }) { item in
            let v = item.view
            let reader = LogReader(path: manager.logPath(v.row.id), maxFiles: v.options.log.maxFiles)
            reader.follow(query, emit: { emit(item.index, $0) }, stop: { !manager.view(v.row).isRunning })
        }
    }
}

struct IndexedView: @unchecked Sendable {
    var index: Int
    var view: ContainerView
}

/// Whole lines from several threads, never interleaved.
final class OutputLock: @unchecked Sendable {
    private let lock = NSLock()
    func write(_ fd: Int32, _ text: String) {
        lock.withLock { _ = try? FileIO.writeAll(fd, Array(text.utf8), what: "output") }
    }
}
