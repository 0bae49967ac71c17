import ArgumentParser
import Database
import Images
import Registry

/// `push NAME[:TAG]`: the image as the store has it, to the registry its name says.
struct Push: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Push an image to a registry.")
    @OptionGroup var global: Global
    @Option(name: .customLong("tls-verify"), help: "false: skip TLS verification and allow plain HTTP (default: the registries config).")
    var tlsVerify: Bool?
    @Flag(name: [.customShort("q"), .customLong("quiet")], help: "Print only the digest.") var quiet = false
    @Argument(help: "The image's name, e.g. 127.0.0.1:5000/app:v1 (tag it first with `swctr tag`).") var image: String

    func run() async throws {
        let ref: ImageReference
        do { ref = try ImageReference(parsing: image) } catch { fail(SwctrError(.invalidArgument, error.description)) }
        let record: ImageRecord
        let store: ImageStore
        do {
            store = try ImageStore(root: global.root)
            guard let r = try store.image(ImageReference.withTag(ref)) ?? store.image(image) else {
                throw SwctrError(.notFound, "An image does not exist locally with the tag: \(ref.name):\(ref.tag ?? "latest")")
            }
            record = r
        } catch { fail((error as? SwctrError) ?? SwctrError(.failure, "\(error)")) }
        let client: RegistryClient
        do {
            let credentials = try global.authFile.credentials(for: ref.registry)
            client = RegistryClient(insecure: try global.insecure(ref.registry, tlsVerify: tlsVerify), credentials: credentials)
        } catch { fail(SwctrError(.invalidArgument, "\(error)")) }
        if !quiet { print("The push refers to repository [\(ref.registry)/\(ref.repository)]") }
        let progress = quiet ? nil : LayerProgress(layers: [])
        let digest: String
        do {
            digest = try await ImagePush.push(record, as: ref, store: store, client: client) { event in
                guard let progress, case .blob(let d, let status) = event else { return }
                let id = String(Digest.hex(d).prefix(12))
                switch status {
                case .preparing: progress.add(id, "Preparing")
                case .pushing(let sent, let size): progress.update(id, LayerProgress.bar(sent, size, verb: "Pushing"))
                case .done(.exists): progress.update(id, "Layer already exists")
                case .done(.mounted(let from)): progress.update(id, "Mounted from \(from)")
                case .done(.uploaded): progress.update(id, "Pushed")
                }
            }
            await client.shutdown()
        } catch {
            await client.shutdown()
            fail((error as? SwctrError) ?? SwctrError(.failure, "push \(ref.name): \(error)"))
        }
        print(quiet ? digest : "\(ref.tag ?? "latest"): digest: \(digest)")
    }
}
