import CShim
import Glibc

/// Facts about the user namespace this process runs in.
public enum UserNamespace {
    /// This process's uid_map, read once by whoever needs several facts from it (nil when it
    /// cannot be read: a kernel without user namespaces, which counts as the host's).
    public static func uidMap() -> [IDRange]? {
        guard let text = try? FileIO.readString("/proc/self/uid_map") else { return nil }
        return text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: " ")
            guard f.count == 3, let inside = UInt32(f[0]), let outside = UInt32(f[1]), let count = UInt32(f[2]) else { return nil }
            return IDRange(inside: inside, outside: outside, count: count)
        }
    }

    /// A user namespace other than the host's: its uid map is not the identity over every id —
    /// as for a runtime started by rootless podman.
    public static func isNested(_ map: [IDRange]?) -> Bool {
        guard let map else { return false }
        return map != [IDRange(inside: 0, outside: 0, count: UInt32.max)]
    }

    public static var isNested: Bool { isNested(uidMap()) }

    /// runc's rule for rootless: an unprivileged user, or root of a user namespace (whose
    /// "root" holds no privilege over the host).
    public static var callerIsUnprivileged: Bool { geteuid() != 0 || isNested }

    /// Moves this (single-threaded) process into a new user namespace and a mount namespace
    /// owned by it; its id maps are then the parent's to write.
    public static func unshareWithMountNamespace() throws(SystemError) {
        try check("unshare(user, mount)") { cshim_unshare(CLONE_NEWUSER | CLONE_NEWNS) }
    }
}
