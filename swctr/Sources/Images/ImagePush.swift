import Database
import FoundationEssentials
import HostOS
import Registry

/// `push`: an image of the store to a registry under another (or the same) name — its layers and
/// config as the store keeps them, then its manifest byte for byte, so the digest a later pull
/// resolves is the one here.
public enum ImagePush {
    public enum Event: Sendable {
        case blob(digest: String, BlobStatus)
    }

    public enum BlobStatus: Sendable {
        case preparing
        case pushing(sent: Int64, size: Int64)
        case done(RegistryClient.BlobPush)
    }

    /// Pushes `record` as `ref`; the manifest digest.
    public static func push(_ record: ImageRecord, as ref: ImageReference, store: ImageStore, client: RegistryClient,
                            events: @escaping @Sendable (Event) -> Void = { _ in }) async throws -> String {
        let manifestBytes: [UInt8]
        let manifest: Manifest
        do {
            manifestBytes = try FileIO.read(store.blobPath(record.digest))
            manifest = try JSONDecoder().decode(Manifest.self, from: Data(manifestBytes))
        } catch { throw SwctrError(.notFound, "the manifest of \(record.name) is missing from the store: \(error)") }
        let sources = mountSources(ref, store: store)
        for d in manifest.layers + [manifest.config] where !store.hasBlob(d.digest) {
            throw SwctrError(.notFound, "blob \(d.digest) of \(record.name) is not in the store (pull the image again)")
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for d in manifest.layers {
                group.addTask {
                    events(.blob(digest: d.digest, .preparing))
                    let outcome = try await client.pushBlob(ref, digest: d.digest, size: d.size, path: store.blobPath(d.digest),
                                                            mountFrom: sources[d.digest]) { sent in
                        events(.blob(digest: d.digest, .pushing(sent: sent, size: d.size)))
                    }
                    events(.blob(digest: d.digest, .done(outcome)))
                }
            }
            try await group.waitForAll()
        }
        // The config after the layers: a registry may check the layers a manifest names exist.
        let c = manifest.config
        _ = try await client.pushBlob(ref, digest: c.digest, size: c.size, path: store.blobPath(c.digest), mountFrom: sources[c.digest])
        return try await client.pushManifest(ref, bytes: manifestBytes, mediaType: manifest.mediaType ?? MediaType.ociManifest)
    }

    /// Blobs another repository of the same registry has, as far as the store knows (an image
    /// pulled from there, or pushed there under that name): digest → repository, for a
    /// cross-repository mount instead of an upload.
    static func mountSources(_ ref: ImageReference, store: ImageStore) -> [String: String] {
        var out: [String: String] = [:]
        for r in (try? store.images()) ?? [] {
            guard let other = try? ImageReference(parsing: r.name), other.registry == ref.registry, other.repository != ref.repository,
                  let bytes = try? FileIO.read(store.blobPath(r.digest)),
                  let m = try? JSONDecoder().decode(Manifest.self, from: Data(bytes)) else { continue }
            for d in m.layers + [m.config] where out[d.digest] == nil { out[d.digest] = other.repository }
        }
        return out
    }
}
