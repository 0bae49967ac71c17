import FoundationEssentials
import GRDB
import Database
import Glibc
import HostOS
import Registry

/// The store's errors carry swctr's codes (Database.SwctrError).
public typealias StoreError = SwctrError

extension ImageRecord {
    public var imageConfig: ImageConfig? { try? JSONDecoder().decode(ImageConfig.self, from: Data(config.utf8)) }
    /// Docker's image ID: the digest of the config (`sha256:…`).
    public var id: String { Digest.of(Array(config.utf8)) }
}

/// The content store under `--root` (default /var/lib/swctr):
/// `blobs/sha256/<hex>` content-addressed blobs, committed only after their digest verifies;
/// `layers/<diffID hex>/` each layer unpacked once and shared by every image that has it;
/// `containers/<id>/` upper, work and rootfs of running containers; `swctr.db` (SQLite via GRDB)
/// the image records. Partial downloads and unpacks live in `tmp/` and are removed on failure
/// (and swept at open).
public final class ImageStore: Sendable {
    public let root: String
    /// Opened by an unprivileged user (or by root of its rootless namespace): layers are
    /// unpacked in rootless form (see LayerUnpacker) and mounted with `userxattr`.
    public let rootless: Bool
    /// Unpacked layers keep their files' owners: as root, or as root of a rootless user's
    /// namespace with a subordinate id range (without one every file is the user's).
    public let keepsOwners: Bool
    /// The records (images here, containers in the Containers library), shared.
    public let database: StoreDatabase
    var db: DatabaseQueue { database.queue }
    /// `<root>/lock`: every process with the store open holds it shared; removing content that no
    /// record names (rmi's collection, the sweep of tmp/) takes it exclusive, so it never deletes
    /// what a concurrent pull or load has written but not recorded yet.
    let lockFD: Int32

    public init(root: String) throws {
        self.root = root
        let map = UserNamespace.uidMap()
        rootless = geteuid() != 0 || UserNamespace.isNested(map)
        // Root of a namespace that maps more than its own id can give files to the others.
        keepsOwners = geteuid() == 0 && (!UserNamespace.isNested(map) || (map ?? []).reduce(UInt64(0)) { $0 + UInt64($1.count) } > 1)
        for d in ["", "/blobs/sha256", "/layers", "/containers", "/tmp"] {
            try FileIO.mkdirAll(root + d)
        }
        lockFD = open(root + "/lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard lockFD >= 0 else { throw StoreError("open \(root)/lock: \(String(cString: strerror(errno)))") }
        // Leftovers of an interrupted pull are never referenced: swept when no one else has the
        // store open (anything in tmp/ may be another process's download in progress).
        if flock(lockFD, LOCK_EX | LOCK_NB) == 0 {
            // A killed build can leave its step's overlay mounted there: unmounted first, so the
            // sweep never walks into a mounted rootfs.
            Self.unmountUnder(root + "/tmp")
            for name in FileIO.listDirectory(root + "/tmp") { FileIO.removeTree(root + "/tmp/" + name) }
        }
        guard flock(lockFD, LOCK_SH) == 0 else { throw StoreError("lock \(root)/lock: \(String(cString: strerror(errno)))") }
        database = try StoreDatabase(path: root + "/swctr.db")
    }

    deinit { close(lockFD) }

    /// Lazily unmounts every mount at or below `path`, deepest first.
    public static func unmountUnder(_ path: String) {
        guard let info = try? FileIO.readString("/proc/self/mountinfo") else { return }
        let points = info.split(separator: "\n").compactMap { line -> String? in
            let f = line.split(separator: " ", maxSplits: 5)
            return f.count > 4 && (f[4] == path || f[4].hasPrefix(path + "/")) ? String(f[4]) : nil
        }
        for p in points.sorted(by: { $0.count > $1.count }) { umount2(p, Int32(MNT_DETACH)) }
    }

    /// Runs `body` with the store to itself: no pull, load or container setup is under way.
    public func exclusively<T>(_ body: () throws -> T) throws -> T {
        guard flock(lockFD, LOCK_EX) == 0 else { throw StoreError("lock \(root)/lock: \(String(cString: strerror(errno)))") }
        defer { flock(lockFD, LOCK_SH) }
        return try body()
    }

    /// Lets go of the store for the rest of a long-lived process (a running container), so that
    /// rmi answers "in use" instead of waiting for it.
    public func release() { flock(lockFD, LOCK_UN) }

    public func blobPath(_ digest: String) -> String { "\(root)/blobs/sha256/\(Digest.hex(digest))" }
    public func layerPath(_ diffID: String) -> String { "\(root)/layers/\(Digest.hex(diffID))" }
    public func hasBlob(_ digest: String) -> Bool { access(blobPath(digest), F_OK) == 0 }
    public func hasLayer(_ diffID: String) -> Bool { access(layerPath(diffID), F_OK) == 0 }

    /// A fresh path under tmp/ for a download or an unpack.
    public func temporary(_ what: String) -> String {
        "\(root)/tmp/\(what)-\(UInt64.random(in: 0...UInt64.max))"
    }

    /// Moves a verified file or directory into place (rename is atomic on one filesystem).
    public func commit(_ tmp: String, to final: String) throws {
        if rename(tmp, final) != 0 {
            let e = errno
            FileIO.removeTree(tmp)
            // Another pull committed the same content first: that copy is as good as ours.
            if e == EEXIST || e == ENOTEMPTY { return }
            throw StoreError("commit \(final): \(String(cString: strerror(e)))")
        }
    }

    public func writeBlob(_ bytes: [UInt8], digest: String) throws {
        guard !hasBlob(digest) else { return }
        guard Digest.of(bytes) == digest else { throw StoreError("blob \(digest): digest mismatch") }
        let tmp = temporary("blob")
        try FileIO.writeFile(bytes, to: tmp, sync: true)
        try commit(tmp, to: blobPath(digest))
    }

    /// Unpacks a stored layer blob; the diffID must match the image config's.
    public func unpackLayer(blob digest: String, diffID: String) throws {
        guard !hasLayer(diffID) else { return }
        let tmp = temporary("layer")
        try FileIO.mkdirAll(tmp)
        do {
            let got = try LayerUnpacker.unpack(blobPath(digest), into: tmp, rootless: rootless, keepOwners: keepsOwners)
            guard got == diffID else { throw StoreError("layer \(digest): diffID mismatch: content is \(got), config says \(diffID)") }
            try commit(tmp, to: layerPath(diffID))
        } catch {
            FileIO.removeTree(tmp)
            // No recorded image can use a blob whose layer is not unpacked, so a blob that fails
            // to unpack is dropped with it rather than left for rmi's collection to find.
            unlink(blobPath(digest))
            throw error
        }
    }

    /// Records an image under its name. An image the name is taken from stays, untagged and
    /// named by its ID, as Docker keeps it: containers made from it still need its layers.
    public func save(_ record: ImageRecord) throws {
        try db.write { db in
            if let old = try ImageRecord.fetchOne(db, key: record.name), old.id != record.id, !record.name.hasPrefix("sha256:") {
                let others = try ImageRecord.fetchAll(db).filter { $0.name != old.name && $0.id == old.id }
                if others.isEmpty {
                    var untagged = old
                    untagged.name = old.id
                    try untagged.save(db)
                }
            }
            try record.save(db)
        }
    }

    public func images() throws -> [ImageRecord] {
        try db.read { db in try ImageRecord.order(Column("name")).fetchAll(db) }
    }

    /// By full name (`reg/repo:tag`), by the name Docker would normalise it to, or by digest prefix.
    public func image(_ ref: String) throws -> ImageRecord? {
        let all = try images()
        if let exact = all.first(where: { $0.name == ref }) { return exact }
        if let parsed = try? ImageReference(parsing: ref), let hit = all.first(where: { $0.name == parsed.description }) {
            return hit
        }
        // An image ID as `images` shows it (Docker's: the config's digest), or a manifest digest.
        let hex = ref.hasPrefix("sha256:") ? String(ref.dropFirst(7)) : ref
        guard hex.count >= 12, hex.allSatisfy(\.isHexDigit) else { return nil }
        return all.first { Digest.hex($0.id).hasPrefix(hex) }
            ?? all.first { Digest.hex($0.digest).hasPrefix(hex) }
    }

    /// Removes a record, then every blob and layer no remaining image refers to.
    public func remove(_ name: String) throws {
        _ = try db.write { db in try ImageRecord.deleteOne(db, key: name) }
        try collectGarbage()
    }

    /// Removes every blob and layer that neither an image record nor a build cache record names.
    public func collectGarbage() throws {
        let records = try images()
        var blobs = Set<String>(), layers = Set<String>()
        for c in try database.buildCacheRecords() where !c.layer.isEmpty {
            guard let l = try? JSONDecoder().decode(ImageComposer.LayerDescriptor.self, from: Data(c.layer.utf8)) else { continue }
            blobs.insert(Digest.hex(l.digest))
            layers.insert(Digest.hex(l.diffID))
        }
        for r in records {
            blobs.insert(Digest.hex(r.digest))
            blobs.insert(Digest.hex(r.id))
            for l in r.layerIDs { layers.insert(Digest.hex(l)) }
            if let m = try? FileIO.read(blobPath(r.digest)), let manifest = try? JSONDecoder().decode(Manifest.self, from: Data(m)) {
                for l in manifest.layers { blobs.insert(Digest.hex(l.digest)) }
            }
        }
        for name in FileIO.listDirectory(root + "/blobs/sha256") where !blobs.contains(name) { unlink(root + "/blobs/sha256/" + name) }
        for name in FileIO.listDirectory(root + "/layers") where !layers.contains(name) { FileIO.removeTree(root + "/layers/" + name) }
    }

    /// Names of running containers' images (`containers/<id>/image`).
    public func imagesInUse() -> Set<String> {
        var out = Set<String>()
        for id in FileIO.listDirectory(root + "/containers") {
            if let b = try? FileIO.read("\(root)/containers/\(id)/image") { out.insert(String(decoding: b, as: UTF8.self)) }
        }
        return out
    }

    /// Bytes used under a directory (apparent sizes, hard links counted once).
    public static func diskUsage(_ path: String) -> Int64 {
        var seen = Set<UInt64>()
        func walk(_ p: String) -> Int64 {
            var st = stat()
            guard lstat(p, &st) == 0 else { return 0 }
            if (st.st_mode & S_IFMT) == S_IFDIR { return list(p).reduce(Int64(0)) { $0 + walk(p + "/" + $1) } }
            guard seen.insert(UInt64(st.st_ino)).inserted else { return 0 }
            return Int64(st.st_size)
        }
        return walk(path)
    }

    // MARK: - small file helpers (no Foundation FileManager: it is not in FoundationEssentials)

    public static func mkdirs(_ path: String) throws {
        var cur = path.hasPrefix("/") ? "" : "."
        for comp in path.split(separator: "/") {
            cur += "/" + comp
            if mkdir(cur, 0o755) != 0 && errno != EEXIST {
                throw StoreError("mkdir \(cur): \(String(cString: strerror(errno)))")
            }
        }
    }

    public static func list(_ dir: String) -> [String] {
        guard let d = opendir(dir) else { return [] }
        defer { closedir(d) }
        var out: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name != "." && name != ".." { out.append(name) }
        }
        return out
    }

    public static func removeTree(_ path: String) {
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            for name in list(path) { removeTree(path + "/" + name) }
            rmdir(path)
        } else {
            unlink(path)
        }
    }
}
