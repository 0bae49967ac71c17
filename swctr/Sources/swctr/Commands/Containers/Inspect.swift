import ArgumentParser
import Containers
import Database
import Glibc
import Images
import JSON
import Registry

/// `inspect`: containers (Docker's document) and images, as a JSON array or through -f.
struct Inspect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show containers or images as JSON.")
    @OptionGroup var global: Global
    @Option(name: [.customShort("f"), .customLong("format")], help: "A Go template, e.g. {{.State.Status}}.") var format: String?
    @Option(help: "container or image (default: a container, else an image).") var type: String?
    @Argument var names: [String]

    func run() async throws {
        let template: GoTemplate?
        do { template = try format.map { f throws(SwctrError) in try GoTemplate(f) } } catch { fail(error) }
        guard type == nil || type == "container" || type == "image" else { fail("--type: want container or image, got \(type ?? "")") }
        // Image records need no root; containers do.
        let manager = type != "image" && geteuid() == 0 ? global.manager(needsRuntime: false) : nil
        let store = manager?.store ?? openStore(global)
        var documents: [JSONValue] = []
        var status: Int32 = 0
        for name in names {
            if let manager, let row = try? manager.find(name) {
                documents.append(InspectDocument.container(manager.view(row), manager: manager))
            } else if type != "container", let record = (try? store.image(name)) ?? nil {
                documents.append(Self.image(record))
            } else {
                writeStderr("swctr: no such object: \(name)\n")
                status = 1
            }
        }
        if let template {
            for d in documents {
                do { print(try template.render(d)) } catch { fail(error) }
            }
        } else {
            print(JSONValue.array(documents).serialized(indent: 4))
        }
        throw ExitCode(status)
    }

    static func image(_ r: ImageRecord) -> JSONValue {
        struct Out: Encodable {
            var Name, Digest, Id: String
            var Size: Int64
            var Layers: [String]
            var Config: ImageConfig?
        }
        let out = Out(Name: r.name, Digest: r.digest, Id: r.id, Size: r.size,
                      Layers: r.layerIDs, Config: r.imageConfig)
        return (try? JSONValueEncoder().encodeValue(out)) ?? .null
    }
}
