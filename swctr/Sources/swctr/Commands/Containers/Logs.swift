import ArgumentParser
import Containers
import Database
import HostOS
import Logs

/// `logs`: what the container printed, from its json-file log; -f follows until it stops.
struct Logs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a container's output.")
    @OptionGroup var global: Global
    @Flag(name: [.customShort("f"), .customLong("follow")], help: "Keep printing new output until the container stops.")
    var follow = false
    @Option(name: [.customShort("n"), .customLong("tail")], help: "Only the last N lines (default all).") var tail = "all"
    @Option(help: "Only output since a time (RFC 3339, Unix seconds, or a duration like 10m).") var since: String?
    @Option(help: "Only output before a time.") var until: String?
    @Flag(name: [.customShort("t"), .customLong("timestamps")], help: "Prefix each line with its time.") var timestamps = false
    @Argument var container: String

    func run() async throws {
        let manager = global.manager(needsRuntime: false)
        let row: ContainerRow
        do { row = try manager.find(container) } catch { fail(error) }
        manager.store.release()
        var query = LogReader.Query()
        if tail != "all" {
            guard let n = Int(tail) else { fail("invalid value for --tail: \(tail) (a number or all)") }
            query.tail = n
        }
        if let since {
            guard let t = LogTime.parse(since) else { fail("invalid value for --since: \(since)") }
            query.since = t
        }
        if let until {
            guard let t = LogTime.parse(until) else { fail("invalid value for --until: \(until)") }
            query.until = t
        }
        let reader = LogReader(path: manager.logPath(row.id), maxFiles: manager.config(of: row).log.maxFiles)
        let emit = { (e: LogEntry) in
            let text = timestamps ? e.time + " " + e.text : e.text
            _ = try? FileIO.writeAll(e.stream == .stderr ? 2 : 1, Array(text.utf8), what: "output")
        }
        if follow {
            reader.follow(query, emit: emit, stop: { !manager.view(row).isRunning })
        } else {
            for e in reader.entries(query) { emit(e) }
        }
    }
}
