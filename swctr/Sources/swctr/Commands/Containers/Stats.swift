import ArgumentParser
import Containers
import Database
import Glibc
import JSON

/// `stats`: CPU, memory, network, block I/O and pids of running containers (or those named),
/// refreshed every second until interrupted, or once with --no-stream.
struct Stats: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show containers' resource use.")
    @OptionGroup var global: Global
    @Flag(name: [.customShort("a"), .customLong("all")], help: "Stopped containers too.") var all = false
    @Flag(name: .customLong("no-stream"), help: "Print one reading and exit.") var noStream = false
    @Flag(name: .customLong("no-trunc"), help: "Full ids.") var noTrunc = false
    @Option(help: "A Go template ({{.Name}} {{.CPUPerc}}), table TEMPLATE, or json.") var format: String?
    @Argument var containers: [String] = []

    static let headers = ["ID": "CONTAINER ID", "Container": "CONTAINER", "CPUPerc": "CPU %", "MemUsage": "MEM USAGE / LIMIT",
                          "MemPerc": "MEM %", "NetIO": "NET I/O", "BlockIO": "BLOCK I/O"]

    func run() async throws {
        let manager = global.manager()
        var previous: [String: StatsSample] = [:]
        let terminal = isatty(1) == 1
        while true {
            let views: [ContainerView]
            do {
                if containers.isEmpty {
                    views = try manager.list().filter { all || $0.isRunning }.sorted { $0.row.created < $1.row.created }
                } else {
                    views = try containers.map { ref throws(SwctrError) in manager.view(try manager.find(ref)) }
                }
            } catch { fail(error) }
            var rows: [JSONValue] = []
            var current: [String: StatsSample] = [:]
            for v in views {
                let sample = manager.statsSample(v)
                rows.append(StatsLine.row(sample, previous: previous[v.row.id], truncate: !noTrunc))
                current[v.row.id] = sample
            }
            // A terminal shows one table in place; a pipe gets each reading after the last.
            if terminal && !noStream { print("\u{1b}[2J\u{1b}[H", terminator: "") }
            printFormatted(rows, format: format ?? "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}",
                           headers: Self.headers)
            if noStream { return }
            fflush(nil)
            previous = current
            usleep(1_000_000)
        }
    }
}
