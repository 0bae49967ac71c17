import Glibc
import CShim

/// Resolves paths inside a root directory with openat2(RESOLVE_IN_ROOT): symlinks and `..`
/// are evaluated as if the root were `/`, so nothing in a container's rootfs can redirect a
/// mount or a device node to the host. Every path the runtime touches inside a rootfs goes here.
struct SafeRoot {
    let fd: Int32
    let path: String

    static let resolveInRoot: UInt64 = 0x10        // RESOLVE_IN_ROOT
    static let resolveNoMagicLinks: UInt64 = 0x02  // RESOLVE_NO_MAGICLINKS

    init(path: String) throws(RuntimeError) {
        self.path = path
        fd = try check("open rootfs \(path)") { cshim_open(path, O_PATH | O_DIRECTORY | O_CLOEXEC, 0) }
    }

    func close() { _ = Glibc.close(fd) }

    /// Opens `inner` (an absolute path as seen from inside the root).
    func open(_ inner: String, flags: Int32 = O_PATH, followLast: Bool = true) throws(RuntimeError) -> Int32 {
        let rel = Self.relative(inner)
        if rel.isEmpty {
            return try check("open \(path)") { cshim_openat(fd, ".", flags | O_CLOEXEC, 0) }
        }
        let f = flags | O_CLOEXEC | (followLast ? 0 : O_NOFOLLOW)
        return try check("open \(inner) in \(path)") {
            cshim_openat2(fd, rel, UInt64(f), 0, Self.resolveInRoot | Self.resolveNoMagicLinks)
        }
    }

    /// mkdir -p inside the root; returns an O_PATH fd of the final directory.
    @discardableResult
    func mkdirAll(_ inner: String, mode: mode_t = 0o755) throws(RuntimeError) -> Int32 {
        var current = try check("open \(path)") { cshim_openat(fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC, 0) }
        var walked = ""
        for comp in Self.relative(inner).split(separator: "/") {
            walked += "/" + comp
            let next = cshim_openat2(fd, String(walked.dropFirst()), UInt64(O_PATH | O_DIRECTORY | O_CLOEXEC), 0,
                                     Self.resolveInRoot | Self.resolveNoMagicLinks)
            if next >= 0 {
                Glibc.close(current)
                current = next
                continue
            }
            let code = errno
            guard code == ENOENT else {
                Glibc.close(current)
                throw .sys("mkdir \(walked) in \(path)", code)
            }
            // The component is missing (a dangling symlink here would also report ENOENT and
            // mkdirat on it fails with EEXIST, which is the safe outcome).
            if mkdirat(current, String(comp), mode) != 0 && errno != EEXIST {
                let e = errno
                Glibc.close(current)
                throw .sys("mkdir \(walked) in \(path)", e)
            }
            let created = cshim_openat2(fd, String(walked.dropFirst()), UInt64(O_PATH | O_DIRECTORY | O_CLOEXEC), 0,
                                        Self.resolveInRoot | Self.resolveNoMagicLinks)
            let e = errno
            Glibc.close(current)
            if created < 0 { throw .sys("open \(walked) in \(path)", e) }
            current = created
        }
        return current
    }

    /// Splits into (O_PATH fd of the parent directory, created if needed; last component).
    func parent(of inner: String) throws(RuntimeError) -> (Int32, String) {
        let rel = Self.relative(inner)
        guard let slash = rel.lastIndex(of: "/") else {
            return (try mkdirAll("/"), rel)
        }
        return (try mkdirAll(String(rel[..<slash])), String(rel[rel.index(after: slash)...]))
    }

    /// Makes sure `inner` exists as a regular file (bind-mount target for a file source).
    func ensureFile(_ inner: String) throws(RuntimeError) {
        let (dir, name) = try parent(of: inner)
        defer { Glibc.close(dir) }
        let f = cshim_openat(dir, name, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0o755)
        if f >= 0 { Glibc.close(f); return }
        let code = errno
        // An existing directory, device, or symlink target is fine: the mount goes on top of it.
        if code == EISDIR || code == ELOOP || code == EEXIST || code == ENXIO || code == ETXTBSY || code == EACCES { return }
        throw .sys("create \(inner) in \(path)", code)
    }

    static func relative(_ inner: String) -> String {
        var s = Substring(inner)
        while s.hasPrefix("/") { s = s.dropFirst() }
        while s.hasSuffix("/") { s = s.dropLast() }
        return String(s)
    }
}

/// "/proc/self/fd/N": mount(2) on it acts on the very inode the fd holds.
func procFD(_ fd: Int32) -> String { "/proc/self/fd/\(fd)" }
