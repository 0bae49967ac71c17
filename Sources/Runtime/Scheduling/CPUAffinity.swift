import HostOS
import Glibc
import CShim
import OCI

/// The CPUs a container process may run on, set by the parent. A new process inherits the
/// affinity of whoever started swrunc (`taskset -c 0 swrunc run` would pin the container); runc
/// resets it once the process is in its cgroup, so it gets every CPU its cpuset allows. An exec
/// can ask for an initial affinity (for the setup before it joins the cgroup) and a final one.
enum CPUAffinity {
    /// Every CPU the kernel could have (runc's bound): sched_setaffinity narrows it to the CPUs
    /// that exist and the task's cpuset, without forgetting the others should the cpuset grow.
    private static let all = [UInt64](repeating: ~0, count: CPUSet.maxID / 64)

    static func set(_ pid: Int32, _ cpus: CPUSet) -> Bool {
        cpus.words.withUnsafeBufferPointer { cshim_sched_setaffinity(pid, $0.baseAddress, $0.count) } == 0
    }

    /// Resets to every CPU; a failure is only worth a warning (the process keeps what it inherited).
    static func reset(_ pid: Int32) -> Bool {
        all.withUnsafeBufferPointer { cshim_sched_setaffinity(pid, $0.baseAddress, $0.count) } == 0
    }

    /// The first 64 CPUs of a task's affinity as a hex mask, for the debug log.
    static func describe(_ pid: Int32) -> String {
        var mask = [UInt64](repeating: 0, count: CPUSet.maxID / 64)
        let n = mask.withUnsafeMutableBufferPointer { cshim_sched_getaffinity(pid, $0.baseAddress, $0.count) }
        if n < 0 { return "unknown (\(String(cString: strerror(errno))))" }
        return "0x" + String(mask[0], radix: 16)
    }

    /// Runs `body` with this thread pinned to `cpus` (a child forked inside inherits it), then
    /// restores what it had.
    static func with<T>(_ cpus: CPUSet?, _ body: () throws(RuntimeError) -> T) throws(RuntimeError) -> T {
        guard let cpus else { return try body() }
        var saved = [UInt64](repeating: 0, count: CPUSet.maxID / 64)
        let had = saved.withUnsafeMutableBufferPointer { cshim_sched_getaffinity(0, $0.baseAddress, $0.count) } > 0
        guard set(0, cpus) else { throw .sys("error setting initial CPU affinity") }
        defer { if had { _ = saved.withUnsafeBufferPointer { cshim_sched_setaffinity(0, $0.baseAddress, $0.count) } } }
        return try body()
    }
}
