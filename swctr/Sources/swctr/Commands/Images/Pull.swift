import ArgumentParser
import FoundationEssentials
import Glibc
import HostOS
import Database
import Images
import OCI
import Registry
import Synchronization

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
        let progress = Mutex<LayerProgress?>(nil)
        try await ImagePull.pull(ref, platform: platform, store: store, client: client) { event in
            switch event {
            case .resolved(let layers): progress.withLock { $0 = LayerProgress(layers: layers) }
            case .layer(let id, let status):
                let p = progress.withLock { $0 }
                switch status {
                case .exists: p?.update(id, "Already exists")
                case .downloading(let done, let size): p?.update(id, LayerProgress.bar(done, size))
                case .downloaded: p?.update(id, "Download complete")
                case .extracting: p?.update(id, "Extracting")
                case .complete: p?.update(id, "Pull complete")
                }
            case .done(let record):
                print("Digest: \(record.digest)")
                print("Status: Downloaded image for \(record.name)")
            }
        }
    }
}

extension ImageReference {
    /// The name a pulled image is recorded under: with its tag, or its digest when pulled by one.
    static func withTag(_ ref: ImageReference) -> String { ImagePull.recordName(ref) }
}
