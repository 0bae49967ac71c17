import ArgumentParser
import Database
import FoundationEssentials
import Glibc
import HostOS
import Images
import Registry

struct Load: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Read images from an OCI layout or docker-archive tar.")
    @OptionGroup var global: Global
    @Option(name: [.customShort("i"), .customLong("input")]) var input: String
    @Option(help: "os/arch[/variant] to take from a multi-platform image (default: this machine's).")
    var platform: String?

    func run() async throws {
        do {
            for name in try ImageArchive.load(input, store: openStore(global), platform: Platform(option: platform)) {
                print("Loaded image: \(name)")
            }
        } catch { fail("\(error)") }
    }
}
