import CArchive
import Database
import FoundationEssentials
import Glibc
import HostOS
import Registry

/// `save` and `load`: one tar that is both an OCI image layout (index.json, oci-layout,
/// blobs/sha256/...) and a docker-archive (manifest.json naming the same blobs), so `docker load`,
/// `podman load` and `skopeo` read what swctr writes; `load` reads either kind.
public enum ImageArchive {
    /// Writes `records` as one tar (`path`), or with `directory` as an OCI image layout directory
    /// (the caller sees that it does not exist yet or is empty).
    public static func save(_ records: [ImageRecord], store: ImageStore, to path: String, directory: Bool = false) throws {
        var w: OpaquePointer?
        if directory {
            try FileIO.mkdirAll(path + "/blobs/sha256")
        } else {
            guard let a = archive_write_new() else { throw StoreError("libarchive: out of memory") }
            w = a
            archive_write_set_format_pax_restricted(a)
            guard archive_write_open_filename(a, path) == ARCHIVE_OK else { throw StoreError("\(path): \(LayerUnpacker.message(a))") }
        }
        defer { if let w { archive_write_free(w) } }
        struct IndexEntry: Encodable { var mediaType: String; var digest: String; var size: Int; var annotations: [String: String] }
        struct IndexFile: Encodable { var schemaVersion = 2; var manifests: [IndexEntry] }
        struct DockerEntry: Encodable { var Config: String; var RepoTags: [String]; var Layers: [String] }
        var indexEntries: [IndexEntry] = []
        var dockerEntries: [DockerEntry] = []
        var written = Set<String>()
        func add(_ name: String, _ bytes: [UInt8]) throws {
            guard written.insert(name).inserted else { return }
            guard let w else {
                try FileIO.writeFile(bytes, to: "\(path)/\(name)", sync: true)
                return
            }
            let e = archive_entry_new()
            defer { archive_entry_free(e) }
            archive_entry_set_pathname(e, name)
            archive_entry_set_size(e, la_int64_t(bytes.count))
            archive_entry_set_filetype(e, UInt32(Glibc.S_IFREG))
            archive_entry_set_perm(e, 0o644)
            guard archive_write_header(w, e) == ARCHIVE_OK,
                  bytes.withUnsafeBytes({ archive_write_data(w, $0.baseAddress, $0.count) }) == bytes.count else {
                throw StoreError("\(path): \(LayerUnpacker.message(w))")
            }
        }
        for r in records {
            let manifestBytes = try FileIO.read(store.blobPath(r.digest))
            let manifest = try JSONDecoder().decode(Manifest.self, from: Data(manifestBytes))
            for d in [manifest.config] + manifest.layers {
                try add("blobs/sha256/\(Digest.hex(d.digest))", try FileIO.read(store.blobPath(d.digest)))
            }
            try add("blobs/sha256/\(Digest.hex(r.digest))", manifestBytes)
            let tag = r.name.split(separator: "/").last.map(String.init) ?? r.name
            indexEntries.append(IndexEntry(mediaType: manifest.mediaType ?? MediaType.ociManifest, digest: r.digest,
                                           size: manifestBytes.count,
                                           annotations: ["io.containerd.image.name": r.name,
                                                         "org.opencontainers.image.ref.name": String(tag.split(separator: ":").last ?? "latest")]))
            dockerEntries.append(DockerEntry(Config: "blobs/sha256/\(Digest.hex(manifest.config.digest))", RepoTags: [r.name],
                                             Layers: manifest.layers.map { "blobs/sha256/\(Digest.hex($0.digest))" }))
        }
        try add("oci-layout", Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8))
        try add("index.json", Array(try JSONEncoder().encode(IndexFile(manifests: indexEntries))))
        guard let w else { return }
        // The tar is a docker-archive too: its manifest.json names the same blobs.
        try add("manifest.json", Array(try JSONEncoder().encode(dockerEntries)))
        guard archive_write_close(w) == ARCHIVE_OK else { throw StoreError("\(path): \(LayerUnpacker.message(w))") }
    }

    /// Imports every image of an OCI layout (a directory or its tarball) or a docker-archive
    /// tarball; returns their names.
    public static func load(_ path: String, store: ImageStore, platform: Platform = .host) throws -> [String] {
        var st = stat()
        guard stat(path, &st) == 0 else { throw StoreError("\(path): \(String(cString: strerror(errno)))") }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            guard access(path + "/index.json", F_OK) == 0 else { throw StoreError("\(path): not an OCI image layout (no index.json)") }
            return try loadOCI(path, store: store, platform: platform)
        }
        let dir = store.temporary("load")
        try FileIO.mkdirAll(dir)
        defer { FileIO.removeTree(dir) }
        try extract(path, into: dir)
        if access(dir + "/index.json", F_OK) == 0 { return try loadOCI(dir, store: store, platform: platform) }
        if access(dir + "/manifest.json", F_OK) == 0 { return try loadDocker(dir, store: store) }
        throw StoreError("\(path): neither an OCI layout (index.json) nor a docker-archive (manifest.json)")
    }

    static func loadOCI(_ dir: String, store: ImageStore, platform: Platform) throws -> [String] {
        struct Entry: Decodable { var mediaType: String?; var digest: String; var annotations: [String: String]? }
        struct Layout: Decodable { var manifests: [Entry] }
        let index = try JSONDecoder().decode(Layout.self, from: Data(FileIO.read(dir + "/index.json")))
        var names: [String] = []
        for (i, d) in index.manifests.enumerated() {
            let ann = d.annotations ?? [:]
            guard let name = ann["io.containerd.image.name"] ?? ann["org.opencontainers.image.ref.name"].map({ "localhost/loaded:\($0)" }) else {
                throw StoreError("index.json: manifests[\(i)] has no image name annotation")
            }
            var manifestDigest = d.digest
            if d.mediaType == MediaType.ociIndex || d.mediaType == MediaType.dockerList {
                // A multi-platform image: the store keeps the one manifest for this platform, as a pull does.
                let nested = try JSONDecoder().decode(Index.self, from: Data(blob(dir, d.digest)))
                guard let match = nested.select(platform) else {
                    throw StoreError("\(name): no image for platform \(platform) (the index has \(nested.platforms))")
                }
                manifestDigest = match.digest
            }
            let manifestBytes = try blob(dir, manifestDigest)
            let manifest = try JSONDecoder().decode(Manifest.self, from: Data(manifestBytes))
            names.append(try importImage(name: name, manifestBytes: manifestBytes, manifest: manifest, store: store) { try blob(dir, $0) })
        }
        return names
    }

    static func loadDocker(_ dir: String, store: ImageStore) throws -> [String] {
        struct Entry: Decodable { var Config: String; var RepoTags: [String]?; var Layers: [String] }
        let entries = try JSONDecoder().decode([Entry].self, from: Data(FileIO.read(dir + "/manifest.json")))
        var names: [String] = []
        for e in entries {
            let config = try FileIO.read(try safe(dir, e.Config))
            // docker-archive layers are named by path; the manifest we keep names them by digest.
            var layers: [Descriptor] = []
            var byDigest: [String: String] = [:]
            for l in e.Layers {
                let p = try safe(dir, l)
                let bytes = try FileIO.read(p)
                let d = Digest.of(bytes)
                byDigest[d] = p
                layers.append(Descriptor(mediaType: "application/vnd.oci.image.layer.v1.tar", digest: d, size: Int64(bytes.count)))
            }
            let configDigest = Digest.of(config)
            byDigest[configDigest] = try safe(dir, e.Config)
            let manifest = Manifest(schemaVersion: 2, mediaType: MediaType.ociManifest,
                                    config: Descriptor(mediaType: "application/vnd.oci.image.config.v1+json", digest: configDigest, size: Int64(config.count)),
                                    layers: layers)
            let manifestBytes = Array(try JSONEncoder().encode(manifest))
            for tag in e.RepoTags ?? ["localhost/loaded:latest"] {
                var name = tag
                if let ref = try? ImageReference(parsing: tag) { name = ref.tag.map { "\(ref.name):\($0)" } ?? ref.name }
                names.append(try importImage(name: name, manifestBytes: manifestBytes, manifest: manifest, store: store) { d in
                    guard let p = byDigest[d] else { throw StoreError("docker-archive: no file for \(d)") }
                    return try FileIO.read(p)
                })
            }
        }
        return names
    }

    static func importImage(name: String, manifestBytes: [UInt8], manifest: Manifest, store: ImageStore,
                            blob: (String) throws -> [UInt8]) throws -> String {
        let configBytes = try blob(manifest.config.digest)
        let config = try JSONDecoder().decode(ImageConfig.self, from: Data(configBytes))
        guard config.rootfs.diff_ids.count == manifest.layers.count else { throw StoreError("\(name): config and manifest disagree on layers") }
        for (layer, diffID) in zip(manifest.layers, config.rootfs.diff_ids) where !store.hasLayer(diffID) {
            try store.writeBlob(try blob(layer.digest), digest: layer.digest)
            try store.unpackLayer(blob: layer.digest, diffID: diffID)
        }
        try store.writeBlob(configBytes, digest: manifest.config.digest)
        let manifestDigest = Digest.of(manifestBytes)
        try store.writeBlob(manifestBytes, digest: manifestDigest)
        try store.save(ImageRecord(name: name, digest: manifestDigest, config: String(decoding: configBytes, as: UTF8.self),
                                   layers: String(decoding: try JSONEncoder().encode(config.rootfs.diff_ids), as: UTF8.self),
                                   size: manifest.layers.reduce(0) { $0 + $1.size }, created: Date().timeIntervalSince1970))
        return name
    }

    /// A blob of the layout, verified against its digest.
    static func blob(_ dir: String, _ digest: String) throws -> [UInt8] {
        guard Digest.isValid(digest) else { throw StoreError("invalid digest \(digest)") }
        let bytes = try FileIO.read("\(dir)/blobs/sha256/\(Digest.hex(digest))")
        guard Digest.of(bytes) == digest else { throw StoreError("blob \(digest): digest mismatch") }
        return bytes
    }

    /// A path named inside the archive, refused if it leaves the extraction directory.
    static func safe(_ dir: String, _ rel: String) throws -> String {
        guard !rel.hasPrefix("/"), !rel.split(separator: "/").contains("..") else { throw StoreError("archive path \"\(rel)\" leaves the archive") }
        return "\(dir)/\(rel)"
    }

    /// Extracts with relative names from inside `dir` (libarchive's secure flags refuse absolute
    /// names, `..` and symlink traversal).
    static func extract(_ path: String, into dir: String) throws {
        guard let r = archive_read_new(), let w = archive_write_disk_new() else { throw StoreError("libarchive: out of memory") }
        defer { archive_read_free(r); archive_write_free(w) }
        archive_read_support_filter_all(r)
        archive_read_support_format_tar(r)
        archive_write_disk_set_options(w, ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS)
        guard archive_read_open_filename(r, path, 1 << 16) == ARCHIVE_OK else { throw StoreError("\(path): \(LayerUnpacker.message(r))") }
        let saved = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard chdir(dir) == 0 else { throw StoreError("chdir \(dir): \(String(cString: strerror(errno)))") }
        defer { if saved >= 0 { fchdir(saved); close(saved) } }
        var entry: OpaquePointer?
        while true {
            let rc = archive_read_next_header(r, &entry)
            if rc == ARCHIVE_EOF { break }
            guard rc == ARCHIVE_OK, let entry else { throw StoreError("\(path): \(LayerUnpacker.message(r))") }
            guard archive_write_header(w, entry) == ARCHIVE_OK else { throw StoreError("\(path): \(LayerUnpacker.message(w))") }
            if let failure = LayerUnpacker.copyData(r, w) { throw StoreError("\(path): \(failure)") }
            archive_write_finish_entry(w)
        }
    }
}
