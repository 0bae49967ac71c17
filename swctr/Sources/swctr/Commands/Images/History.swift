import ArgumentParser
import Containers
import Database
import FoundationEssentials
import Glibc
import HostOS
import Images
import Logs
import Registry

/// `history [--no-trunc] [-q] IMAGE`: each step that made the image, newest first, with the size
/// of the layer it made (0B for a step that only changed the config), as Docker shows it.
struct History: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show how an image's layers were made.")
    @OptionGroup var global: Global
    @Flag(name: .customLong("no-trunc"), help: "Do not shorten the CREATED BY column.") var noTrunc = false
    @Flag(name: [.customShort("q"), .customLong("quiet")], help: "Only the image ID.") var quiet = false
    @Argument var image: String

    func run() async throws {
        let store = openStore(global)
        let r = findImage(store, image)
        if quiet { print(String(Digest.hex(r.id).prefix(12))); return }
        let manifest = (try? FileIO.read(store.blobPath(r.digest))).flatMap { try? JSONDecoder().decode(Manifest.self, from: Data($0)) }
        var sizes = (manifest?.layers ?? []).map(\.size)[...]
        // An image without history entries (made by a tool that writes none) shows a row a layer.
        var history = r.imageConfig?.history ?? []
        if history.isEmpty { history = r.layerIDs.map { _ in ImageConfig.History(created_by: "") } }
        var rows: [(String, String, String, String)] = []
        let now = Date().timeIntervalSince1970
        for h in history {
            let size = h.empty_layer == true ? 0 : (sizes.popFirst() ?? 0)
            let when = h.created.flatMap { LogTime.parseRFC3339($0) }.map { ContainerView.humanDuration(now - Double($0) / 1e9) + " ago" } ?? "N/A"
            var by = (h.created_by ?? "").replacingOccurrences(of: "\n", with: " ")
            if !noTrunc && by.count > 45 { by = String(by.prefix(44)) + "…" }
            rows.append((when, by, StatsLine.decimalSize(UInt64(max(0, size))), h.comment ?? ""))
        }
        print("IMAGE          CREATED          CREATED BY                                      SIZE      COMMENT")
        for (i, row) in rows.reversed().enumerated() {
            let id = i == 0 ? String(Digest.hex(r.id).prefix(12)) : "<missing>"
            print("\(id.padding(15))\(row.0.padding(17))\(row.1.padding(48))\(row.2.padding(10))\(row.3)")
        }
    }
}
