import Glibc
import OCI

/// The container-wide part of the config the init acts on (create and run; exec joins what is
/// there and has none), resolved by the parent before it forks.
struct ResolvedContainer {
    var hostname: String?
    var domainname: String?
    /// linux.rootfsPropagation: its name (for messages) and its mount flag.
    var rootfsPropagation: (name: String, flag: UInt)?
    var readonlyRoot = false
    var mountLabel: String?
    /// The spec's mounts with their options parsed.
    var mounts: [PlannedMount] = []
    /// Whether a bind mount covers /dev: then the init creates no device nodes.
    var devBound = false
    /// runc's default nodes the config does not name itself (made, replacing what is there),
    /// then the config's own (kept when already there).
    var defaultDevices: [DeviceNode] = []
    var configDevices: [DeviceNode] = []
    /// linux.sysctl as files to write, in key order.
    var sysctls: [SysctlWrite] = []
    var readonlyPaths: [String] = []
    var maskedPaths: [String] = []
    /// prestart or createRuntime hooks exist: the init asks the parent to run them before pivot.
    var hasRuntimeHooks = false
    var createContainerHooks: [Hook] = []
    var startContainerHooks: [Hook] = []

    init() {}

    init(_ spec: Spec) {
        let linux = spec.linux ?? Linux()
        hostname = spec.hostname.flatMap { $0.isEmpty ? nil : $0 }
        domainname = spec.domainname.flatMap { $0.isEmpty ? nil : $0 }
        if let name = linux.rootfsPropagation, let flag = MountOptions.propagationTable[name] {
            rootfsPropagation = (name, flag)
        }
        readonlyRoot = spec.root?.readonly == true
        mountLabel = linux.mountLabel
        mounts = PlannedMount.plan(spec.mounts ?? [])
        devBound = mounts.contains { $0.mount.destination == "/dev" && $0.options.isBind }
        let devices = linux.devices ?? []
        defaultDevices = DeviceSetup.defaults.filter { d in !devices.contains { $0.path == d.path } }
        configDevices = devices.map(DeviceNode.init)
        sysctls = SysctlWrite.plan(linux.sysctl)
        readonlyPaths = linux.readonlyPaths ?? []
        maskedPaths = linux.maskedPaths ?? []
        let hooks = spec.hooks ?? Hooks()
        hasRuntimeHooks = !(hooks.prestart ?? []).isEmpty || !(hooks.createRuntime ?? []).isEmpty
        createContainerHooks = hooks.createContainer ?? []
        startContainerHooks = hooks.startContainer ?? []
    }
}
