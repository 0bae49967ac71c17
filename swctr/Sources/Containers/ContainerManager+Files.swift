import CArchive
import Database
import Glibc
import HostOS
import Images

/// One line of `diff`: A (added), C (changed) or D (deleted), and the path inside the container.
public struct FileChange: Sendable, Equatable {
    public var kind: Character
    public var path: String
}

/// `cp`, `diff` and `export`: the container's files, read and written through its overlay (the
/// host's view of it, mounted for the duration when the container is not running), with every
/// path resolved inside the rootfs.
extension ContainerManager {
    /// Runs `body` with the container's root filesystem mounted (and its path).
    func withRootfs<T>(_ row: ContainerRow, _ body: (String) throws(SwctrError) -> T) throws(SwctrError) -> T {
        try locked(row.id) { () throws(SwctrError) -> T in
            let dir = directory(row.id)
            let mountedHere = !Snapshot.isMounted(dir + "/rootfs")
            if mountedHere { try Snapshot.mount(dir, layers: try imageRecord(of: row).layerIDs, store: store) }
            defer { if mountedHere { Snapshot.unmount(dir) } }
            return try body(dir + "/rootfs")
        }
    }

    /// `cp CONTAINER:SRC DEST` (DEST "-": a tar on `streamFD`); returns the bytes archived.
    @discardableResult
    public func copyOut(_ ref: String, path: String, to destination: String, streamFD: Int32 = 1,
                        followLink: Bool = false, keepOwners: Bool = false) throws(SwctrError) -> Int64 {
        let row = try find(ref)
        return try withRootfs(row) { (rootfs) throws(SwctrError) -> Int64 in
            try Self.transfer(from: rootfs, path, shownAs: "\(ref):\(path)", to: destination == "-" ? nil : "/", Self.absolute(destination),
                              streamFD: streamFD, followLink: followLink,
                              owner: keepOwners ? nil : (getuid(), getgid()), scratch: store.temporary("cp"))
        }
    }

    /// `cp SRC CONTAINER:DEST` (SRC "-": a tar read from `streamFD`, unpacked into DEST, which
    /// must be a directory). Files belong to the container's root unless `keepOwners` (-a).
    @discardableResult
    public func copyIn(_ ref: String, from source: String, path: String, streamFD: Int32 = 0,
                       followLink: Bool = false, keepOwners: Bool = false) throws(SwctrError) -> Int64 {
        let row = try find(ref)
        return try withRootfs(row) { (rootfs) throws(SwctrError) -> Int64 in
            let owner: (uid_t, gid_t)? = keepOwners ? nil : (0, 0)
            if source == "-" { return try Self.extractStream(streamFD, into: rootfs, path, shownAs: "\(ref):\(path)", owner: owner) }
            return try Self.transfer(from: "/", Self.absolute(source), shownAs: source, to: rootfs, path, streamFD: -1, followLink: followLink,
                                     owner: owner, scratch: store.temporary("cp"))
        }
    }

    /// `export`: the container's whole filesystem as a tar on `fd`.
    public func export(_ ref: String, to fd: Int32) throws(SwctrError) {
        let row = try find(ref)
        try withRootfs(row) { (rootfs) throws(SwctrError) in
            let root = try Self.openRoot(rootfs)
            defer { close(root) }
            let a = try Self.tarWriter(fd: fd, path: nil)
            defer { archive_write_free(a) }
            try TreeArchive.add("/", in: root, as: "", to: a)
            guard archive_write_close(a) == ARCHIVE_OK else { throw SwctrError(.failure, "export: \(LayerUnpacker.message(a))") }
        }
    }

    /// `diff`: what the container changed, from its upper directory against its image's layers.
    public func diff(_ ref: String) throws(SwctrError) -> [FileChange] {
        let row = try find(ref)
        let lower = try imageRecord(of: row).layerIDs.reversed().map { store.layerPath($0) }
        var out: [FileChange] = []
        func inLower(_ rel: String) -> Bool {
            for layer in lower {
                var st = stat()
                guard lstat(layer + rel, &st) == 0 else { continue }
                return !((st.st_mode & S_IFMT) == S_IFCHR && st.st_rdev == 0)
            }
            return false
        }
        func walk(_ upper: String, _ rel: String, underOpaque: Bool) {
            for name in FileIO.listDirectory(upper + rel).sorted() {
                let p = rel + "/" + name
                var st = stat()
                guard lstat(upper + p, &st) == 0 else { continue }
                let type = st.st_mode & S_IFMT
                if type == S_IFCHR && st.st_rdev == 0 {
                    out.append(FileChange(kind: "D", path: p))
                    continue
                }
                let existed = !underOpaque && inLower(p)
                out.append(FileChange(kind: existed ? "C" : "A", path: p))
                if type == S_IFDIR { walk(upper, p, underOpaque: underOpaque || !existed || Self.isOpaque(upper + p)) }
            }
        }
        walk(directory(row.id) + "/upper", "", underOpaque: false)
        return out
    }

    /// A host path relative to the working directory, made absolute (host paths are resolved from "/").
    static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") || path == "-" { return path }
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buf, buf.count) != nil else { return path }
        let cwd = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return (cwd == "/" ? "" : cwd) + "/" + path
    }

    static func isOpaque(_ path: String) -> Bool {
        var v: UInt8 = 0
        return getxattr(path, "trusted.overlay.opaque", &v, 1) == 1 && v == UInt8(ascii: "y")
    }

    // MARK: - the copy itself

    static func openRoot(_ path: String) throws(SwctrError) -> Int32 {
        let fd = open(path, RootedPath.O_PATH | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw SwctrError(.failure, "open \(path): \(String(cString: strerror(errno)))") }
        return fd
    }

    static func tarWriter(fd: Int32, path: String?) throws(SwctrError) -> OpaquePointer {
        guard let a = archive_write_new() else { throw SwctrError(.failure, "libarchive: out of memory") }
        archive_write_set_format_pax_restricted(a)
        let rc = path.map { archive_write_open_filename(a, $0) } ?? archive_write_open_fd(a, fd)
        guard rc == ARCHIVE_OK else {
            let message = LayerUnpacker.message(a)
            archive_write_free(a)
            throw SwctrError(.failure, "\(path ?? "archive"): \(message)")
        }
        return a
    }

    /// What is at `path` inside `root` (following symlinks inside it), and whether its parent is a directory.
    static func probe(_ path: String, in root: Int32) -> (CopyPlan.Destination, Bool) {
        var kind = CopyPlan.Destination.missing
        let fd = RootedPath.open(path, at: root, flags: RootedPath.O_PATH)
        if fd >= 0 {
            var st = stat()
            if fstat(fd, &st) == 0 { kind = (st.st_mode & S_IFMT) == S_IFDIR ? .directory : .file }
            close(fd)
        }
        let parent = RootedPath.open(CopyPlan.parent(path), at: root, flags: RootedPath.O_PATH | O_DIRECTORY)
        if parent >= 0 { close(parent) }
        return (kind, parent >= 0)
    }

    /// The source's own path after following symlinks at its end (cp -L), inside the root.
    static func followed(_ path: String, in root: Int32) -> String {
        var current = path
        for _ in 0..<40 {
            guard let (parent, base) = try? TreeArchive.openParent(current, in: root, create: false) else { return current }
            defer { close(parent) }
            guard let link = TreeArchive.readLink(parent, base), !link.isEmpty else { return current }
            current = link.hasPrefix("/") ? link : CopyPlan.parent(current) + "/" + link
        }
        return current
    }

    /// Archives `source` (inside `sourceRoot`) and unpacks it at `destination` (inside
    /// `destinationRoot`) by Docker's rules; with no destination root, the tar goes to `streamFD`.
    static func transfer(from sourceRoot: String, _ source: String, shownAs: String, to destinationRoot: String?,
                         _ destination: String, streamFD: Int32, followLink: Bool, owner: (uid_t, gid_t)?,
                         scratch: String) throws(SwctrError) -> Int64 {
        let from = try openRoot(sourceRoot)
        defer { close(from) }
        let sourcePath = followLink ? followed(source, in: from) : source
        let (kind, _) = probe(sourcePath, in: from)
        var st = stat()
        let (sp, sb) = try { () throws(SwctrError) in
            do { return try TreeArchive.openParent(sourcePath, in: from, create: false) } catch {
                throw SwctrError(.notFound, "Could not find the file \(shownAs): no such file or directory")
            }
        }()
        let exists = fstatat(sp, sb, &st, AT_SYMLINK_NOFOLLOW) == 0
        close(sp)
        guard exists else { throw SwctrError(.notFound, "Could not find the file \(shownAs): no such file or directory") }
        let sourceIsDirectory = (st.st_mode & S_IFMT) == S_IFDIR || (followLink && kind == .directory)
        guard let destinationRoot else {
            let contentsOnly = sourceIsDirectory && (source.hasSuffix("/.") || source == ".")
            let a = try tarWriter(fd: streamFD, path: nil)
            defer { archive_write_free(a) }
            try TreeArchive.add(sourcePath, in: from, as: contentsOnly ? "" : CopyPlan.lastComponent(source), to: a)
            guard archive_write_close(a) == ARCHIVE_OK else { throw SwctrError(.failure, "cp: \(LayerUnpacker.message(a))") }
            return 0
        }
        let to = try openRoot(destinationRoot)
        defer { close(to) }
        let (existing, parentExists) = probe(destination, in: to)
        let plan = try CopyPlan.resolve(source: source, sourceIsDirectory: sourceIsDirectory, destination: destination,
                                        existing: existing, parentExists: parentExists)
        let tar = scratch + ".tar"
        defer { unlink(tar) }
        do {
            let a = try tarWriter(fd: -1, path: tar)
            defer { archive_write_free(a) }
            try TreeArchive.add(sourcePath, in: from, as: plan.name, to: a)
            guard archive_write_close(a) == ARCHIVE_OK else { throw SwctrError(.failure, "cp: \(LayerUnpacker.message(a))") }
        }
        let fd = open(tar, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SwctrError(.failure, "open \(tar): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var size = stat()
        fstat(fd, &size)
        try extract(fd, into: to, plan.directory, owner: owner)
        return Int64(size.st_size)
    }

    /// `cp - CONTAINER:DIR`: a tar read from `fd`, unpacked into an existing directory.
    static func extractStream(_ fd: Int32, into rootfs: String, _ directory: String, shownAs: String,
                              owner: (uid_t, gid_t)?) throws(SwctrError) -> Int64 {
        let root = try openRoot(rootfs)
        defer { close(root) }
        guard probe(directory, in: root).0 == .directory else {
            throw SwctrError(.invalidArgument, "destination \(shownAs) must be a directory")
        }
        try extract(fd, into: root, directory, owner: owner)
        return 0
    }

    static func extract(_ fd: Int32, into root: Int32, _ directory: String, owner: (uid_t, gid_t)?) throws(SwctrError) {
        guard let r = archive_read_new() else { throw SwctrError(.failure, "libarchive: out of memory") }
        defer { archive_read_free(r) }
        archive_read_support_filter_all(r)
        archive_read_support_format_tar(r)
        guard archive_read_open_fd(r, fd, 1 << 16) == ARCHIVE_OK else {
            throw SwctrError(.invalidArgument, "not a tar archive: \(LayerUnpacker.message(r))")
        }
        try TreeArchive.extract(r, in: root, into: directory, owner: owner)
    }
}
