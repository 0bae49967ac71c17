import Glibc
import OCI

/// Everything the container's bootstrap needs, resolved by the parent before it forks. The
/// children read it from their copy of the parent's memory: nothing is serialised.
struct InitPlan {
    var id: String
    var bundle: String
    var rootfs: String
    /// The program to exec.
    var process: ResolvedProcess
    /// What the init sets up for a new container (empty for `exec`).
    var container = ResolvedContainer()
    /// The config's annotations, for the state hooks and a seccomp agent see.
    var annotations: [String: String]?
    var namespaces: NamespacePlan
    var cgroupPaths: [String: String]
    /// The host's cgroup mounts as the parent read them (the cgroup mount in the rootfs needs them).
    var cgroupLayout: CgroupLayout?
    var noPivot: Bool
    var noNewKeyring: Bool
    /// Extra fds (3, 4, …) passed through to the container process.
    var preserveFDs: Int
    /// O_PATH fd of the exec fifo; -1 for `exec` and for `run`, which need no start gate.
    var fifoFD: Int32
    /// Connected `--console-socket`, or -1.
    var consoleFD: Int32
    /// The console goes to swrunc itself (run/exec with a terminal and no --console-socket).
    var consoleIsOurs = false
    /// `exec` into a running container: join everything, set up only the process.
    var isExec = false
    /// False for a config without `process`: the container is set up but can never be started.
    var hasProcess = true
    /// Compiled by the parent; loaded by the init.
    var seccomp: SeccompFilter?
    /// Scheduler, I/O priority, personality, memory policy: resolved by the parent, applied by the init.
    var settings = ProcessSettings()
    /// linux.uidMappings and gidMappings, written by the parent for a new user namespace.
    var uidMappings: [IDMapping] = []
    var gidMappings: [IDMapping] = []
    /// linux.timeOffsets, written by the parent for a new time namespace.
    var timeOffsets: [String: TimeOffset] = [:]
    /// linux.resources.memory.limit, named when the init is OOM-killed during setup.
    var memoryLimit: Int64?
    /// `exec` only: the CPUs the process starts on and ends up on (nil: every CPU its cpuset allows).
    var execAffinity: ResolvedCPUAffinity?
    /// The runtime runs without host privileges (its child must let it write the id maps).
    var rootlessParent = geteuid() != 0
    /// The runtime itself runs in a user namespace (started by rootless podman, say).
    var runtimeInUserNamespace = false
    /// `--debug`: the parent logs the bootstrap's milestones.
    var debugLog: Logger?
}
