import HostOS
import Glibc
import CShim
import OCI

/// Forks the bootstrap for a plan and drives the parent's side of the handshake until the
/// process is set up and blocked (create) or about to exec (run, exec). Shared by create and exec.
final class Launcher {
    let plan: InitPlan
    let cgroup: any CgroupDriver
    /// Runs prestart/createRuntime hooks with the init's pid, when the init asks for them.
    var createRuntimeHooks: ((Int32) throws(RuntimeError) -> Void)?

    private(set) var stage1: Int32 = 0
    private(set) var initPid: Int32 = 0
    /// A hook failed (the spec still wants poststop hooks to run).
    private(set) var hookFailed = false
    private var channel: SyncChannel?

    init(plan: InitPlan, cgroup: any CgroupDriver) {
        self.plan = plan
        self.cgroup = cgroup
    }

    /// Returns the parent's end of the channel, still open: execve in the child closes the other end.
    func launch() throws(RuntimeError) -> SyncChannel {
        let (parentEnd, childEnd) = try SyncChannel.pair()
        channel = parentEnd
        // Forking is only safe while this process has a single thread; the CLI never starts one.
        let threads = ThreadCheck.count()
        if threads != 1 { throw RuntimeError("internal error: runtime has \(threads) threads before fork") }
        // Non-dumpable from the first instruction of the child (the flag is inherited by fork):
        // a process in the container cannot open /proc/<pid>/exe — the host's swrunc — or our
        // fds at any point before execve, which resets it (CVE-2019-5736 class).
        _ = cshim_prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
        // Fast path: with nothing to join and no time namespace, the child is created in its
        // namespaces by clone itself (with a new pid namespace it is pid 1: no second fork).
        // The cgroup namespace waits until the child is in its cgroup, so it is unshared later.
        let ns = plan.namespaces
        let cloneFlags = ns.joins.isEmpty && !ns.newTime ? ns.newFlags & ~CLONE_NEWCGROUP : 0
        // An exec's initial affinity is ours while we fork: the child starts with it.
        let pid = try CPUAffinity.with(plan.execAffinity?.initial) { () throws(RuntimeError) -> Int32 in
            let pid = cloneFlags != 0 ? cshim_clone(UInt(UInt32(bitPattern: cloneFlags))) : cshim_fork()
            if pid < 0 { throw .sys(cloneFlags != 0 ? "clone (namespaces \(Stage1.describe(cloneFlags)))" : "fork") }
            if pid == 0 {
                parentEnd.close()
                Stage1.run(plan, channel: childEnd, created: cloneFlags)
            }
            return pid
        }
        stage1 = pid
        childEnd.close()
        debug("nsexec-0[\(pid)]: => nsexec container setup")
        debug("nsexec-0[\(pid)]: affinity: \(CPUAffinity.describe(pid))")
        // Into the cgroup before the child runs a single line of container setup.
        do { try cgroup.add(pid: stage1) } catch { throw error.during("cgroup") }
        try setFinalAffinity()
        try parentEnd.send(.proceed)
        while true {
            let message: SyncMessage
            do throws(RuntimeError) {
                message = try parentEnd.receive(waitingFor: initPid == 0 ? "namespace setup" : "container init")
            } catch {
                throw explainDeath(error)
            }
            switch message {
            case .needIDMaps:
                try IDMapFiles.write(pid: stage1, uid: plan.uidMappings, gid: plan.gidMappings, prefix: "linux.")
                try parentEnd.send(.idMapsWritten)
            case .needTimeOffsets:
                try Self.writeTimeOffsets(pid: stage1, offsets: plan.timeOffsets)
                try parentEnd.send(.timeOffsetsWritten)
            case .initPid(let pid):
                // A separate stage 1 stays (holding the init's lifeline) until `commit`.
                initPid = pid == 0 ? stage1 : pid
                debug("child process in init() (pid \(initPid))")
            case .runCreateRuntimeHooks:
                do throws(RuntimeError) {
                    try createRuntimeHooks?(initPid)
                } catch {
                    hookFailed = true
                    try? parentEnd.send(.failed(error))
                    throw error
                }
                try parentEnd.send(.createRuntimeHooksDone)
            case .needMountSource(let index):
                let i = Int(index)
                let mounts = plan.container.mounts
                guard mounts.indices.contains(i) else {
                    throw RuntimeError("bootstrap: mount \(index) is not in the config")
                }
                let pid = initPid == 0 ? stage1 : initPid
                let userns = plan.namespaces.userNamespace ? "/proc/\(pid)/ns/user" : nil
                let tree: Int32
                do throws(RuntimeError) {
                    tree = try DetachedMount.make(mounts[i].mount, index: i, bundle: plan.bundle, rootfs: plan.rootfs, containerUserNS: userns,
                                                  containerMountNS: "/proc/\(pid)/ns/mnt")
                } catch {
                    throw error.within("mounts[\(i)]")
                }
                defer { close(tree) }
                try parentEnd.send(.mountSource(tree))
            case .seccompNotify(let fd):
                defer { if fd >= 0 { close(fd) } }
                try SeccompListener.send(fd: fd, plan: plan, pid: initPid)
            case .ready:
                debug(plan.isExec ? "setns_init: about to exec" : "init: closing the pipe to signal completion")
                return parentEnd
            case .failed(let e):
                throw e
            case .hookFailed(let m):
                hookFailed = true
                throw RuntimeError(m)
            default:
                throw RuntimeError("bootstrap: unexpected message \(message)")
            }
        }
    }

    /// Once the child is in its cgroup: an exec's final affinity, or (with none asked for) every
    /// CPU the cpuset allows, so the container does not inherit the caller's pinning (runc's rule;
    /// an exec with only an initial affinity keeps it).
    private func setFinalAffinity() throws(RuntimeError) {
        if let final = plan.execAffinity?.final {
            guard CPUAffinity.set(stage1, final) else { throw .sys("error setting final CPU affinity") }
        } else if plan.execAffinity?.initial == nil {
            if !CPUAffinity.reset(stage1) {
                plan.debugLog?.warn("resetting the CPU affinity of pid \(stage1) failed: \(String(cString: strerror(errno)))")
            }
        }
    }

    private func debug(_ message: @autoclosure () -> String) {
        if let log = plan.debugLog { log.debug(message()) }
    }

    /// A child that vanished mid-setup was most often OOM-killed by a memory limit it could not
    /// even start under: say so, naming the field, instead of "connection reset by peer".
    private func explainDeath(_ error: RuntimeError) -> RuntimeError {
        guard cgroup.oomKills() > 0 else { return error }
        let limit = plan.memoryLimit.map { " (\($0) bytes)" } ?? ""
        return RuntimeError("linux.resources.memory.limit\(limit): the container init was killed by the OOM killer during setup; the limit is too low")
    }

    /// The hand-off: the container is recorded, so its init stops dying with this process. Stage 1,
    /// when it is a separate process, is ended only after the init let go of it.
    func commit() throws(RuntimeError) {
        guard let channel else { return }
        try channel.send(.commit)
        let reply = try channel.receive(waitingFor: "the hand-off to the container init")
        if case .failed(let e) = reply { throw e }
        guard reply == .committed else { throw RuntimeError("bootstrap: unexpected message \(reply)") }
        if stage1 != initPid {
            Glibc.kill(stage1, SIGKILL)
            reap(stage1)
        }
    }

    /// Undo: kill and reap whatever was started, close the channel.
    func abort() {
        if initPid > 0 { Glibc.kill(initPid, SIGKILL); reap(initPid) }
        if stage1 > 0 && stage1 != initPid { Glibc.kill(stage1, SIGKILL); reap(stage1) }
        channel?.close()
        channel = nil
    }

    /// The clock offsets of the stage-1 child's new time namespace, before anything runs in it.
    static func writeTimeOffsets(pid: Int32, offsets: [String: TimeOffset]) throws(RuntimeError) {
        var text = ""
        for (clock, off) in offsets.sorted(by: { $0.key < $1.key }) {
            text += "\(clock) \(off.secs ?? 0) \(off.nanosecs ?? 0)\n"
        }
        do { try FileIO.writeExisting("/proc/\(pid)/timens_offsets", text) } catch {
            throw RuntimeError("set linux.timeOffsets: \(error)", errno: error.errno)
        }
    }
}
