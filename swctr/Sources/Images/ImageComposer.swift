import CArchive
import Database
import FoundationEssentials
import Glibc
import HostOS
import JSON
import Registry

/// New images from old ones: a layer made from a directory (an overlay upper directory, as
/// `commit` has it and builds will), stacked on a base image with a new config and a history
/// entry, stored like a pulled image (blobs, unpacked layer, record). The base config is edited
/// as JSON, so fields swctr does not model survive.
public enum ImageComposer {
    /// A layer blob written to the store's temporary area.
    public struct Layer: Sendable {
        public var path: String
        public var digest: String
        public var diffID: String
        public var size: Int64
    }

    /// Archives `directory` (an overlay upper directory: its whiteouts become OCI whiteouts) as
    /// a gzip layer.
    public static func layer(from directory: String, store: ImageStore) throws(SwctrError) -> Layer {
        let path = store.temporary("layer") + ".tar.gz"
        guard let a = archive_write_new() else { throw SwctrError(.failure, "libarchive: out of memory") }
        defer { archive_write_free(a) }
        archive_write_set_format_pax_restricted(a)
        archive_write_add_filter_gzip(a)
        guard archive_write_open_filename(a, path) == ARCHIVE_OK else { throw SwctrError(.failure, "\(path): \(LayerUnpacker.message(a))") }
        let root = open(directory, RootedPath.O_PATH | O_DIRECTORY | O_CLOEXEC)
        guard root >= 0 else { throw SwctrError(.failure, "open \(directory): \(String(cString: strerror(errno)))") }
        defer { close(root) }
        do throws(SwctrError) {
            try TreeArchive.add("/", in: root, as: "", to: a, options: .init(overlayWhiteouts: true))
            guard archive_write_close(a) == ARCHIVE_OK else { throw SwctrError(.failure, "\(path): \(LayerUnpacker.message(a))") }
            let diffID: String
            do { diffID = try LayerUnpacker.diffID(of: path) } catch { throw SwctrError(.failure, error.description) }
            let (digest, size) = try fileDigest(path)
            return Layer(path: path, digest: digest, diffID: diffID, size: size)
        } catch {
            unlink(path)
            throw error
        }
    }

    /// A file's sha256 digest and size.
    public static func fileDigest(_ path: String) throws(SwctrError) -> (digest: String, size: Int64) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SwctrError(.failure, "open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let hasher = Digest.Hasher()
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        var total: Int64 = 0
        while true {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw SwctrError(.failure, "read \(path): \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            buf.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            total += Int64(n)
        }
        return (hasher.finish(), total)
    }

    /// What the new image says about itself.
    public struct Description: Sendable {
        /// The image config's `config` member (Env, Cmd, Entrypoint, …), whole.
        public var config: JSONValue
        public var createdBy: String
        public var comment: String?
        public var author: String?

        public init(config: JSONValue, createdBy: String, comment: String? = nil, author: String? = nil) {
            self.config = config
            self.createdBy = createdBy
            self.comment = comment
            self.author = author
        }
    }

    /// Stores `base` + `layer` (nil: a metadata-only step, history marks it `empty_layer`) as a
    /// new image named `name` (nil: untagged, found by its ID). The layer file is consumed.
    public static func compose(base: ImageRecord, layer: Layer?, _ description: Description, name: String?,
                               store: ImageStore) throws(SwctrError) -> ImageRecord {
        defer { if let layer { unlink(layer.path) } }
        let now = Clock.rfc3339Now()
        guard case .object(var config)? = try? JSONParser.parse(Array(base.config.utf8)) else {
            throw SwctrError(.invalidArgument, "the config of \(base.name) is not a JSON object")
        }
        config.set("created", .string(now))
        if let author = description.author { config.set("author", .string(author)) }
        config.set("config", description.config)
        var history: [JSONValue] = []
        if case .array(let h)? = config["history"] { history = h }
        var entry = JSONObject()
        entry.set("created", .string(now))
        entry.set("created_by", .string(description.createdBy))
        if let comment = description.comment, !comment.isEmpty { entry.set("comment", .string(comment)) }
        if let author = description.author { entry.set("author", .string(author)) }
        if layer == nil { entry.set("empty_layer", .bool(true)) }
        history.append(.object(entry))
        config.set("history", .array(history))
        let baseManifest: Manifest
        do { baseManifest = try JSONDecoder().decode(Manifest.self, from: Data(FileIO.read(store.blobPath(base.digest)))) } catch {
            throw SwctrError(.notFound, "the manifest of \(base.name) is missing from the store (pull it again): \(error)")
        }
        let baseIDs = base.layerIDs
        var layers = zip(baseManifest.layers, baseIDs).map { d, diffID in
            LayerDescriptor(mediaType: ociLayerType(d.mediaType), digest: d.digest, diffID: diffID, size: d.size)
        }
        if let layer {
            if !store.hasBlob(layer.digest) {
                do { try store.commit(layer.path, to: store.blobPath(layer.digest)) } catch { throw SwctrError(.failure, "store the layer: \(error)") }
            }
            layers.append(LayerDescriptor(mediaType: layerMediaType, digest: layer.digest, diffID: layer.diffID, size: layer.size))
        }
        return try assemble(config: config, layers: layers, names: [name ?? ""].filter { !$0.isEmpty }, store: store)
    }

    /// One layer of an image as its manifest and config name it.
    public struct LayerDescriptor: Sendable, Equatable, Codable {
        public var mediaType: String
        public var digest: String
        public var diffID: String
        public var size: Int64

        public init(mediaType: String, digest: String, diffID: String, size: Int64) {
            self.mediaType = mediaType
            self.digest = digest
            self.diffID = diffID
            self.size = size
        }
    }

    /// The media type of the layers swctr makes.
    public static let layerMediaType = "application/vnd.oci.image.layer.v1.tar+gzip"

    /// Stores an image made of `layers` (blobs already in the store; unpacked here if they are not
    /// yet) and `config` (the whole image config; its rootfs is set from the layers) under each of
    /// `names`, or untagged (found by its ID) when there are none. An image the same as one the
    /// store has gives the same ID.
    @discardableResult
    public static func assemble(config imageConfig: JSONObject, layers: [LayerDescriptor], names: [String],
                                store: ImageStore) throws(SwctrError) -> ImageRecord {
        var config = imageConfig
        var rootfs = JSONObject()
        rootfs.set("type", .string("layers"))
        rootfs.set("diff_ids", .array(layers.map { .string($0.diffID) }))
        config.set("rootfs", .object(rootfs))
        let configBytes = Array(JSONValue.object(config).serialized().utf8)
        let configDigest = Digest.of(configBytes)
        var manifest = JSONObject()
        manifest.set("schemaVersion", .number("2"))
        manifest.set("mediaType", .string(MediaType.ociManifest))
        manifest.set("config", descriptor("application/vnd.oci.image.config.v1+json", configDigest, Int64(configBytes.count)))
        manifest.set("layers", .array(layers.map { descriptor($0.mediaType, $0.digest, $0.size) }))
        let manifestBytes = Array(JSONValue.object(manifest).serialized().utf8)
        let manifestDigest = Digest.of(manifestBytes)
        do {
            for l in layers { try store.unpackLayer(blob: l.digest, diffID: l.diffID) }
            try store.writeBlob(configBytes, digest: configDigest)
            try store.writeBlob(manifestBytes, digest: manifestDigest)
            var record = ImageRecord(name: configDigest, digest: manifestDigest, config: String(decoding: configBytes, as: UTF8.self),
                                     layers: JSONValue.array(layers.map { .string($0.diffID) }).serialized(),
                                     size: layers.reduce(0) { $0 + $1.size }, created: Date().timeIntervalSince1970)
            if names.isEmpty {
                // Untagged: kept under its ID unless a tagged record already holds the image.
                if try !store.images().contains(where: { $0.id == record.id }) { try store.save(record) }
            }
            for name in names {
                record.name = name
                try store.save(record)
            }
            return record
        } catch let e as SwctrError {
            throw e
        } catch {
            throw SwctrError(.failure, "store the new image: \(error)")
        }
    }

    static func descriptor(_ mediaType: String, _ digest: String, _ size: Int64) -> JSONValue {
        var d = JSONObject()
        d.set("mediaType", .string(mediaType))
        d.set("digest", .string(digest))
        d.set("size", .number(String(size)))
        return .object(d)
    }

    /// Docker's layer media types as their OCI twins (the same bytes), so the manifest is pure OCI.
    public static func ociLayerType(_ type: String?) -> String {
        switch type {
        case "application/vnd.docker.image.rootfs.diff.tar.gzip", nil: "application/vnd.oci.image.layer.v1.tar+gzip"
        case "application/vnd.docker.image.rootfs.diff.tar": "application/vnd.oci.image.layer.v1.tar"
        case let other?: other
        }
    }
}
