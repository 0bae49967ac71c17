import HostOS
import Glibc
import CShim
import OCI

/// The kernel settings a container process carries besides credentials: scheduling policy, I/O
/// priority, personality and NUMA memory policy. Resolved by the parent from the config (an exec
/// process takes the config's scheduler and I/O priority unless its own document sets them, as
/// runc does) and applied by the init while it is still privileged, before seccomp and the
/// capability drop (runc's order).
struct ProcessSettings {
    var scheduler: ResolvedScheduler?
    var ioPriority: Int32?
    var personality: UInt?
    var memoryPolicy: ResolvedMemoryPolicy?
    /// A cpuset is configured: the kernel refuses some policies (SCHED_DEADLINE) to a task that
    /// may not run on every CPU, and the error says why.
    var cpusetLimited = false

    init() {}

    /// `configProcess` is the container's own process when `process` is an exec's.
    init(spec: Spec, process: OCI.Process, configProcess: OCI.Process? = nil) throws(RuntimeError) {
        do throws(SpecError) {
            if let s = process.scheduler ?? configProcess?.scheduler {
                scheduler = try s.resolve(at: process.scheduler != nil ? "process.scheduler" : "config process.scheduler")
            }
            if let p = process.ioPriority ?? configProcess?.ioPriority {
                ioPriority = try p.resolve(at: process.ioPriority != nil ? "process.ioPriority" : "config process.ioPriority")
            }
            personality = try spec.linux?.personality?.resolve(at: "linux.personality")
            memoryPolicy = try spec.linux?.memoryPolicy?.resolve(at: "linux.memoryPolicy")
        } catch {
            throw RuntimeError(config: error)
        }
        cpusetLimited = !(spec.linux?.resources?.cpu?.cpus ?? "").isEmpty
    }

    func apply() throws(RuntimeError) {
        if let s = scheduler {
            if cshim_sched_setattr(0, s.policy, s.flags, s.nice, s.priority, s.runtime, s.deadline, s.period) != 0 {
                if errno == EPERM && cpusetLimited {
                    throw RuntimeError("process scheduler can't be used together with AllowedCPUs", errno: EPERM)
                }
                throw .sys("error setting scheduler")
            }
        }
        if let ioPriority {
            try check("failed to set io priority") { cshim_ioprio_set(1 /* IOPRIO_WHO_PROCESS */, 0, ioPriority) }
        }
        if let personality {
            try check("set personality") { cshim_personality(personality) }
        }
        if let policy = memoryPolicy {
            let words = policy.nodes?.words ?? []
            let rc = words.isEmpty ? cshim_set_mempolicy(policy.mode, nil, 0)
                : words.withUnsafeBufferPointer { cshim_set_mempolicy(policy.mode, $0.baseAddress, $0.count) }
            if rc != 0 { throw .sys("set_mempolicy") }
        }
    }
}
