import CShim
import Glibc

/// One line of a uid_map or gid_map: `count` ids from `inside` map to ids from `outside`.
public struct IDRange: Equatable, Sendable {
    public var inside: UInt32
    public var outside: UInt32
    public var count: UInt32

    public init(inside: UInt32, outside: UInt32, count: UInt32) {
        self.inside = inside
        self.outside = outside
        self.count = count
    }
}

/// Writes a child's uid_map and gid_map from its parent. Root writes any mapping. An
/// unprivileged caller may write only its own id, once (with setgroups denied for the gid map);
/// anything more goes through the setuid helpers newuidmap/newgidmap, which check the caller's
/// /etc/subuid and /etc/subgid ranges — as runc and podman do rootless. Errors start with
/// `names` (the config field the maps came from, say; the files' names by default).
public enum IDMaps {
    public static func write(pid: Int32, uid: [IDRange], gid: [IDRange],
                             names: (uid: String, gid: String) = ("uid_map", "gid_map")) throws(SystemError) {
        let unprivileged = geteuid() != 0
        for (file, maps, own, name) in [("uid_map", uid, geteuid(), names.uid), ("gid_map", gid, getegid(), names.gid)] {
            if unprivileged && !(maps.count == 1 && maps[0].outside == own && maps[0].count == 1) {
                try helper(file == "uid_map" ? "newuidmap" : "newgidmap", pid: pid, maps: maps, label: name)
                continue
            }
            if unprivileged && file == "gid_map" {
                // The kernel takes an unprivileged gid map only with setgroups(2) off for good.
                try? FileIO.writeExisting("/proc/\(pid)/setgroups", "deny")
            }
            let text = maps.map { "\($0.inside) \($0.outside) \($0.count)\n" }.joined()
            do { try FileIO.writeExisting("/proc/\(pid)/\(file)", text) } catch {
                throw SystemError("\(name): \(error.message)", errno: error.errno)
            }
        }
    }

    private static func helper(_ name: String, pid: Int32, maps: [IDRange], label: String) throws(SystemError) {
        let candidates = ["/usr/bin/" + name, "/bin/" + name, "/usr/sbin/" + name]
        guard let path = candidates.first(where: { access($0, X_OK) == 0 }) else {
            throw SystemError("\(label): mapping more than the caller's own id needs \(name) (apt-get install uidmap)")
        }
        let argv = [path, String(pid)] + maps.flatMap { [String($0.inside), String($0.outside), String($0.count)] }
        var pipe: [Int32] = [-1, -1]
        try check("pipe") { cshim_pipe2(&pipe, O_CLOEXEC) }
        defer { close(pipe[0]) }
        let child: pid_t
        do throws(SystemError) { child = try Spawn.start(argv, Spawn.Options(stdout: pipe[1], stderr: pipe[1])) } catch {
            close(pipe[1])
            throw SystemError("\(label): \(name): \(error.message)", errno: error.errno)
        }
        close(pipe[1])
        let output = (try? FileIO.readAll(pipe[0], what: name)).map { String(decoding: $0, as: UTF8.self).trimmed() } ?? ""
        guard Spawn.wait(child) == .exited(0) else {
            let first = output.split(separator: "\n").first.map(String.init) ?? ""
            throw SystemError("\(label): \(name) refused the mapping" + (first.isEmpty ? "" : ": \(first)"))
        }
    }

    /// The caller's subordinate ids from /etc/subuid or /etc/subgid (`name:start:count` or
    /// `uid:start:count` lines), first range only — what newuidmap will accept for it.
    public static func subordinateRange(file: String, user: String?, id: UInt32) -> (start: UInt32, count: UInt32)? {
        guard let text = try? FileIO.readString(file) else { return nil }
        for line in text.split(separator: "\n") {
            let f = line.split(separator: ":", omittingEmptySubsequences: false)
            guard f.count == 3, f[0] == String(id) || user.map({ f[0] == $0 }) == true,
                  let start = UInt32(f[1]), let count = UInt32(f[2]), count > 0 else { continue }
            return (start, count)
        }
        return nil
    }
}
