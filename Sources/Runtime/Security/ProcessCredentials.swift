import Glibc
import CShim
import OCI

/// Rlimits, oom_score_adj, user and group switching for the container process.
enum ProcessCredentials {
    static func applyRlimits(_ limits: [Rlimit]) throws(RuntimeError) {
        for limit in limits {
            guard let resource = KnownNames.rlimits[limit.type] else { continue }
            if cshim_prlimit(resource, limit.soft, limit.hard) != 0 {
                throw .sys("setrlimit \(limit.type) soft=\(limit.soft) hard=\(limit.hard)")
            }
        }
    }

    static func applyOOMScoreAdj(_ value: Int) throws(RuntimeError) {
        do {
            try FileIO.writeExisting("/proc/self/oom_score_adj", String(value))
        } catch {
            throw RuntimeError("set process.oomScoreAdj to \(value): \(error)", errno: error.errno)
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
