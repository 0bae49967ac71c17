import Database
import Glibc
import HostOS

/// Copies a file or a directory tree from one root to another (a build context or a stage's
/// rootfs into a step's rootfs), as COPY does: every path on both sides goes through directory
/// fds with O_NOFOLLOW (the destination's parents resolved inside its root), so a symlink on
/// either side is copied as a symlink and never written through. Modes, times and hard links
/// within the copy are kept; owners are kept or replaced by one uid:gid.
public enum TreeCopy {
    public struct Options: Sendable {
        /// Every file's owner (nil: the source's).
        public var owner: (uid: uid_t, gid: gid_t)?
        /// Every file's and directory's permission bits (`--chmod`; nil: the source's).
        public var mode: mode_t?
        /// Source paths (relative to `excludeBase`, "/"-separated) that are left out.
        public var exclude: (@Sendable (String) -> Bool)?

        public init(owner: (uid: uid_t, gid: gid_t)? = nil, mode: mode_t? = nil, exclude: (@Sendable (String) -> Bool)? = nil) {
            self.owner = owner
            self.mode = mode
            self.exclude = exclude
        }
    }

    /// The entry `base` of the directory `parent` becomes `destination` (inside `root`); a
    /// directory's entries go into `destination`, which is made when missing. `relative` is the
    /// entry's path for `exclude`.
    public static func copy(_ parent: Int32, _ base: String, relative: String, to destination: String, in root: Int32,
                            options: Options) throws(SwctrError) {
        var c = Copier(options: options, root: root, links: [:])
        let (destParent, destBase) = try TreeArchive.openParent(destination, in: root, create: true)
        defer { close(destParent) }
        try c.copy(parent, base, relative: relative, to: destParent, destBase, shown: destination, top: true)
    }

    /// A file with `bytes` as its content at `destination` (COPY's heredocs, ADD's downloads).
    public static func write(_ bytes: [UInt8], to destination: String, in root: Int32, mode: mode_t,
                             owner: (uid: uid_t, gid: gid_t), mtime: timespec? = nil) throws(SwctrError) {
        let (parent, base) = try TreeArchive.openParent(destination, in: root, create: true)
        defer { close(parent) }
        try TreeArchive.removeEntry(parent, base, shown: destination)
        let fd = openat(parent, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw TreeArchive.sys("create \(destination)") }
        defer { close(fd) }
        do { try FileIO.writeAll(fd, bytes, what: destination) } catch { throw SwctrError(.failure, error.message) }
        guard fchown(fd, owner.uid, owner.gid) == 0, fchmod(fd, mode) == 0 else { throw TreeArchive.sys("set owner and mode of \(destination)") }
        if let mtime {
            var times = [mtime, mtime]
            futimens(fd, &times)
        }
    }

    /// Makes the directory `path` and its missing parents inside `root` (WORKDIR, a copy's
    /// destination); those made get `owner`.
    public static func makeDirectories(_ path: String, in root: Int32, owner: (uid: uid_t, gid: gid_t) = (0, 0)) throws(SwctrError) {
        var walked = ""
        for part in path.split(separator: "/") {
            walked += "/" + part
            let fd = RootedPath.open(walked, at: root, flags: RootedPath.O_PATH | O_DIRECTORY)
            if fd >= 0 { close(fd); continue }
            guard errno == ENOENT else { throw TreeArchive.sys("open \(walked)") }
            let (parent, base) = try TreeArchive.openParent(walked, in: root, create: true)
            defer { close(parent) }
            guard mkdirat(parent, base, 0o755) == 0 || errno == EEXIST else { throw TreeArchive.sys("mkdir \(walked)") }
            _ = fchownat(parent, base, owner.uid, owner.gid, AT_SYMLINK_NOFOLLOW)
        }
    }
}

private struct Copier {
    let options: TreeCopy.Options
    let root: Int32
    /// Source inodes already copied (device and inode) → their copy's path in `root`, for hard links.
    var links: [UInt64: String]

    mutating func copy(_ parent: Int32, _ base: String, relative: String, to destParent: Int32, _ destBase: String,
                       shown: String, top: Bool = false) throws(SwctrError) {
        var st = stat()
        guard fstatat(parent, base, &st, AT_SYMLINK_NOFOLLOW) == 0 else { throw TreeArchive.sys("stat \(relative)") }
        let type = st.st_mode & S_IFMT
        let uid = options.owner?.uid ?? st.st_uid
        let gid = options.owner?.gid ?? st.st_gid
        let perm = options.mode ?? (st.st_mode & 0o7777)
        var times = [st.st_atim, st.st_mtim]
        if type == S_IFDIR {
            let src = openat(parent, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard src >= 0 else { throw TreeArchive.sys("open \(relative)") }
            defer { close(src) }
            var existing = stat()
            let exists = fstatat(destParent, destBase, &existing, AT_SYMLINK_NOFOLLOW) == 0
            if exists && (existing.st_mode & S_IFMT) != S_IFDIR { try TreeArchive.removeEntry(destParent, destBase, shown: shown) }
            let made = !(exists && (existing.st_mode & S_IFMT) == S_IFDIR)
            if made { guard mkdirat(destParent, destBase, 0o700) == 0 else { throw TreeArchive.sys("mkdir \(shown)") } }
            let dst = openat(destParent, destBase, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard dst >= 0 else { throw TreeArchive.sys("open \(shown)") }
            defer { close(dst) }
            for child in TreeArchive.directoryEntries(src).sorted() {
                let rel = relative.isEmpty ? child : relative + "/" + child
                if let exclude = options.exclude, exclude(rel) { continue }
                try copy(src, child, relative: rel, to: dst, child, shown: shown + "/" + child)
            }
            // A directory that was there keeps its own metadata; one made here takes the source's,
            // except the destination itself, which is made as `mkdir -p` makes it (0755, owned by
            // root or the given owner), as BuildKit and buildah make it.
            if made && top {
                guard fchown(dst, options.owner?.uid ?? 0, options.owner?.gid ?? 0) == 0, fchmod(dst, 0o755) == 0 else {
                    throw TreeArchive.sys("set owner and mode of \(shown)")
                }
            } else if made {
                guard fchown(dst, uid, gid) == 0, fchmod(dst, perm) == 0 else { throw TreeArchive.sys("set owner and mode of \(shown)") }
                futimens(dst, &times)
            }
            return
        }
        try TreeArchive.removeEntry(destParent, destBase, shown: shown)
        switch type {
        case S_IFREG:
            let key = UInt64(st.st_dev) << 40 ^ UInt64(st.st_ino)
            if st.st_nlink > 1, let first = links[key], let (p, b) = try? TreeArchive.openParent(first, in: root, create: false) {
                defer { close(p) }
                if linkat(p, b, destParent, destBase, 0) == 0 { return }
            }
            let src = openat(parent, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
            guard src >= 0 else { throw TreeArchive.sys("open \(relative)") }
            defer { close(src) }
            let dst = openat(destParent, destBase, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            guard dst >= 0 else { throw TreeArchive.sys("create \(shown)") }
            defer { close(dst) }
            try Self.copyData(src, dst, size: Int64(st.st_size), shown: shown)
            // chown before chmod: changing the owner clears set-id bits.
            guard fchown(dst, uid, gid) == 0, fchmod(dst, perm) == 0 else { throw TreeArchive.sys("set owner and mode of \(shown)") }
            futimens(dst, &times)
            if st.st_nlink > 1 { links[key] = shown }
        case S_IFLNK:
            guard let target = TreeArchive.readLink(parent, base) else { throw TreeArchive.sys("readlink \(relative)") }
            guard symlinkat(target, destParent, destBase) == 0 else { throw TreeArchive.sys("symlink \(shown)") }
            guard fchownat(destParent, destBase, uid, gid, AT_SYMLINK_NOFOLLOW) == 0 else { throw TreeArchive.sys("chown \(shown)") }
            utimensat(destParent, destBase, &times, AT_SYMLINK_NOFOLLOW)
        case S_IFCHR, S_IFBLK, S_IFIFO:
            guard mknodat(destParent, destBase, type | perm, st.st_rdev) == 0 else { throw TreeArchive.sys("mknod \(shown)") }
            guard fchownat(destParent, destBase, uid, gid, AT_SYMLINK_NOFOLLOW) == 0 else { throw TreeArchive.sys("chown \(shown)") }
        default:
            break  // sockets are not copied
        }
    }

    static func copyData(_ src: Int32, _ dst: Int32, size: Int64, shown: String) throws(SwctrError) {
        var buf = [UInt8](repeating: 0, count: Int(min(max(size, 4096), 1 << 20)))
        while true {
            let n = buf.withUnsafeMutableBytes { read(src, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw TreeArchive.sys("read for \(shown)") }
            if n == 0 { break }
            do { try FileIO.writeAll(dst, buf[0..<n], what: shown) } catch { throw SwctrError(.failure, error.message) }
        }
    }
}
