import HostOS
import Glibc
import OCI

/// A container as seen from outside: its record plus the status derived from the live process.
public struct ContainerView: Sendable {
    public var record: ContainerRecord
    public var status: ContainerStatus

    public var state: State {
        State(id: record.id, status: status, pid: status == .stopped ? 0 : record.pid, bundle: record.bundle,
              annotations: record.annotations)
    }
}

extension Container {
    /// The status the spec defines, from the process itself: a recycled pid (different start
    /// time) or a zombie is `stopped`; a live init still holding the exec fifo is `created`.
    static func status(of record: ContainerRecord, store: StateStore) -> ContainerStatus {
        guard record.pid > 0, let stat = ProcStat.read(pid: record.pid), stat.isAlive,
              stat.startTime == record.pidStartTime else { return .stopped }
        if FileIO.exists(store.fifoPath(record.id)) { return .created }
        return record.cgroup.isFrozen ? .paused : .running
    }

    static func view(_ record: ContainerRecord, store: StateStore) -> ContainerView {
        ContainerView(record: record, status: status(of: record, store: store))
    }

    /// Loads a container or fails with runc's message.
    static func load(_ id: String, ctx: RuntimeContext) throws(RuntimeError) -> ContainerRecord {
        try StateStore.validate(id: id)
        guard let record = try ctx.store.load(id) else {
            throw RuntimeError("container \(id) does not exist", errno: ENOENT, stage: "lookup")
        }
        return record
    }

    /// Takes the container's lock and loads its record: every state-changing operation starts here.
    static func lockAndLoad(_ id: String, ctx: RuntimeContext) throws(RuntimeError) -> (ContainerLock, ContainerRecord) {
        guard let lock = try ctx.store.lock(id) else { throw RuntimeError("container \(id) does not exist", errno: ENOENT, stage: "lookup") }
        return (lock, try load(id, ctx: ctx))
    }

    public static func view(id: String, ctx: RuntimeContext) throws(RuntimeError) -> ContainerView {
        view(try load(id, ctx: ctx), store: ctx.store)
    }

    public static func list(ctx: RuntimeContext) -> [ContainerView] {
        ctx.store.ids().compactMap { id in
            guard let record = try? ctx.store.load(id) else { return nil }
            return view(record, store: ctx.store)
        }
    }
}
