import ArgumentParser
import Build
import Database
import FoundationEssentials
import Glibc
import HostOS
import Images
import Registry

struct System: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Store housekeeping.", subcommands: [Df.self, SystemPrune.self])
    struct Df: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disk used by images, layers and containers.")
        @OptionGroup var global: Global
        func run() async throws {
            let store = openStore(global)
            let images = (try? store.images()) ?? []
            let rows = [("Images", images.count, ImageStore.diskUsage(store.root + "/blobs")),
                        ("Layers", FileIO.listDirectory(store.root + "/layers").count, ImageStore.diskUsage(store.root + "/layers")),
                        ("Containers", FileIO.listDirectory(store.root + "/containers").count, ImageStore.diskUsage(store.root + "/containers")),
                        ("Local Volumes", FileIO.listDirectory(store.root + "/volumes").count, ImageStore.diskUsage(store.root + "/volumes")),
                        ("Build Cache", BuildCache.usage(store).records, BuildCache.usage(store).mountBytes)]
            print("TYPE         TOTAL   SIZE")
            for (t, n, b) in rows { print("\(t.padding(13))\(String(n).padding(8))\(b)") }
        }
    }
}
