import ArgumentParser
import Containers
import Database
import FoundationEssentials
import JSON

/// `ps`: running containers (all with -a), Docker's columns, filters and --format templates.
struct Ps: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List containers.")
    @OptionGroup var global: Global
    @Flag(name: [.customShort("a"), .customLong("all")], help: "Show stopped and created containers too.") var all = false
    @Flag(name: [.customShort("q"), .customLong("quiet")], help: "Only ids.") var quiet = false
    @Flag(name: .customLong("no-trunc"), help: "Do not shorten ids and commands.") var noTrunc = false
    @Flag(name: [.customShort("l"), .customLong("latest")], help: "Only the latest created container.") var latest = false
    @Option(name: [.customShort("n"), .customLong("last")], help: "Only the N latest created containers.") var last: Int?
    @Option(name: [.customShort("f"), .customLong("filter")], help: "status=, name=, label=, ancestor=, id=, exited=, health=.")
    var filter: [String] = []
    @Flag(name: [.customShort("s"), .customLong("size")], help: "Show each container's size (and with its image's, virtual).") var size = false
    @Option(help: "A Go template ({{.Names}}, table {{.ID}}\\t{{.Status}}), or json.") var format: String?

    static let headers = ["ID": "CONTAINER ID", "RunningFor": "CREATED", "CreatedAt": "CREATED AT"]

    func run() async throws {
        let manager = global.manager(needsRuntime: false)
        let filters: ContainerFilter
        var views: [ContainerView]
        do {
            filters = try ContainerFilter(filter)
            views = try manager.list()
        } catch { fail(error) }
        views.sort { $0.row.created > $1.row.created }
        let limit = latest ? 1 : last
        if !(all || limit != nil || filters.namesStatus) { views = views.filter(\.isRunning) }
        views = views.filter(filters.matches)
        if let limit, limit >= 0 { views = Array(views.prefix(limit)) }
        let now = Date().timeIntervalSince1970
        if quiet {
            for v in views { print(noTrunc ? v.row.id : String(v.row.id.prefix(12))) }
            return
        }
        // -s (or a template naming .Size) measures each container's own files, as Docker does.
        let measure = size || (format?.contains(".Size") ?? false)
        let rows = views.map { v in
            InspectDocument.psRow(v, now: now, truncate: !noTrunc, size: measure ? manager.size(of: v.row) : nil)
        }
        guard let format else {
            printTable(rows, template: "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"
                       + (size ? "\t{{.Size}}" : ""), headers: Ps.headers)
            return
        }
        printFormatted(rows, format: format, headers: Ps.headers)
    }
}
