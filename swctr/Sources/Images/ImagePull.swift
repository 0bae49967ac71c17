import Database
import FoundationEssentials
import HostOS
import Registry

/// `pull`: an image from a registry into the store — manifest (through an index for this
/// platform), layers downloaded in parallel and verified, unpacked bottom first, then the record.
/// `run --pull` and builds (FROM, COPY --from) pull through here too; the caller renders the
/// events.
public enum ImagePull {
    public enum Event: Sendable {
        /// The manifest is resolved: the layers to come, by short digest.
        case resolved(layers: [String])
        case layer(String, LayerStatus)
        case done(ImageRecord)
    }

    public enum LayerStatus: Sendable {
        case exists
        case downloading(done: Int64, size: Int64)
        case downloaded
        case extracting
        case complete
    }

    /// The record name a pulled image gets: with its tag, or its digest when pulled by one.
    public static func recordName(_ ref: ImageReference) -> String {
        if let tag = ref.tag { return "\(ref.name):\(tag)" }
        return "\(ref.name)@\(ref.digest ?? "")"
    }

    static func short(_ digest: String) -> String { String(Digest.hex(digest).prefix(12)) }

    @discardableResult
    public static func pull(_ ref: ImageReference, platform: Platform, store: ImageStore, client: RegistryClient,
                            events: @escaping @Sendable (Event) -> Void = { _ in }) async throws -> ImageRecord {
        let image = try await client.resolve(ref, platform: platform)
        let layers = image.manifest.layers
        let diffIDs = image.config.rootfs.diff_ids
        events(.resolved(layers: layers.map { short($0.digest) }))
        // Downloads run in parallel; unpacking is sequential (bottom layer first).
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (layer, diffID) in zip(layers, diffIDs) {
                let id = short(layer.digest)
                if store.hasLayer(diffID) || store.hasBlob(layer.digest) {
                    events(.layer(id, .exists))
                    continue
                }
                group.addTask {
                    let tmp = store.temporary("blob")
                    do {
                        try await client.downloadBlob(ref, layer, to: tmp) { done in
                            events(.layer(id, .downloading(done: done, size: layer.size)))
                        }
                        try store.commit(tmp, to: store.blobPath(layer.digest))
                    } catch {
                        FileIO.removeTree(tmp)
                        throw error
                    }
                    events(.layer(id, .downloaded))
                }
            }
            try await group.waitForAll()
        }
        for (layer, diffID) in zip(layers, diffIDs) where !store.hasLayer(diffID) {
            events(.layer(short(layer.digest), .extracting))
            try store.unpackLayer(blob: layer.digest, diffID: diffID)
            events(.layer(short(layer.digest), .complete))
        }
        try store.writeBlob(image.configBytes, digest: image.manifest.config.digest)
        try store.writeBlob(image.manifestBytes, digest: image.manifestDigest)
        let record = ImageRecord(
            name: recordName(ref), digest: image.manifestDigest,
            config: String(decoding: image.configBytes, as: UTF8.self),
            layers: String(decoding: try JSONEncoder().encode(diffIDs), as: UTF8.self),
            size: layers.reduce(0) { $0 + $1.size }, created: Date().timeIntervalSince1970)
        try store.save(record)
        events(.done(record))
        return record
    }
}
