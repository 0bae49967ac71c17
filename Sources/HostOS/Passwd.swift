import Glibc
import CShim

/// /etc/passwd and /etc/group as an image or a rootfs has them (read with `RootedPath`, never the
/// host's through a symlink). Only the fields the runtimes need.
public struct PasswdEntry: Sendable, Equatable {
    public var name: String
    public var uid: UInt32
    public var gid: UInt32
    public var home: String
}

public struct GroupEntry: Sendable, Equatable {
    public var name: String
    public var gid: UInt32
    public var members: [String]
}

public enum Passwd {
    /// name:password:uid:gid:gecos:home:shell; malformed lines are skipped.
    public static func parseUsers(_ text: String) -> [PasswdEntry] {
        text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: ":", omittingEmptySubsequences: false)
            guard f.count >= 6, let uid = UInt32(f[2]), let gid = UInt32(f[3]) else { return nil }
            return PasswdEntry(name: String(f[0]), uid: uid, gid: gid, home: String(f[5]))
        }
    }

    /// name:password:gid:member,member
    public static func parseGroups(_ text: String) -> [GroupEntry] {
        text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: ":", omittingEmptySubsequences: false)
            guard f.count >= 3, let gid = UInt32(f[2]) else { return nil }
            let members = f.count > 3 ? f[3].split(separator: ",").map(String.init) : []
            return GroupEntry(name: String(f[0]), gid: gid, members: members)
        }
    }
}

/// Paths inside a root directory resolved by openat2(RESOLVE_IN_ROOT): symlinks and `..` stay
/// inside it, so a file read from an image or a rootfs is never a host file.
public enum RootedPath {
    public static let resolveInRoot: UInt64 = 0x10
    public static let resolveNoMagicLinks: UInt64 = 0x02
    /// O_PATH (Glibc's module does not export it): an fd that names a place, for the *at calls.
    public static let O_PATH: Int32 = 0o10000000

    /// Opens `path` (absolute or relative, as seen from inside `root`); -1 with errno on failure.
    public static func open(_ path: String, in root: String, flags: Int32 = O_RDONLY) -> Int32 {
        let dir = Glibc.open(root, O_PATH | O_DIRECTORY | O_CLOEXEC)
        guard dir >= 0 else { return -1 }
        defer { close(dir) }
        return open(path, at: dir, flags: flags)
    }

    public static func open(_ path: String, at dir: Int32, flags: Int32 = O_RDONLY) -> Int32 {
        var rel = Substring(path)
        while rel.hasPrefix("/") { rel = rel.dropFirst() }
        return cshim_openat2(dir, rel.isEmpty ? "." : String(rel), UInt64(flags | O_CLOEXEC), 0, resolveInRoot | resolveNoMagicLinks)
    }

    public static let resolveBeneath: UInt64 = 0x08

    /// Opens `path` below `dir` without ever leaving it: a `..` or a symlink that would lead out
    /// fails with EXDEV instead of being kept inside (a build context's sources).
    public static func openBeneath(_ path: String, at dir: Int32, flags: Int32 = O_RDONLY) -> Int32 {
        var rel = Substring(path)
        while rel.hasPrefix("/") { rel = rel.dropFirst() }
        return cshim_openat2(dir, rel.isEmpty ? "." : String(rel), UInt64(flags | O_CLOEXEC), 0, resolveBeneath | resolveNoMagicLinks)
    }

    /// The whole file, or nil when it cannot be opened or read.
    public static func read(_ path: String, in root: String) -> [UInt8]? {
        let fd = open(path, in: root)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return try? FileIO.readAll(fd, what: path)
    }
}
