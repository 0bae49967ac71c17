import HostOS
import Glibc
import CShim
import OCI

/// Rlimits, oom_score_adj, user and group switching for the container process.
enum ProcessCredentials {
    /// The runtime itself needs a few descriptors between setup and execve (the sync channel's
    /// poll, the exec fifo, hook pipes): a tighter RLIMIT_NOFILE is first applied at this floor —
    /// raising a hard limit needs the privileges still held here — and lowered to what was asked
    /// just before execve (`applyFinalNofile`), which needs none.
    static let runtimeFDFloor: UInt64 = 64

    static func applyRlimits(_ limits: [ResolvedRlimit]) throws(RuntimeError) {
        for limit in limits {
            var soft = limit.soft, hard = limit.hard
            if limit.type == "RLIMIT_NOFILE" {
                soft = max(soft, runtimeFDFloor)
                hard = max(hard, runtimeFDFloor)
            }
            if cshim_prlimit(limit.resource, soft, hard) != 0 {
                throw .sys("process.rlimits[\(limit.index)]: setrlimit \(limit.type) soft=\(limit.soft) hard=\(limit.hard)")
            }
        }
    }

    /// The RLIMIT_NOFILE the config asked for, when it is below the runtime's floor.
    static func applyFinalNofile(_ limits: [ResolvedRlimit]) {
        guard let limit = limits.last(where: { $0.type == "RLIMIT_NOFILE" }),
              limit.soft < runtimeFDFloor || limit.hard < runtimeFDFloor else { return }
        _ = cshim_prlimit(limit.resource, limit.soft, limit.hard)
    }

    static func applyOOMScoreAdj(_ value: Int) throws(RuntimeError) {
        do {
            try FileIO.writeExisting("/proc/self/oom_score_adj", String(value))
        } catch {
            throw RuntimeError("set process.oomScoreAdj to \(value): \(error)", errno: error.errno)
        }
    }

    /// The process's user gets its stdio pipes and sockets (a non-root process can then reopen
    /// /dev/stdout or /proc/self/fd/1, as under runc). Terminals and files are not ours to give
    /// away — the caller's tty must keep its owner; the container's own pty is handed over by
    /// `Console`. A pipe whose owner is not mapped here stays as it is.
    static func handStdio(to uid: UInt32) {
        for fd: Int32 in 0...2 {
            var st = stat()
            guard fstat(fd, &st) == 0, st.st_uid != uid else { continue }
            let type = st.st_mode & S_IFMT
            guard type == S_IFIFO || type == S_IFSOCK else { continue }
            _ = fchown(fd, uid, gid_t(UInt32.max))
        }
    }

    /// setgroups, then gid, then uid: the order in which each step still has the privilege it needs.
    static func switchUser(_ user: User, allowSetgroups: Bool) throws(RuntimeError) {
        if allowSetgroups {
            var groups = (user.additionalGids ?? []).map { gid_t($0) }
            try check("setgroups \(groups)") { setgroups(groups.count, &groups) }
        }
        try check("setgid \(user.gid)") { cshim_setresgid(user.gid, user.gid, user.gid) }
        try check("setuid \(user.uid)") { cshim_setresuid(user.uid, user.uid, user.uid) }
    }
}
