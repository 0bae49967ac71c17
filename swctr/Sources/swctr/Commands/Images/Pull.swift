import ArgumentParser
import FoundationEssentials
import Glibc
import HostOS
import Database
import Images
import OCI
import Registry

struct Pull: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Pull an image from a registry.")
    @OptionGroup var global: Global
    @Option(name: .customLong("tls-verify"), help: "false: skip TLS verification and allow plain HTTP (default: the registries config).")
    var tlsVerify: Bool?
    @Option(help: "os/arch[/variant] to pull from a multi-platform image (default: this machine's).")
    var platform: String?
    @Argument(help: "Image reference, e.g. busybox or 127.0.0.1:5000/busybox:latest.")
    var image: String

    func run() async throws {
        do { try await perform() } catch { fail(error) }
    }

    /// The pull, its failures as errors (run and create report them with their own status).
    func perform() async throws(SwctrError) {
        let ref: ImageReference
        let want: Platform
        do {
            ref = try ImageReference(parsing: image)
            want = try Platform(option: platform)
        } catch { throw SwctrError(.invalidArgument, error.description) }
        let store: ImageStore
        do { store = try ImageStore(root: global.root) } catch { throw SwctrError(.failure, "\(error)") }
        let credentials: Credentials?
        do { credentials = try global.authFile.credentials(for: ref.registry) } catch { throw SwctrError(.failure, "\(error)") }
        let insecure: Bool
        do { insecure = try global.insecure(ref.registry, tlsVerify: tlsVerify) } catch { throw SwctrError(.invalidArgument, error.description) }
        let client = RegistryClient(insecure: insecure, credentials: credentials)
        do {
            try await pull(ref, platform: want, store: store, client: client)
            await client.shutdown()
        } catch {
            await client.shutdown()
            throw (error as? SwctrError) ?? SwctrError(.failure, "\(error)")
        }
    }

    func pull(_ ref: ImageReference, platform: Platform, store: ImageStore, client: RegistryClient) async throws {
        print("\(ref.tag ?? "latest"): Pulling from \(ref.registry)/\(ref.repository)")
        let image = try await client.resolve(ref, platform: platform)
        let layers = image.manifest.layers
        let diffIDs = image.config.rootfs.diff_ids
        func short(_ d: String) -> String { String(Digest.hex(d).prefix(12)) }
        let progress = PullProgress(layers: layers.map { short($0.digest) })
        // Downloads run in parallel; unpacking is sequential (bottom layer first).
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (layer, diffID) in zip(layers, diffIDs) {
                let id = short(layer.digest)
                if store.hasLayer(diffID) || store.hasBlob(layer.digest) {
                    progress.update(id, "Already exists")
                    continue
                }
                group.addTask {
                    let tmp = store.temporary("blob")
                    do {
                        try await client.downloadBlob(ref, layer, to: tmp) { done in
                            progress.update(id, PullProgress.bar(done, layer.size))
                        }
                        try store.commit(tmp, to: store.blobPath(layer.digest))
                    } catch {
                        FileIO.removeTree(tmp)
                        throw error
                    }
                    progress.update(id, "Download complete")
                }
            }
            try await group.waitForAll()
        }
        for (layer, diffID) in zip(layers, diffIDs) where !store.hasLayer(diffID) {
            progress.update(short(layer.digest), "Extracting")
            try store.unpackLayer(blob: layer.digest, diffID: diffID)
            progress.update(short(layer.digest), "Pull complete")
        }
        try store.writeBlob(image.configBytes, digest: image.manifest.config.digest)
        try store.writeBlob(image.manifestBytes, digest: image.manifestDigest)
        let record = ImageRecord(
            name: ImageReference.withTag(ref), digest: image.manifestDigest,
            config: String(decoding: image.configBytes, as: UTF8.self),
            layers: String(decoding: try JSONEncoder().encode(diffIDs), as: UTF8.self),
            size: layers.reduce(0) { $0 + $1.size }, created: Date().timeIntervalSince1970)
        try store.save(record)
        print("Digest: \(image.manifestDigest)")
        print("Status: Downloaded image for \(record.name)")
    }
}

extension ImageReference {
    /// The name a pulled image is recorded under: with its tag, or its digest when pulled by one.
    static func withTag(_ ref: ImageReference) -> String {
        if let tag = ref.tag { return "\(ref.name):\(tag)" }
        return "\(ref.name)@\(ref.digest ?? "")"
    }
}
