import ArgumentParser
import FoundationEssentials
import Glibc
import HostOS
import Database
import Images
import OCI
import Registry

// swctr: images and containers above swrunc, daemonless. Pulls talk to registries over HTTP(S)
// (AsyncHTTPClient); the store is content-addressed with SQLite records (GRDB); containers are
// overlay mounts of the image's layers run by swrunc through its CLI.

struct Login: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check credentials against a registry and save them.")
    @OptionGroup var global: Global
    @Option(name: [.customShort("u"), .customLong("username")]) var username: String
    @Option(name: [.customShort("p"), .customLong("password")]) var password: String
    @Option(name: .customLong("tls-verify"), help: "false: skip TLS verification and allow plain HTTP.") var tlsVerify: Bool?
    @Argument var registry: String

    func run() async throws {
        let creds = Credentials(username: username, password: password)
        let ref: ImageReference
        let insecure: Bool
        do {
            ref = try ImageReference(parsing: "\(registry)/swctr-login-check")
            insecure = try global.insecure(ref.registry, tlsVerify: tlsVerify)
        } catch { fail("\(error)") }
        let client = RegistryClient(insecure: insecure, credentials: creds)
        do {
            try await client.checkLogin(ref)
            await client.shutdown()
            try global.authFile.store(creds, for: ref.registry)
        } catch {
            await client.shutdown()
            fail("\(error)")
        }
        print("Login Succeeded!")
    }
}

struct Logout: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Forget a registry's saved credentials.")
    @OptionGroup var global: Global
    @Argument var registry: String

    func run() async throws {
        do { try global.authFile.store(nil, for: registry) } catch { fail("\(error)") }
        print("Removed login credentials for \(registry)")
    }
}

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

struct Images: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List images.")
    @OptionGroup var global: Global
    @Flag(name: .short, help: "Only image IDs.") var quiet = false
    @Flag(help: "Show digests.") var digests = false
    @Option(help: "table (default) or json.") var format: String = "table"

    func run() async throws {
        let records: [ImageRecord]
        do { records = try ImageStore(root: global.root).images() } catch { fail("\(error)") }
        func id(_ r: ImageRecord) -> String {
            // Docker's image ID: the config's digest.
            String(Digest.hex(r.id).prefix(12))
        }
        if quiet {
            for r in records { print(id(r)) }
            return
        }
        if format == "json" {
            struct Row: Encodable { var Repository, Tag, Id, Digest: String; var Size: Int64 }
            let rows = records.map { r -> Row in
                let (repo, tag) = split(r.name)
                return Row(Repository: repo, Tag: tag, Id: id(r), Digest: r.digest, Size: r.size)
            }
            print(String(decoding: try JSONEncoder().encode(rows), as: UTF8.self))
            return
        }
        guard format == "table" else { fail("--format: want table or json, got \(format)") }
        var lines = [["REPOSITORY", "TAG"] + (digests ? ["DIGEST"] : []) + ["IMAGE ID", "SIZE"]]
        for r in records {
            let (repo, tag) = split(r.name)
            lines.append([repo, tag] + (digests ? [r.digest] : []) + [id(r), human(r.size)])
        }
        let widths = (0..<lines[0].count).map { c in lines.map { $0[c].count }.max() ?? 0 }
        for l in lines {
            print(l.enumerated().map { i, s in i == l.count - 1 ? s : s + String(repeating: " ", count: widths[i] - s.count + 3) }.joined())
        }
    }

    func split(_ name: String) -> (String, String) {
        if let at = name.firstIndex(of: "@") { return (String(name[..<at]), "<none>") }
        guard let colon = name.lastIndex(of: ":"), !name[colon...].contains("/") else { return (name, "<none>") }
        return (String(name[..<colon]), String(name[name.index(after: colon)...]))
    }

    func human(_ n: Int64) -> String {
        let d = Double(n)
        if d >= 1e9 { return "\((d / 1e9 * 10).rounded() / 10)GB" }
        if d >= 1e6 { return "\((d / 1e6 * 10).rounded() / 10)MB" }
        return "\((d / 1e3 * 10).rounded() / 10)kB"
    }
}
