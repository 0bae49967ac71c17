import HostOS
import Glibc
import CShim
import OCI

/// Rlimits, oom_score_adj, user and group switching for the container process.
enum ProcessCredentials {
    /// The runtime itself needs a few descriptors between setup and execve (the sync channel's
    /// poll, the exec fifo, hook pipes): a tighter RLIMIT_NOFILE is first applied at this floor —
    /// raising a hard limit needs the privileges still held here — and lowered to what was asked
    /// just before execve (`finalNofile`), which needs none.
    static let runtimeFDFloor: UInt64 = 64

    static func applyRlimits(_ sys: any Syscalls, _ limits: [ResolvedRlimit]) throws(RuntimeError) {
        for limit in limits {
            var soft = limit.soft, hard = limit.hard
            if limit.type == "RLIMIT_NOFILE" {
                soft = max(soft, runtimeFDFloor)
                hard = max(hard, runtimeFDFloor)
            }
            if sys.prlimit(limit.resource, soft: soft, hard: hard) != 0 {
                throw .sys("process.rlimits[\(limit.index)]: setrlimit \(limit.type) soft=\(limit.soft) hard=\(limit.hard)")
            }
        }
    }

    /// The RLIMIT_NOFILE the config asked for, when it is below the runtime's floor.
    static func finalNofile(_ limits: [ResolvedRlimit]) -> ResolvedRlimit? {
        guard let limit = limits.last(where: { $0.type == "RLIMIT_NOFILE" }),
              limit.soft < runtimeFDFloor || limit.hard < runtimeFDFloor else { return nil }
        return limit
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
    static func switchUser(_ sys: any Syscalls, _ user: User, allowSetgroups: Bool) throws(RuntimeError) {
        if allowSetgroups {
            let groups = (user.additionalGids ?? []).map { gid_t($0) }
            try check("setgroups \(groups)") { sys.setgroups(groups) }
        }
        try check("setgid \(user.gid)") { sys.setresgid(user.gid) }
        try check("setuid \(user.uid)") { sys.setresuid(user.uid) }
    }

    /// The credential switch in runc's order: the bounding set shrinks while still privileged,
    /// keep-caps holds the permitted set across setuid, groups, gid and uid change, and the
    /// capability sets (ambient last) are set as the user.
    static func becomeUser(_ sys: any Syscalls, _ user: User, capabilities caps: CapabilitySets,
                           allowSetgroups: Bool) throws(RuntimeError) {
        try caps.applyBounding(sys)
        try check("keep capabilities across setuid") { sys.prctl(PR_SET_KEEPCAPS, 1, 0) }
        try switchUser(sys, user, allowSetgroups: allowSetgroups)
        try check("clear keep-capabilities") { sys.prctl(PR_SET_KEEPCAPS, 0, 0) }
        try caps.applySets(sys)
    }
}
