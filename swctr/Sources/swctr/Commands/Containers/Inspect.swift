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
                documents.append(Self.image(record, store: store))
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

    /// Docker's image document: the config's own members as stored (fields swctr does not model
    /// kept), the tags and digests this store knows for the image.
    static func image(_ r: ImageRecord, store: ImageStore) -> JSONValue {
        var raw = JSONObject()
        if case .object(let o)? = try? JSONParser.parse(Array(r.config.utf8)) { raw = o }
        let same = ((try? store.images()) ?? []).filter { $0.id == r.id }
        let tags = same.map(\.name).filter { !$0.hasPrefix("sha256:") }.sorted()
        let repoDigests = Set(same.compactMap { x -> String? in
            guard !x.name.hasPrefix("sha256:"), let ref = try? ImageReference(parsing: x.name) else { return nil }
            return "\(ref.name)@\(x.digest)"
        }).sorted()
        var o = JSONObject()
        o.set("Id", .string(r.id))
        o.set("RepoTags", .array(tags.map { .string($0) }))
        o.set("RepoDigests", .array(repoDigests.map { .string($0) }))
        o.set("Created", raw["created"] ?? .string(""))
        o.set("Author", raw["author"] ?? .string(""))
        o.set("Config", raw["config"] ?? .object(JSONObject()))
        o.set("Architecture", raw["architecture"] ?? .string(""))
        if let v = raw["variant"] { o.set("Variant", v) }
        o.set("Os", raw["os"] ?? .string(""))
        o.set("Size", .number(String(r.size)))
        var rootfs = JSONObject()
        rootfs.set("Type", .string("layers"))
        rootfs.set("Layers", .array(r.layerIDs.map { .string($0) }))
        o.set("RootFS", .object(rootfs))
        o.set("Digest", .string(r.digest))
        return .object(o)
    }
}
