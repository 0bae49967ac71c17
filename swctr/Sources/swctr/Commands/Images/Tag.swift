import ArgumentParser
import Database
import FoundationEssentials
import Glibc
import HostOS
import Images
import Registry

struct Tag: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Give an image another name.")
    @OptionGroup var global: Global
    @Argument var source: String
    @Argument var target: String

    func run() async throws {
        let store = openStore(global)
        var r = findImage(store, source)
        do {
            let ref = try ImageReference(parsing: target)
            let untagged = r.name.hasPrefix("sha256:") ? r.name : nil
            r.name = ImageReference.withTag(ref)
            try store.save(r)
            // An untagged image that gets a name is that image now, not a second one.
            if let untagged { try store.remove(untagged) }
        } catch { fail("\(error)") }
    }
}
