import CArchive
import Glibc
import Registry

public struct UnpackError: Error, CustomStringConvertible {
    public let description: String
    init(_ d: String) { description = d }
}

/// Unpacks one layer tarball (gzip, zstd or plain, detected by libarchive) into a directory in
/// the form overlayfs reads: OCI whiteouts `.wh.NAME` become 0:0 character devices and
/// `.wh..wh..opq` an opaque directory (trusted.overlay.opaque=y). Ownership, modes, xattrs,
/// times and hard links are kept. libarchive's secure-extraction flags refuse `..`, absolute
/// paths and writes through symlinks, so a hostile layer cannot reach outside `dir`. The diffID
/// (sha256 of the uncompressed stream) is computed on the way and returned.
///
/// Rootless (a store owned by an unprivileged user), the layer takes the form of a rootless
/// overlay mount (`userxattr`): files belong to the user, only `user.*` xattrs are kept, opaque
/// directories are marked with user.overlay.opaque (the kernel lets anyone create the 0:0
/// whiteout device), and a device node is refused: it could not be created, and a layer without
/// it would not be the image.
public enum LayerUnpacker {
    /// `keepOwners` rootless: the caller is root of a user namespace that maps a subordinate id
    /// range, so files keep their owners as ids of that range (podman's rootless store).
    public static func unpack(_ blob: String, into dir: String, rootless: Bool = false, keepOwners: Bool = true) throws(UnpackError) -> String {
        guard let reader = archive_read_new() else { throw UnpackError("libarchive: out of memory") }
        defer { archive_read_free(reader) }
        archive_read_support_filter_all(reader)
        archive_read_support_format_tar(reader)
        guard let writer = archive_write_disk_new() else { throw UnpackError("libarchive: out of memory") }
        defer { archive_write_free(writer) }
        let flags = ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | (rootless && !keepOwners ? 0 : ARCHIVE_EXTRACT_OWNER) | ARCHIVE_EXTRACT_XATTR
            | ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS
            | ARCHIVE_EXTRACT_UNLINK
        archive_write_disk_set_options(writer, flags)
        guard archive_read_open_filename(reader, blob, 1 << 16) == ARCHIVE_OK else {
            throw UnpackError("layer \(blob): \(message(reader))")
        }
        // Relative paths are resolved from the working directory, which is the layer directory
        // while this runs (layers are unpacked one at a time).
        let saved = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard chdir(dir) == 0 else { throw UnpackError("chdir \(dir): \(String(cString: strerror(errno)))") }
        defer { if saved >= 0 { fchdir(saved); close(saved) } }

        var entry: OpaquePointer?
        while true {
            let rc = archive_read_next_header(reader, &entry)
            if rc == ARCHIVE_EOF { break }
            guard rc == ARCHIVE_OK || rc == ARCHIVE_WARN, let entry else {
                throw UnpackError("layer \(blob): \(message(reader))")
            }
            let path = String(cString: archive_entry_pathname(entry))
            let trimmed = path.hasPrefix("./") ? String(path.dropFirst(2)) : path
            let base = trimmed.split(separator: "/").last.map(String.init) ?? trimmed
            if base.hasPrefix(".wh.") {
                try whiteout(trimmed, base: base, rootless: rootless)
                continue
            }
            let type = archive_entry_filetype(entry)
            if rootless && (type == S_IFCHR || type == S_IFBLK) {
                throw UnpackError("layer \(blob): entry \"\(path)\" is a device node, which a rootless store cannot hold (pull as root)")
            }
            filterXattrs(entry, rootless: rootless)
            try refuseSymlinkParents(trimmed)
            if archive_write_header(writer, entry) != ARCHIVE_OK {
                throw UnpackError("layer \(blob): entry \"\(path)\": \(message(writer))")
            }
            if archive_entry_size(entry) > 0, let failure = copyData(reader, writer) {
                throw UnpackError("layer \(blob): entry \"\(path)\": \(failure)")
            }
            guard archive_write_finish_entry(writer) == ARCHIVE_OK else {
                throw UnpackError("layer \(blob): entry \"\(path)\": \(message(writer))")
            }
        }
        guard archive_write_close(writer) == ARCHIVE_OK else { throw UnpackError("layer \(blob): \(message(writer))") }
        return try diffID(of: blob)
    }

    private static func whiteout(_ path: String, base: String, rootless: Bool) throws(UnpackError) {
        let parent = path.split(separator: "/").dropLast().joined(separator: "/")
        let parentDir = parent.isEmpty ? "." : parent
        guard !parent.split(separator: "/").contains(where: { $0 == ".." }), !path.hasPrefix("/") else {
            throw UnpackError("whiteout \"\(path)\" points outside the layer")
        }
        try mkdirs(parentDir)
        if base == ".wh..wh..opq" {
            let y: [UInt8] = [UInt8(ascii: "y")]
            guard lsetxattr(parentDir, rootless ? "user.overlay.opaque" : "trusted.overlay.opaque", y, 1, 0) == 0 else {
                throw UnpackError("opaque directory \(parentDir): \(String(cString: strerror(errno)))")
            }
            return
        }
        let name = String(base.dropFirst(4))
        let target = parent.isEmpty ? name : "\(parent)/\(name)"
        guard !name.isEmpty, name != ".", name != ".." else { throw UnpackError("invalid whiteout \"\(path)\"") }
        unlink(target)
        guard mknod(target, S_IFCHR | 0o000, 0) == 0 else {
            throw UnpackError("whiteout \(target): \(String(cString: strerror(errno)))")
        }
    }

    /// Overlay metadata comes only from OCI whiteouts: an overlay xattr carried in the tar (an
    /// opaque mark, a redirect) is dropped, so a layer cannot hide or redirect lower layers by other
    /// means. Rootless, xattrs outside `user.` could not be set and are dropped too.
    private static func filterXattrs(_ entry: OpaquePointer, rootless: Bool) {
        guard archive_entry_xattr_reset(entry) > 0 else { return }
        var kept: [(String, [UInt8])] = []
        var dropped = false
        var name: UnsafePointer<CChar>?
        var value: UnsafeRawPointer?
        var size = 0
        while archive_entry_xattr_next(entry, &name, &value, &size) == ARCHIVE_OK {
            guard let name else { continue }
            let n = String(cString: name)
            if n.hasPrefix("trusted.overlay.") || n.hasPrefix("user.overlay.") || (rootless && !n.hasPrefix("user.")) {
                dropped = true
                continue
            }
            kept.append((n, value.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) } ?? []))
        }
        guard dropped else { return }
        archive_entry_xattr_clear(entry)
        for (n, v) in kept { v.withUnsafeBytes { archive_entry_xattr_add_entry(entry, n, $0.baseAddress, $0.count) } }
    }

    /// An entry below a symlink of the same layer would be written through it: refused (libarchive
    /// would otherwise replace the link by a directory and go on quietly).
    private static func refuseSymlinkParents(_ path: String) throws(UnpackError) {
        var cur = ""
        for comp in path.split(separator: "/").dropLast() where comp != "." {
            cur = cur.isEmpty ? String(comp) : "\(cur)/\(comp)"
            var st = stat()
            if lstat(cur, &st) == 0 && (st.st_mode & S_IFMT) == S_IFLNK {
                throw UnpackError("entry \"\(path)\" goes through the symlink \"\(cur)\"")
            }
        }
    }

    /// Creates parent directories without following symlinks out of the layer.
    private static func mkdirs(_ rel: String) throws(UnpackError) {
        var cur = ""
        for comp in rel.split(separator: "/") where comp != "." {
            cur = cur.isEmpty ? String(comp) : "\(cur)/\(comp)"
            var st = stat()
            if lstat(cur, &st) == 0 {
                guard (st.st_mode & S_IFMT) == S_IFDIR else { throw UnpackError("\(cur) is not a directory (whiteout parent)") }
                continue
            }
            guard mkdir(cur, 0o755) == 0 else { throw UnpackError("mkdir \(cur): \(String(cString: strerror(errno)))") }
        }
    }

    /// sha256 of the uncompressed tar stream.
    static func diffID(of blob: String) throws(UnpackError) -> String {
        guard let reader = archive_read_new() else { throw UnpackError("libarchive: out of memory") }
        defer { archive_read_free(reader) }
        archive_read_support_filter_all(reader)
        archive_read_support_format_raw(reader)
        guard archive_read_open_filename(reader, blob, 1 << 16) == ARCHIVE_OK else {
            throw UnpackError("layer \(blob): \(message(reader))")
        }
        var entry: OpaquePointer?
        guard archive_read_next_header(reader, &entry) == ARCHIVE_OK else { throw UnpackError("layer \(blob): \(message(reader))") }
        let hasher = Digest.Hasher()
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buf.withUnsafeMutableBytes { archive_read_data(reader, $0.baseAddress, $0.count) }
            if n == 0 { break }
            guard n > 0 else { throw UnpackError("layer \(blob): \(message(reader))") }
            buf.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
        return hasher.finish()
    }

    /// Streams the current entry's data from `reader` to `writer`; the error text on failure.
    static func copyData(_ reader: OpaquePointer, _ writer: OpaquePointer) -> String? {
        var buf: UnsafeRawPointer?
        var size = 0
        var offset: la_int64_t = 0
        while true {
            let r = archive_read_data_block(reader, &buf, &size, &offset)
            if r == ARCHIVE_EOF { return nil }
            guard r == ARCHIVE_OK else { return message(reader) }
            guard archive_write_data_block(writer, buf, size, offset) == ARCHIVE_OK else { return message(writer) }
        }
    }

    public static func message(_ a: OpaquePointer) -> String {
        archive_error_string(a).map { String(cString: $0) } ?? "unknown libarchive error"
    }
}
