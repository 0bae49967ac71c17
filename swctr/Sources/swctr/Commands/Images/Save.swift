import ArgumentParser
import Database
import FoundationEssentials
import Glibc
import HostOS
import Images
import Registry

struct Save: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Write images to a tar (OCI layout and docker-archive in one) or an OCI layout directory.")
    @OptionGroup var global: Global
    @Option(name: [.customShort("o"), .customLong("output")]) var output: String
    @Option(help: "docker-archive or oci-archive (the same tar, readable as either), or oci-dir.")
    var format: String = "docker-archive"
    @Argument var images: [String]

    func run() async throws {
        guard ["docker-archive", "oci-archive", "oci-dir"].contains(format) else {
            fail("--format: want docker-archive, oci-archive or oci-dir, got \(format)")
        }
        let store = openStore(global)
        let records = images.map { findImage(store, $0) }
        let directory = format == "oci-dir"
        var st = stat()
        let existed = stat(output, &st) == 0
        if directory && existed && ((st.st_mode & S_IFMT) != S_IFDIR || !FileIO.listDirectory(output).isEmpty) {
            fail("\(output): exists and is not an empty directory")
        }
        do { try ImageArchive.save(records, store: store, to: output, directory: directory) } catch {
            // What this command wrote goes; an empty directory the user gave stays.
            if !directory {
                unlink(output)
            } else if existed {
                for name in FileIO.listDirectory(output) { FileIO.removeTree(output + "/" + name) }
            } else {
                FileIO.removeTree(output)
            }
            fail("\(error)")
        }
    }
}
