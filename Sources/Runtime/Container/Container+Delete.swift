import HostOS
import Glibc
import CShim
import OCI

extension Container {
    /// `swrunc delete`: refuses a running container unless `force`; kills a created one; runs
    /// poststop hooks; removes the cgroup and the state. `--force` on a missing id succeeds.
    public static func delete(id: String, force: Bool, ctx: RuntimeContext) throws(RuntimeError) {
        try StateStore.validate(id: id)
        guard let lock = try ctx.store.lock(id) else {
            if force { return }
            throw RuntimeError("container \(id) does not exist", errno: ENOENT, stage: "lookup")
        }
        defer { lock.release() }
        guard let record = try ctx.store.load(id) else {
            // A directory without state is what a create that was killed leaves: we hold its
            // lock, so nobody is still creating it. Its record says which cgroups it made.
            if let intent = ctx.store.loadIntent(id) {
                do throws(RuntimeError) {
                    try intent.cgroup.destroy()
                    try intent.hostRootfsMount?.unmount()
                } catch {
                    throw RuntimeError("delete \(id): an interrupted create left \(error.message)", errno: error.errno)
                }
            }
            ctx.store.remove(id)
            if force { return }
            throw RuntimeError("container \(id) does not exist", errno: ENOENT, stage: "lookup")
        }
        let status = status(of: record, store: ctx.store)
        switch status {
        case .running, .paused:
            if !force { throw RuntimeError("cannot delete container \(id) that is not stopped: \(status.rawValue)") }
        default: break
        }
        if status != .stopped {
            if status == .paused { thawForKill(record) }
            try? signalInit(record, signal: SIGKILL)
            waitGone(record)
        }
        do throws(RuntimeError) {
            try record.cgroup.destroy(pidNamespace: record.pidNamespace)
            try record.hostRootfsMount?.unmount()
        } catch {
            // The state stays, so that a later delete can finish the job.
            throw RuntimeError("delete \(id): \(error.message)", errno: error.errno)
        }
        let state = State(id: id, status: .stopped, pid: 0, bundle: record.bundle, annotations: record.annotations)
        // Spec: a failing poststop hook is a warning; the remaining hooks and the lifecycle go on.
        HookRunner.runWarning(record.hooks?.poststop ?? [], kind: "poststop", state: state, logger: ctx.logger)
        ctx.store.remove(id)
    }

    /// A frozen cgroup holds SIGKILL until thawed.
    static func thawForKill(_ record: ContainerRecord) {
        try? record.cgroup.setFrozen(false)
    }

    /// Waits (bounded) until the init is gone or a zombie.
    static func waitGone(_ record: ContainerRecord) {
        let pidfd = cshim_pidfd_open(record.pid)
        if pidfd >= 0 {
            var pfd = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
            _ = poll(&pfd, 1, 10_000)
            close(pidfd)
        }
    }
}
