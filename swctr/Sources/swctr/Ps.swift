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
    @Option(help: "A Go template ({{.Names}}, table {{.ID}}\\t{{.Status}}), or json.") var format: String?

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
        let rows = views.map { InspectDocument.psRow($0, now: now, truncate: !noTrunc) }
        guard let format else {
            printTable(rows, template: "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}")
            return
        }
        if format == "json" {
            for r in rows { print(r.serialized()) }
        } else if format.hasPrefix("table") {
            printTable(rows, template: format)
        } else {
            do {
                let t = try GoTemplate(format)
                for r in rows { print(try t.render(r)) }
            } catch { fail(error) }
        }
    }

    /// A `table …` template: a header from the field names, columns padded as Docker pads them.
    func printTable(_ rows: [JSONValue], template: String) {
        let body = String(template.dropFirst(5)).drop { $0 == " " }
        let headers: [String: String] = ["ID": "CONTAINER ID", "RunningFor": "CREATED", "CreatedAt": "CREATED AT"]
        let cells = body.replacing("\\t", with: "\t").split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        var header: [String] = []
        for cell in cells {
            var name = cell
            if let r = cell.firstRange(of: "{{."), let e = cell.firstRange(of: "}}"), r.upperBound <= e.lowerBound { name = String(cell[r.upperBound..<e.lowerBound]) }
            header.append(headers[name] ?? name.uppercased())
        }
        let templates: [GoTemplate]
        do { templates = try cells.map { c throws(SwctrError) in try GoTemplate(c) } } catch { fail(error) }
        var lines = [header]
        for r in rows { lines.append(templates.map { (try? $0.render(r)) ?? "" }) }
        printColumns(lines)
    }
}

/// Rows as columns three spaces apart, the last column unpadded.
func printColumns(_ lines: [[String]]) {
    guard let first = lines.first else { return }
    let widths = (0..<first.count).map { c in lines.map { $0.indices.contains(c) ? $0[c].count : 0 }.max() ?? 0 }
    for l in lines {
        print(l.enumerated().map { i, s in i == l.count - 1 ? s : s + String(repeating: " ", count: widths[i] - s.count + 3) }.joined())
    }
}
