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
        try setFrozen(record, true)
    }

    /// `swrunc resume`.
    public static func resume(id: String, ctx: RuntimeContext) throws(RuntimeError) {
        let (lock, record) = try lockAndLoad(id, ctx: ctx)
        defer { lock.release() }
        guard status(of: record, store: ctx.store) == .paused else { throw RuntimeError("container \(id) is not paused") }
        try setFrozen(record, false)
    }

    static func setFrozen(_ record: ContainerRecord, _ frozen: Bool) throws(RuntimeError) {
        if let freezer = record.cgroupPaths["freezer"] {
            let file = "\(freezer)/freezer.state"
            try FileIO.writeExisting(file, frozen ? "FROZEN" : "THAWED")
            // FREEZING is transitional: wait (bounded) until the kernel reports the final state.
            for _ in 0..<1000 {
                let state = (try? FileIO.readString(file).trimmed()) ?? ""
                if state == (frozen ? "FROZEN" : "THAWED") { return }
                if frozen { try FileIO.writeExisting(file, "FROZEN") }
                usleep(1000)
            }
            throw RuntimeError("\(frozen ? "freezing" : "thawing") \(freezer) did not complete")
        } else if let unified = record.cgroupPaths[""] {
            try FileIO.writeExisting("\(unified)/cgroup.freeze", frozen ? "1" : "0")
            for _ in 0..<1000 {
                let events = (try? FileIO.readString("\(unified)/cgroup.events")) ?? ""
                if events.contains(frozen ? "frozen 1" : "frozen 0") { return }
                usleep(1000)
            }
            throw RuntimeError("\(frozen ? "freezing" : "thawing") \(unified) did not complete")
        }
        throw RuntimeError("no freezer: the container's cgroup has neither a v1 freezer nor cgroup v2")
    }

    /// `swrunc ps`: the host pids of every process in the container's cgroup.
    public static func pids(id: String, ctx: RuntimeContext) throws(RuntimeError) -> [Int32] {
        let record = try load(id, ctx: ctx)
        return FSCgroupManager(paths: record.cgroupPaths).pids()
    }
}

extension Container {
    /// The container's cgroup, for `events`.
    public static func cgroup(id: String, ctx: RuntimeContext) throws(RuntimeError) -> FSCgroupManager {
        FSCgroupManager(paths: try load(id, ctx: ctx).cgroupPaths)
    }

    public static func isStopped(id: String, ctx: RuntimeContext) -> Bool {
        guard let record = try? ctx.store.load(id) else { return true }
        return status(of: record, store: ctx.store) == .stopped
    }
}
