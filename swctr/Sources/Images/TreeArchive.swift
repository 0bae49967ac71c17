import CArchive
import Database
import Glibc
import HostOS
import JSON

/// Tar archives of a tree inside a root directory (a container's rootfs, an overlay upper
/// directory), and tar archives unpacked into one. Every path is resolved inside the root with
/// openat2(RESOLVE_IN_ROOT) and every step below it goes through directory fds with O_NOFOLLOW,
/// so neither a symlink in the tree nor a process racing the copy (a running container renaming
/// a directory into a symlink) can make the copy read or write outside the root.
public enum TreeArchive {

    /// How a tree is written.
    public struct WriteOptions: Sendable {
        /// An overlay upper directory: 0:0 character devices become OCI whiteouts (`.wh.NAME`),
        /// opaque directories get `.wh..wh..opq` (a layer, as `commit` and builds make them).
        public var overlayWhiteouts = false
        public init(overlayWhiteouts: Bool = false) { self.overlayWhiteouts = overlayWhiteouts }
    }

    /// Adds `path` (as seen inside `root`) to the archive as `name`, with everything under it
    /// when it is a directory; with an empty `name` a directory's entries go in without it (cp's
    /// `SRC/.`). A symlink is archived as a symlink, never followed.
    public static func add(_ path: String, in root: Int32, as name: String, to archive: OpaquePointer,
                           options: WriteOptions = WriteOptions()) throws(SwctrError) {
        let (parent, base) = try openParent(path, in: root, create: false)
        defer { close(parent) }
        var w = Writer(archive: archive, options: options, links: [:])
        try w.add(parent, base, as: name)
    }

    /// Unpacks every entry of `reader` under `directory` (inside `root`, which must exist).
    /// `owner` gives every file that uid and gid (cp without -a); nil keeps the archive's.
    public static func extract(_ reader: OpaquePointer, in root: Int32, into directory: String,
                               owner: (uid_t, gid_t)? = nil) throws(SwctrError) {
        var dirs: [(path: String, mode: mode_t, uid: uid_t, gid: gid_t, mtime: timespec)] = []
        var entry: OpaquePointer?
        while true {
            let rc = archive_read_next_header(reader, &entry)
            if rc == ARCHIVE_EOF { break }
            guard rc == ARCHIVE_OK || rc == ARCHIVE_WARN, let entry else { throw failure("read archive", reader) }
            let name = String(cString: archive_entry_pathname(entry))
            let components = try cleanComponents(name)
            guard !components.isEmpty else { continue }
            let target = join(directory, components)
            let (parent, base) = try openParent(target, in: root, create: true)
            defer { close(parent) }
            let type = archive_entry_filetype(entry)
            let mode = mode_t(archive_entry_perm(entry))
            let uid = owner?.0 ?? uid_t(truncatingIfNeeded: archive_entry_uid(entry))
            let gid = owner?.1 ?? gid_t(truncatingIfNeeded: archive_entry_gid(entry))
            let mtime = timespec(tv_sec: time_t(archive_entry_mtime(entry)), tv_nsec: Int(archive_entry_mtime_nsec(entry)))
            if type == S_IFDIR {
                var st = stat()
                if fstatat(parent, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && (st.st_mode & S_IFMT) != S_IFDIR {
                    try removeEntry(parent, base, shown: target)
                }
                if mkdirat(parent, base, 0o700) != 0 && errno != EEXIST { throw sys("mkdir \(target)") }
                // Modes, owners and times of directories are set last: files still go into them.
                dirs.append((target, mode, uid, gid, mtime))
                continue
            }
            try removeEntry(parent, base, shown: target)
            if let hardlink = archive_entry_hardlink(entry) {
                let linked = join(directory, try cleanComponents(String(cString: hardlink)))
                let (from, fromBase) = try openParent(linked, in: root, create: false)
                defer { close(from) }
                guard linkat(from, fromBase, parent, base, 0) == 0 else { throw sys("link \(target) to \(linked)") }
                continue
            }
            switch type {
            case S_IFREG:
                let fd = openat(parent, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
                guard fd >= 0 else { throw sys("create \(target)") }
                defer { close(fd) }
                try copyData(reader, to: fd, shown: target)
                // chown before chmod: changing the owner clears set-id bits.
                guard fchown(fd, uid, gid) == 0, fchmod(fd, mode) == 0 else { throw sys("set owner and mode of \(target)") }
                var times = [mtime, mtime]
                futimens(fd, &times)
            case S_IFLNK:
                guard let to = archive_entry_symlink(entry), symlinkat(to, parent, base) == 0 else { throw sys("symlink \(target)") }
                guard fchownat(parent, base, uid, gid, AT_SYMLINK_NOFOLLOW) == 0 else { throw sys("chown \(target)") }
                var times = [mtime, mtime]
                utimensat(parent, base, &times, AT_SYMLINK_NOFOLLOW)
            case S_IFCHR, S_IFBLK, S_IFIFO:
                guard mknodat(parent, base, type | mode, archive_entry_rdev(entry)) == 0 else { throw sys("mknod \(target)") }
                guard fchownat(parent, base, uid, gid, AT_SYMLINK_NOFOLLOW) == 0 else { throw sys("chown \(target)") }
            default:
                throw SwctrError(.invalidArgument, "archive entry \(Excerpt.of(name)): unsupported file type")
            }
        }
        // Deepest first, so a read-only parent is made read-only after its children are done.
        for d in dirs.reversed() {
            let fd = openInRoot(d.path, root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
            guard fd >= 0 else { throw sys("open \(d.path)") }
            defer { close(fd) }
            guard fchown(fd, d.uid, d.gid) == 0, fchmod(fd, d.mode) == 0 else { throw sys("set owner and mode of \(d.path)") }
            var times = [d.mtime, d.mtime]
            futimens(fd, &times)
        }
    }

    // MARK: - paths

    /// The path's components without `.` and empty ones; `..` is refused (an archive entry
    /// named `../x` is an attack, not a file).
    static func cleanComponents(_ path: String) throws(SwctrError) -> [String] {
        let parts = path.split(separator: "/").filter { $0 != "." }.map(String.init)
        if parts.contains("..") { throw SwctrError(.invalidArgument, "archive entry \(Excerpt.of(path)) points outside its directory") }
        return parts
    }

    static func join(_ directory: String, _ components: [String]) -> String {
        (directory.hasSuffix("/") ? directory : directory + "/") + components.joined(separator: "/")
    }

    static func openInRoot(_ path: String, _ root: Int32, _ flags: Int32) -> Int32 {
        RootedPath.open(path, at: root, flags: flags)
    }

    /// The directory holding `path`'s last component (resolved inside `root`, created with
    /// `create`), and that component; the path's final symlink is not followed.
    public static func openParent(_ path: String, in root: Int32, create: Bool) throws(SwctrError) -> (Int32, String) {
        var parts = path.split(separator: "/").map(String.init)
        guard let base = parts.popLast(), base != "..", base != "." else {
            let fd = openInRoot(path, root, RootedPath.O_PATH | O_DIRECTORY)
            guard fd >= 0 else { throw sys("open \(path)") }
            // The root itself: its parent is itself, seen through "." .
            return (fd, ".")
        }
        var walked = ""
        var fd = openInRoot("", root, RootedPath.O_PATH | O_DIRECTORY)
        guard fd >= 0 else { throw sys("open /") }
        for p in parts {
            walked += "/" + p
            var next = openInRoot(walked, root, RootedPath.O_PATH | O_DIRECTORY)
            if next < 0 && errno == ENOENT && create {
                if mkdirat(fd, p, 0o755) != 0 && errno != EEXIST {
                    close(fd)
                    throw sys("mkdir \(walked)")
                }
                next = openInRoot(walked, root, RootedPath.O_PATH | O_DIRECTORY)
            }
            close(fd)
            guard next >= 0 else { throw sys("open \(walked)") }
            fd = next
        }
        return (fd, base)
    }

    /// The target of the symlink `base` in the directory `parent`; nil when it is not one.
    public static func readLink(_ parent: Int32, _ base: String) -> String? {
        var target = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlinkat(parent, base, &target, target.count - 1)
        guard n >= 0 else { return nil }
        return String(decoding: target[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Removes what is at `base` so an entry can take its place (a directory only when empty).
    public static func removeEntry(_ parent: Int32, _ base: String, shown: String) throws(SwctrError) {
        var st = stat()
        guard fstatat(parent, base, &st, AT_SYMLINK_NOFOLLOW) == 0 else { return }
        let isDir = (st.st_mode & S_IFMT) == S_IFDIR
        if unlinkat(parent, base, isDir ? AT_REMOVEDIR : 0) != 0 {
            throw sys("replace \(shown)")
        }
    }

    static func copyData(_ reader: OpaquePointer, to fd: Int32, shown: String) throws(SwctrError) {
        var buf: UnsafeRawPointer?
        var size = 0
        var offset: la_int64_t = 0
        while true {
            let r = archive_read_data_block(reader, &buf, &size, &offset)
            if r == ARCHIVE_EOF { return }
            guard r == ARCHIVE_OK, let buf else { throw failure("read \(shown)", reader) }
            var done = 0
            while done < size {
                let n = pwrite(fd, buf + done, size - done, off_t(offset) + off_t(done))
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw sys("write \(shown)") }
                done += n
            }
        }
    }

    /// The names in a directory (not . and ..), read through a duplicate of its fd.
    public static func directoryEntries(_ dirFD: Int32) -> [String] {
        let copy = dup(dirFD)
        guard copy >= 0, let d = fdopendir(copy) else { return [] }
        defer { closedir(d) }
        var out: [String] = []
        while let ent = readdir(d) {
            let name = withUnsafeBytes(of: ent.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { out.append(name) }
        }
        return out
    }

    public static func sys(_ what: String) -> SwctrError {
        let e = errno
        let code: SwctrError.Code = e == ENOENT ? .notFound : (e == ENOTDIR || e == EISDIR || e == EXDEV ? .invalidArgument : .failure)
        return SwctrError(code, "\(what): \(String(cString: strerror(e)))")
    }

    static func failure(_ what: String, _ a: OpaquePointer) -> SwctrError {
        SwctrError(.failure, "\(what): \(LayerUnpacker.message(a))")
    }
}

/// The recursive half of `TreeArchive.add`: one entry per file, read through its parent's fd.
private struct Writer {
    let archive: OpaquePointer
    let options: TreeArchive.WriteOptions
    /// Inodes already written (device and inode), for hard links.
    var links: [UInt64: String]

    mutating func add(_ parent: Int32, _ base: String, as name: String) throws(SwctrError) {
        var st = stat()
        guard fstatat(parent, base, &st, AT_SYMLINK_NOFOLLOW) == 0 else { throw TreeArchive.sys("stat \(name.isEmpty ? base : name)") }
        let type = st.st_mode & S_IFMT
        if type == S_IFSOCK { return }  // tar has no sockets (Docker leaves them out too)
        let slash = name.lastIndex(of: "/")
        if options.overlayWhiteouts && type == S_IFCHR && st.st_rdev == 0 {
            let dir = slash.map { String(name[...$0]) } ?? ""
            let file = slash.map { String(name[name.index(after: $0)...]) } ?? name
            try header(dir + ".wh." + file, st, type: S_IFREG, size: 0)
            return
        }
        switch type {
        case S_IFDIR:
            if !name.isEmpty { try header(name + "/", st, type: S_IFDIR, size: 0) }
            let fd = openat(parent, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else { throw TreeArchive.sys("open \(name)") }
            defer { close(fd) }
            if options.overlayWhiteouts && !name.isEmpty && Self.isOpaque(fd) {
                try header(name + "/.wh..wh..opq", st, type: S_IFREG, size: 0)
            }
            for child in TreeArchive.directoryEntries(fd).sorted() {
                try add(fd, child, as: name.isEmpty ? child : name + "/" + child)
            }
        case S_IFREG:
            let key = UInt64(st.st_dev) << 40 ^ UInt64(st.st_ino)
            if st.st_nlink > 1, let first = links[key] {
                try header(name, st, type: S_IFREG, size: 0, hardlink: first)
                return
            }
            if st.st_nlink > 1 { links[key] = name }
            let fd = openat(parent, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else { throw TreeArchive.sys("open \(name)") }
            defer { close(fd) }
            try header(name, st, type: S_IFREG, size: Int64(st.st_size))
            var buf = [UInt8](repeating: 0, count: 1 << 16)
            var left = Int64(st.st_size)
            while left > 0 {
                let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, min($0.count, Int(left))) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw TreeArchive.sys("read \(name)") }
                guard buf.withUnsafeBytes({ archive_write_data(archive, $0.baseAddress, n) }) == n else {
                    throw TreeArchive.failure("write \(name)", archive)
                }
                left -= Int64(n)
            }
            // A file that shrank while being read: tar needs the size it announced.
            if left > 0 { throw SwctrError(.transient, "\(name) changed while it was copied") }
        case S_IFLNK:
            guard let target = TreeArchive.readLink(parent, base) else { throw TreeArchive.sys("readlink \(name)") }
            try header(name, st, type: S_IFLNK, size: 0, symlink: target)
        default:
            try header(name, st, type: type, size: 0)
        }
    }

    func header(_ name: String, _ st: stat, type: mode_t, size: Int64, hardlink: String? = nil, symlink: String? = nil) throws(SwctrError) {
        let e = archive_entry_new()
        defer { archive_entry_free(e) }
        archive_entry_set_pathname(e, name)
        archive_entry_set_filetype(e, UInt32(type))
        archive_entry_set_perm(e, st.st_mode & 0o7777)
        archive_entry_set_uid(e, la_int64_t(st.st_uid))
        archive_entry_set_gid(e, la_int64_t(st.st_gid))
        archive_entry_set_mtime(e, time_t(st.st_mtim.tv_sec), Int(st.st_mtim.tv_nsec))
        archive_entry_set_size(e, la_int64_t(size))
        if type == S_IFCHR || type == S_IFBLK { archive_entry_set_rdev(e, st.st_rdev) }
        if let hardlink { archive_entry_set_hardlink(e, hardlink) }
        if let symlink { archive_entry_set_symlink(e, symlink) }
        guard archive_write_header(archive, e) == ARCHIVE_OK else { throw TreeArchive.failure("write \(name)", archive) }
    }

    static func isOpaque(_ fd: Int32) -> Bool {
        var v: UInt8 = 0
        for attr in ["trusted.overlay.opaque", "user.overlay.opaque"] where fgetxattr(fd, attr, &v, 1) == 1 && v == UInt8(ascii: "y") {
            return true
        }
        return false
    }
}
