import Containers
import Database
import JSON

/// How list commands print: `--format json` (a document per line), `table TEMPLATE` (a header
/// row from the field names, then padded columns), or a bare Go template per row.
func printFormatted(_ rows: [JSONValue], format: String, headers: [String: String]) {
    if format == "json" {
        for r in rows { print(r.serialized()) }
    } else if format.hasPrefix("table") {
        printTable(rows, template: format, headers: headers)
    } else {
        do {
            let t = try GoTemplate(format)
            for r in rows { print(try t.render(r)) }
        } catch { fail(error) }
    }
}

/// A `table …` template: a header from the field names (or `headers`), columns padded as Docker pads them.
func printTable(_ rows: [JSONValue], template: String, headers: [String: String]) {
    let body = String(template.dropFirst(5)).drop { $0 == " " }
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

/// Rows as columns three spaces apart, the last column unpadded.
func printColumns(_ lines: [[String]]) {
    guard let first = lines.first else { return }
    let widths = (0..<first.count).map { c in lines.map { $0.indices.contains(c) ? $0[c].count : 0 }.max() ?? 0 }
    for l in lines {
        print(l.enumerated().map { i, s in i == l.count - 1 ? s : s + String(repeating: " ", count: widths[i] - s.count + 3) }.joined())
    }
}

/// `inspect` of several objects: a JSON array (or the template per object); each one that is
/// missing is an error line, and the status is then 1.
func printInspected(_ refs: [String], format: String?, _ document: (String) throws(SwctrError) -> JSONValue) -> Int32 {
    var docs: [JSONValue] = []
    var status: Int32 = 0
    for ref in refs {
        do { docs.append(try document(ref)) } catch {
            writeStderr("swctr: \(error.message)\n")
            status = 1
        }
    }
    if let format {
        do {
            let t = try GoTemplate(format)
            for d in docs { print(try t.render(d)) }
        } catch { fail(error) }
    } else {
        print(JSONValue.array(docs).serialized(indent: 4))
    }
    return status
}
