import ArgumentParser
import FoundationEssentials
import Glibc
import HostOS
import Database
import Images
import OCI
import Registry

struct Images: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List images.")
    @OptionGroup var global: Global
    @Flag(name: .short, help: "Only image IDs.") var quiet = false
    @Flag(help: "Show digests.") var digests = false
    @Option(help: "table (default) or json.") var format: String = "table"

    func run() async throws {
        let records: [ImageRecord]
        do { records = try ImageStore(root: global.root).images() } catch { fail("\(error)") }
        func id(_ r: ImageRecord) -> String {
            // Docker's image ID: the config's digest.
            String(Digest.hex(r.id).prefix(12))
        }
        if quiet {
            for r in records { print(id(r)) }
            return
        }
        if format == "json" {
            struct Row: Encodable { var Repository, Tag, Id, Digest: String; var Size: Int64 }
            let rows = records.map { r -> Row in
                let (repo, tag) = split(r.name)
                return Row(Repository: repo, Tag: tag, Id: id(r), Digest: r.digest, Size: r.size)
            }
            print(String(decoding: try JSONEncoder().encode(rows), as: UTF8.self))
            return
        }
        guard format == "table" else { fail("--format: want table or json, got \(format)") }
        var lines = [["REPOSITORY", "TAG"] + (digests ? ["DIGEST"] : []) + ["IMAGE ID", "SIZE"]]
        for r in records {
            let (repo, tag) = split(r.name)
            lines.append([repo, tag] + (digests ? [r.digest] : []) + [id(r), human(r.size)])
        }
        let widths = (0..<lines[0].count).map { c in lines.map { $0[c].count }.max() ?? 0 }
        for l in lines {
            print(l.enumerated().map { i, s in i == l.count - 1 ? s : s + String(repeating: " ", count: widths[i] - s.count + 3) }.joined())
        }
    }

    func split(_ name: String) -> (String, String) {
        // An untagged image (commit without a name, or one a tag moved away from) is named by its ID.
        if name.hasPrefix("sha256:") { return ("<none>", "<none>") }
        if let at = name.firstIndex(of: "@") { return (String(name[..<at]), "<none>") }
        guard let colon = name.lastIndex(of: ":"), !name[colon...].contains("/") else { return (name, "<none>") }
        return (String(name[..<colon]), String(name[name.index(after: colon)...]))
    }

    func human(_ n: Int64) -> String {
        let d = Double(n)
        if d >= 1e9 { return "\((d / 1e9 * 10).rounded() / 10)GB" }
        if d >= 1e6 { return "\((d / 1e6 * 10).rounded() / 10)MB" }
        return "\((d / 1e3 * 10).rounded() / 10)kB"
    }
}
