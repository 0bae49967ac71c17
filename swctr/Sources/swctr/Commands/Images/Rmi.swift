import ArgumentParser
import Database
import FoundationEssentials
import Glibc
import HostOS
import Images
import Registry

struct Rmi: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Remove images (and the layers no other image uses).")
    @OptionGroup var global: Global
    @Flag(name: .short, help: "Remove even if a container uses it.") var force = false
    @Argument var images: [String]

    func run() async throws {
        let store = openStore(global)
        do {
            try store.exclusively {
                let inUse = store.imagesInUse()
                for name in images {
                    let r = findImage(store, name)
                    if inUse.contains(r.name) && !force { fail("image \(r.name) is used by a running container (-f to remove anyway)") }
                    try store.remove(r.name)
                    print("Untagged: \(r.name)")
                }
            }
        } catch { fail("\(error)") }
    }
}
