import HostOS
import CShim
import JSON
import OCI
import Glibc

/// A child's uid_map and gid_map, written by the parent. Root writes any mapping. An
/// unprivileged caller may write only its own id, once (with setgroups denied for the gid map);
/// anything more goes through the setuid helpers newuidmap/newgidmap, which check the caller's
/// /etc/subuid and /etc/subgid ranges — as runc and podman do rootless.
enum IDMapFiles {
    static func write(pid: Int32, uid: [IDMapping], gid: [IDMapping], prefix: String) throws(RuntimeError) {
        let unprivileged = geteuid() != 0
        for (file, maps, own) in [("uid_map", uid, geteuid()), ("gid_map", gid, getegid())] {
            let field = prefix + (file == "uid_map" ? "uidMappings" : "gidMappings")
            if unprivileged && !(maps.count == 1 && maps[0].hostID == own && maps[0].size == 1) {
                try helper(file == "uid_map" ? "newuidmap" : "newgidmap", pid: pid, maps: maps, field: field)
                continue
            }
            if unprivileged && file == "gid_map" {
                // The kernel takes an unprivileged gid map only with setgroups(2) off for good.
                try? FileIO.writeExisting("/proc/\(pid)/setgroups", "deny")
            }
            let text = maps.map { "\($0.containerID) \($0.hostID) \($0.size)\n" }.joined()
            do { try FileIO.writeExisting("/proc/\(pid)/\(file)", text) } catch {
                throw RuntimeError("\(field): \(error)", errno: error.errno)
            }
        }
    }

    private static func helper(_ name: String, pid: Int32, maps: [IDMapping], field: String) throws(RuntimeError) {
        let candidates = ["/usr/bin/" + name, "/bin/" + name, "/usr/sbin/" + name]
        guard let path = candidates.first(where: { access($0, X_OK) == 0 }) else {
            throw RuntimeError("\(field): mapping more than the caller's own id needs \(name) (apt-get install uidmap)")
        }
        let argv = [path, String(pid)] + maps.flatMap { [String($0.containerID), String($0.hostID), String($0.size)] }
        var pipe: [Int32] = [-1, -1]
        guard cshim_pipe2(&pipe, O_CLOEXEC) == 0 else { throw .sys("pipe") }
        defer { close(pipe[0]) }
        let child: pid_t
        do throws(SystemError) { child = try Spawn.start(argv, Spawn.Options(stdout: pipe[1], stderr: pipe[1])) } catch {
            close(pipe[1])
            throw RuntimeError("\(field): \(name): \(error.message)", errno: error.errno)
        }
        close(pipe[1])
        let output = (try? FileIO.readAll(pipe[0], what: name)).map { String(decoding: $0, as: UTF8.self).trimmed() } ?? ""
        guard Spawn.wait(child) == .exited(0) else {
            throw RuntimeError("\(field): \(name) refused the mapping" + (output.isEmpty ? "" : ": \(Excerpt.line(output))"))
        }
    }
}
