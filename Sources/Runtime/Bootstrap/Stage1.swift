import HostOS
import Glibc
import CShim
import OCI

/// The first child. It exists because some namespaces only apply to a process's *children*
/// (pid, time) and because a user namespace must be entered before the others are created so
/// that it owns them. It runs in a copy of the single-threaded parent, so Swift code is safe here.
enum Stage1 {
    /// `created`: namespaces clone already made for this process.
    static func run(_ plan: InitPlan, channel: SyncChannel, created: Int32 = 0) -> Never {
        closeInheritedFDs(keeping: [channel.fd, plan.fifoFD, plan.consoleFD], preserve: plan.preserveFDs)
        Lifeline.bind()
        do throws(RuntimeError) {
            // Also the check that the parent is still there: its death closes the channel.
            let go = try channel.receive(waitingFor: "cgroup placement")
            guard go == .proceed else { throw RuntimeError("bootstrap: unexpected message \(go)") }
            try enterNamespaces(plan, channel: channel, created: created)
            let pidDone = created & CLONE_NEWPID != 0
            if (plan.namespaces.newPid && !pidDone) || plan.namespaces.newTime || plan.namespaces.joinsPid {
                // The init waits for `go` until its pid is reported: on a busy machine it could
                // otherwise say "ready" before the parent knows which process it is.
                var go: [Int32] = [-1, -1]
                try check("pipe") { cshim_pipe2(&go, O_CLOEXEC) }
                let pid = cshim_fork()
                if pid < 0 { throw .sys("fork container init") }
                if pid == 0 {
                    close(go[1])
                    // Bound to this process, which stays until the parent's commit (or dies with it).
                    Lifeline.bind()
                    var byte: UInt8 = 0
                    while read(go[0], &byte, 1) < 0 && errno == EINTR {}
                    close(go[0])
                    ContainerInit.run(plan, channel: channel)
                }
                close(go[0])
                try channel.send(.initPid(pid))
                close(go[1])
                // The init's lifeline ends here: wait to be killed by the parent after the
                // commit, or with the parent before it.
                while true { pause() }
            }
            // 0 means "this process is the init": its pid as seen here may be in another
            // namespace; the parent knows its host pid from fork.
            try channel.send(.initPid(0))
            ContainerInit.run(plan, channel: channel)
        } catch {
            try? channel.send(.failed(error.during("namespaces")))
            _exit(1)
        }
    }

    private static func enterNamespaces(_ plan: InitPlan, channel: SyncChannel, created: Int32) throws(RuntimeError) {
        let ns = plan.namespaces
        // Open every path first: joining the mount namespace changes what later paths mean.
        var fds: [(NamespaceType, Int32, String)] = []
        defer { for f in fds { close(f.1) } }
        for join in ns.joins {
            let fd = cshim_open(join.path, O_RDONLY | O_CLOEXEC, 0)
            if fd < 0 { throw .sys("open \(join.type.rawValue) namespace \(join.path)") }
            fds.append((join.type, fd, join.path))
        }
        // The others before a joined user namespace while this process still has the host's
        // privileges (a namespace that user namespace does not own could not be joined after
        // it), then the user namespace, then those that needed its privileges (runc's order).
        let joinsUser = fds.contains { $0.0 == .user }
        var afterUser: [(NamespaceType, Int32, String)] = []
        // Unprivileged, nothing can be joined before the user namespace that owns it.
        let firstPass = plan.rootlessParent ? [] : fds
        if plan.rootlessParent { afterUser = fds.filter { $0.0 != .user } }
        for (type, fd, path) in firstPass where type != .user {
            if cshim_setns(fd, type.cloneFlag) == 0 { continue }
            if errno == EPERM && joinsUser { afterUser.append((type, fd, path)); continue }
            throw .sys("join \(type.rawValue) namespace \(path)")
        }
        for (type, fd, path) in fds.filter({ $0.0 == .user }) + afterUser {
            try check("join \(type.rawValue) namespace \(path)") { cshim_setns(fd, type.cloneFlag) }
        }
        if ns.newUser {
            // An unprivileged parent can open our uid_map only while we are dumpable (a
            // non-dumpable process's /proc files belong to the host's root). Nothing of the
            // container runs yet; dumpable goes off again before anything does.
            let unprivilegedParent = plan.rootlessParent
            if unprivilegedParent { _ = cshim_prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) }
            if created & CLONE_NEWUSER == 0 {
                try check("create user namespace") { cshim_unshare(CLONE_NEWUSER) }
            }
            try channel.send(.needIDMaps)
            let reply = try channel.receive(waitingFor: "uid/gid mappings")
            if unprivilegedParent { _ = cshim_prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) }
            if case .failed(let e) = reply { throw e }
        }
        if ns.userNamespace {
            // Become root of the user namespace so the rest of the setup has its full privileges.
            try check("setgid 0 in user namespace") { cshim_setresgid(0, 0, 0) }
            try check("setuid 0 in user namespace") { cshim_setresuid(0, 0, 0) }
            Lifeline.bind()  // the credential change cleared it
        }
        let rest = ns.newFlags & ~CLONE_NEWUSER & ~created
        if rest != 0 {
            try check("create namespaces (\(describe(rest)))") { cshim_unshare(rest) }
        }
        if ns.newTime, !plan.timeOffsets.isEmpty {
            // Offsets must be written before any process enters the namespace: our child is the
            // first. The parent writes them (runc's order).
            try channel.send(.needTimeOffsets)
            let reply = try channel.receive(waitingFor: "time namespace offsets")
            if case .failed(let e) = reply { throw e }
        }
    }

    /// Closes every fd the child inherited except stdio, the preserved ones and those the
    /// bootstrap needs. Callers (Go's os/exec, Foundation's Process, shims) learn that swrunc
    /// exited when its fds close; a created container must not hold theirs open, and nothing of
    /// the runtime's may reach the container.
    static func closeInheritedFDs(keeping keep: [Int32], preserve: Int) {
        var next: UInt32 = UInt32(3 + preserve)
        for fd in keep.filter({ $0 >= Int32(next) }).sorted() {
            if UInt32(fd) > next { _ = cshim_close_range(next, UInt32(fd) - 1, 0) }
            next = UInt32(fd) + 1
        }
        _ = cshim_close_range(next, UInt32.max, 0)
    }

    static func describe(_ flags: Int32) -> String {
        NamespaceType.allCases.filter { flags & $0.cloneFlag != 0 }.map(\.rawValue).joined(separator: ",")
    }
}
