import JSON
import HostOS
import Glibc
import OCI
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
        return try check("open \(Excerpt.of(inner, limit: 200)) in \(path)") {
            cshim_openat2(fd, rel, UInt64(f), 0, Self.resolveInRoot | Self.resolveNoMagicLinks)
        }
    }

    /// mkdir -p inside the root; returns an O_PATH fd of the final directory. A dangling symlink
    /// on the way is resolved inside the root and its target created there, as runc does.
    @discardableResult
    func mkdirAll(_ inner: String, mode: mode_t = 0o755) throws(RuntimeError) -> Int32 {
        try mkdirAll(inner, mode: mode, depth: 0)
    }

    private func openDir(_ rel: String) -> Int32 {
        cshim_openat2(fd, rel.isEmpty ? "." : rel, UInt64(O_PATH | O_DIRECTORY | O_CLOEXEC), 0,
                      Self.resolveInRoot | Self.resolveNoMagicLinks)
    }

    private func mkdirAll(_ inner: String, mode: mode_t, depth: Int) throws(RuntimeError) -> Int32 {
        if depth > 40 { throw RuntimeError("mkdir \(Excerpt.of(inner, limit: 200)) in \(path): too many levels of symbolic links", errno: ELOOP) }
        var current = openDir("")
        if current < 0 { throw .sys("open \(path)") }
        var walked = ""
        for comp in Self.relative(inner).split(separator: "/") {
            let parentRel = walked
            walked += (walked.isEmpty ? "" : "/") + comp
            var next = openDir(walked)
            if next < 0 && errno == ENOENT {
                if mkdirat(current, String(comp), mode) != 0 && errno == EEXIST {
                    // Something is there but does not resolve: a dangling symlink. Create its
                    // target, resolved inside the root.
                    var buf = [CChar](repeating: 0, count: 4096)
                    let n = readlinkat(current, String(comp), &buf, buf.count - 1)
                    if n > 0 {
                        let target = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
                        let resolved = target.hasPrefix("/") ? target : "/" + parentRel + "/" + target
                        Glibc.close(try mkdirAll(resolved, mode: mode, depth: depth + 1))
                    }
                }
                next = openDir(walked)
            }
            let code = errno
            Glibc.close(current)
            if next < 0 { throw .sys("mkdir /\(walked) in \(path)", code) }
            current = next
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

    /// A mount target for a source of the given mode: `inner` made a directory or a file like
    /// the source, then opened (the fd the mount goes on; the caller closes it).
    func openMountTarget(_ inner: String, sourceMode: mode_t) throws(RuntimeError) -> Int32 {
        if (sourceMode & S_IFMT) == S_IFDIR {
            Glibc.close(try mkdirAll(inner))
        } else {
            try ensureFile(inner)
        }
        return try open(inner)
    }

    /// Makes sure `inner` exists (bind-mount target for a file source). A dangling symlink there
    /// (Ubuntu's /etc/resolv.conf → ../run/systemd/resolve/stub-resolv.conf) is resolved inside
    /// the root and its target created, as runc does.
    func ensureFile(_ inner: String) throws(RuntimeError) {
        try ensureFile(inner, depth: 0)
    }

    private func ensureFile(_ inner: String, depth: Int) throws(RuntimeError) {
        if depth > 40 { throw RuntimeError("create \(Excerpt.of(inner, limit: 200)) in \(path): too many levels of symbolic links", errno: ELOOP) }
        let (dir, name) = try parent(of: inner)
        defer { Glibc.close(dir) }
        let f = cshim_openat(dir, name, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0o755)
        if f >= 0 { Glibc.close(f); return }
        let code = errno
        if code == ELOOP {
            // A symlink: fine if it resolves (inside the root); if it dangles, create its target.
            if let existing = try? open(inner) { Glibc.close(existing); return }
            var buf = [CChar](repeating: 0, count: 4096)
            let n = readlinkat(dir, name, &buf, buf.count - 1)
            guard n > 0 else { throw .sys("readlink \(Excerpt.of(inner, limit: 200)) in \(path)") }
            let target = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let parentPath = inner.hasPrefix("/") ? inner : "/" + inner
            let base = parentPath[..<(parentPath.lastIndex(of: "/") ?? parentPath.startIndex)]
            return try ensureFile(target.hasPrefix("/") ? target : base + "/" + target, depth: depth + 1)
        }
        // An existing directory, device, or busy file is fine: the mount goes on top of it.
        if code == EISDIR || code == EEXIST || code == ENXIO || code == ETXTBSY || code == EACCES { return }
        throw .sys("create \(Excerpt.of(inner, limit: 200)) in \(path)", code)
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
