import ArgumentParser
import Database
import FoundationEssentials
import Glibc
import HostOS
import Images
import Registry

struct History: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show how an image's layers were made.")
    @OptionGroup var global: Global
    @Argument var image: String

    func run() async throws {
        let r = findImage(openStore(global), image)
        print("CREATED                  CREATED BY")
        for h in (r.imageConfig?.history ?? []).reversed() {
            let when = (h.created ?? "").prefix(19)
            print("\(when.padding(24))\(h.created_by ?? h.comment ?? "")")
        }
    }
}
