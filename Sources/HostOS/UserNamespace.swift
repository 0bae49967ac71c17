import CShim
import Glibc

/// Facts about the user namespace this process runs in.
public enum UserNamespace {
    /// This process runs in a user namespace other than the host's (its uid map is not the
    /// identity over every id) — as a runtime started by rootless podman does.
    public static var isNested: Bool {
        guard let map = try? FileIO.readString("/proc/self/uid_map") else { return false }
        let fields = map.split(whereSeparator: { $0 == " " || $0 == "\n" })
        return fields != ["0", "0", "4294967295"]
    }

    /// How many ids this process's user namespace maps (the host's: all of them).
    public static var mappedIDCount: UInt64 {
        guard let map = try? FileIO.readString("/proc/self/uid_map") else { return 0 }
        return map.split(separator: "\n").reduce(0) { sum, line in
            sum + (line.split(separator: " ").last.flatMap { UInt64($0) } ?? 0)
        }
    }

    /// runc's rule for rootless: an unprivileged user, or root of a user namespace (whose
    /// "root" holds no privilege over the host).
    public static var callerIsUnprivileged: Bool { geteuid() != 0 || isNested }

    /// Moves this (single-threaded) process into a new user namespace and a mount namespace
    /// owned by it; its id maps are then the parent's to write.
    public static func unshareWithMountNamespace() throws(SystemError) {
        try check("unshare(user, mount)") { cshim_unshare(CLONE_NEWUSER | CLONE_NEWNS) }
    }
}
