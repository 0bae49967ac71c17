import HostOS
import Glibc
import OCI

extension Container {
    /// `swrunc pause`: freeze every process of the container (v1 freezer, or cgroup.freeze on v2).
    public static func pause(id: String, ctx: RuntimeContext) throws(RuntimeError) {
        let (lock, record) = try lockAndLoad(id, ctx: ctx)
        defer { lock.release() }
        switch status(of: record, store: ctx.store) {
        case .running, .created: break
        case .paused: throw RuntimeError("container \(id) is already paused")
        default: throw RuntimeError("container \(id) is not running")
        }
        try record.cgroup.setFrozen(true)
    }

    /// `swrunc resume`.
    public static func resume(id: String, ctx: RuntimeContext) throws(RuntimeError) {
        let (lock, record) = try lockAndLoad(id, ctx: ctx)
        defer { lock.release() }
        guard status(of: record, store: ctx.store) == .paused else { throw RuntimeError("container \(id) is not paused") }
        try record.cgroup.setFrozen(false)
    }

    /// `swrunc ps`: the host pids of every process in the container's cgroup.
    public static func pids(id: String, ctx: RuntimeContext) throws(RuntimeError) -> [Int32] {
        let record = try load(id, ctx: ctx)
        return record.cgroup.pids()
    }
}

extension Container {
    /// The container's cgroup, for `events`.
    public static func cgroup(id: String, ctx: RuntimeContext) throws(RuntimeError) -> any CgroupDriver {
        try load(id, ctx: ctx).cgroup
    }

    public static func isStopped(id: String, ctx: RuntimeContext) -> Bool {
        guard let record = try? ctx.store.load(id) else { return true }
        return status(of: record, store: ctx.store) == .stopped
    }
}
