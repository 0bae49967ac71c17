import ArgumentParser
import Database
import FoundationEssentials
import Glibc
import HostOS
import Images
import Registry

func openStore(_ global: Global) -> ImageStore {
    do { return try ImageStore(root: global.root) } catch { fail("\(error)") }
}

func findImage(_ store: ImageStore, _ name: String) -> ImageRecord {
    do {
        guard let r = try store.image(name) else { fail("image not found: \(name)") }
        return r
    } catch { fail("\(error)") }
}

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
            r.name = ImageReference.withTag(ref)
            try store.save(r)
        } catch { fail("\(error)") }
    }
}

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

struct System: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Store housekeeping.", subcommands: [Df.self])
    struct Df: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disk used by images, layers and containers.")
        @OptionGroup var global: Global
        func run() async throws {
            let store = openStore(global)
            let images = (try? store.images()) ?? []
            let rows = [("Images", images.count, ImageStore.diskUsage(store.root + "/blobs")),
                        ("Layers", FileIO.listDirectory(store.root + "/layers").count, ImageStore.diskUsage(store.root + "/layers")),
                        ("Containers", FileIO.listDirectory(store.root + "/containers").count, ImageStore.diskUsage(store.root + "/containers"))]
            print("TYPE         TOTAL   SIZE")
            for (t, n, b) in rows { print("\(t.padding(13))\(String(n).padding(8))\(b)") }
        }
    }
}

extension StringProtocol {
    func padding(_ n: Int) -> String { count >= n ? String(self) + " " : String(self) + String(repeating: " ", count: n - count) }
}

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
