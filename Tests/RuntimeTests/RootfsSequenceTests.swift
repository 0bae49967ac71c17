import CShim
import Foundation
import Glibc
import OCI
import Testing
@testable import Runtime

/// The rootfs setup, the device nodes and the root switch through the syscall seam: the exact
/// calls, in order, for representative configs — without root and without touching the host's
/// mounts (the real-kernel tests check what those calls do).
@Suite("syscall sequences of the rootfs setup and the root switch")
struct RootfsSequenceTests {
    /// A scratch rootfs (an empty /etc/hosts and /proc/sys in it) and a file outside to bind.
    func scratch() throws -> (rootfs: String, hostFile: String) {
        let base = NSTemporaryDirectory() + "swrunc-seq-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: base + "/rootfs/etc", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: base + "/rootfs/proc/sys", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: base + "/rootfs/etc/hosts", contents: Data())
        _ = FileManager.default.createFile(atPath: base + "/hosts", contents: Data("127.0.0.1 localhost\n".utf8))
        return (base + "/rootfs", base + "/hosts")
    }

    func mounter(_ sys: RecordingSyscalls, _ root: SafeRoot, userNamespace: Bool = false) -> Mounter {
        Mounter(sys: sys, root: root, bundle: "/", inUserNamespace: userNamespace, cgroupNamespace: false,
                cgroupPaths: [:], cgroupLayout: nil, mountLabel: nil)
    }

    @Test func runcDefaultMountsInConfigOrder() throws {
        let (rootfs, hostFile) = try scratch()
        defer { try? FileManager.default.removeItem(atPath: (rootfs as NSString).deletingLastPathComponent) }
        let sys = RecordingSyscalls(root: rootfs)
        let root = try SafeRoot(path: rootfs)
        defer { root.close() }
        let mounts = [
            Mount(destination: "/proc", type: "proc", source: "proc"),
            Mount(destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"]),
            Mount(destination: "/dev/pts", type: "devpts", source: "devpts",
                  options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]),
            Mount(destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"]),
            Mount(destination: "/etc/hosts", type: "bind", source: hostFile, options: ["rbind", "ro"]),
            Mount(destination: "/run", type: "tmpfs", source: "tmpfs", options: ["ro", "nodev"]),
        ]
        let later = try mounter(sys, root).mountAll(PlannedMount.plan(mounts))
        #expect(sys.calls == [
            "mount proc /proc proc []",
            "mount tmpfs /dev tmpfs [nosuid,strictatime] mode=755,size=65536k",
            "mount devpts /dev/pts devpts [nosuid,noexec] newinstance,ptmxmode=0666,mode=0620,gid=5",
            "mount sysfs /sys sysfs [ro,nosuid,nodev,noexec]",
            // A bind mount takes ro only through a remount of itself.
            "mount \(hostFile) /etc/hosts bind [bind,rec]",
            "mount - /etc/hosts - [ro,remount,bind]",
            // A read-only tmpfs is mounted writable; it goes read-only after the devices and hooks.
            "mount tmpfs /run tmpfs [nodev]",
        ])
        #expect(later.map(\.destination) == ["/run"])
        let after = RecordingSyscalls(root: rootfs)
        try Mounter.remountReadonly(after, later, root: root)
        #expect(after.calls == ["mount - /run - [ro,nodev,remount,bind]"])
    }

    @Test func propagationAndRecursiveAttributes() throws {
        let (rootfs, hostFile) = try scratch()
        defer { try? FileManager.default.removeItem(atPath: (rootfs as NSString).deletingLastPathComponent) }
        let sys = RecordingSyscalls(root: rootfs)
        let root = try SafeRoot(path: rootfs)
        defer { root.close() }
        _ = try mounter(sys, root).mountAll(PlannedMount.plan([Mount(destination: "/etc/hosts", type: "bind", source: hostFile,
                                                                     options: ["bind", "rslave", "rro"])]))
        #expect(sys.calls == [
            "mount \(hostFile) /etc/hosts bind [bind]",
            "mount - /etc/hosts - [rec,slave]",
            "mount_setattr /etc/hosts set=\(MOUNT_ATTR_RDONLY) clear=0",
        ])
    }

    @Test func deviceNodesOrBindsInAUserNamespace() throws {
        let (rootfs, _) = try scratch()
        defer { try? FileManager.default.removeItem(atPath: (rootfs as NSString).deletingLastPathComponent) }
        let root = try SafeRoot(path: rootfs)
        defer { root.close() }
        let sys = RecordingSyscalls(root: rootfs)
        let fuse = DeviceNode(Device(type: "c", path: "/dev/fuse", major: 10, minor: 229, fileMode: 0o600, uid: 7, gid: 8))
        try DeviceSetup(sys: sys, root: root, inUserNamespace: false).create([DeviceSetup.defaults[0], fuse], replaceExisting: true)
        #expect(sys.calls == ["mknod /dev/null 20666 1:3", "chown /dev/null 0:0", "mknod /dev/fuse 20600 10:229", "chown /dev/fuse 7:8"])
        // A user namespace may not mknod: the host's node is bound onto a file in its place.
        let userns = RecordingSyscalls(root: rootfs)
        try DeviceSetup(sys: userns, root: root, inUserNamespace: true).create([DeviceSetup.defaults[1]], replaceExisting: true)
        #expect(userns.calls == ["mount /dev/zero /dev/zero bind [bind]"])
    }

    @Test func pivotRootOrder() throws {
        let (rootfs, _) = try scratch()
        defer { try? FileManager.default.removeItem(atPath: (rootfs as NSString).deletingLastPathComponent) }
        let sys = RecordingSyscalls(root: rootfs)
        try RootSwitch.prepare(sys, rootfs: rootfs, propagation: nil)
        try RootSwitch.pivot(sys, into: rootfs)
        #expect(sys.calls == [
            "mount - / - [rec,slave]",
            "mount / / bind [bind,rec]",
            "fchdir /",
            "pivot_root . .",
            "fchdir \(sys.shown("/"))",
            // The old root is made a slave before it is detached: the unmount must not reach the host.
            "mount - . - [rec,slave]",
            "umount . \(MNT_DETACH)",
            "chdir /",
        ])
        // rshared can only be set once the switch is done; rprivate is set before it.
        let shared = RecordingSyscalls(root: rootfs)
        try RootSwitch.finishPropagation(shared, ("rshared", UInt(MS_SHARED) | UInt(MS_REC)))
        try RootSwitch.finishPropagation(shared, ("rprivate", UInt(MS_PRIVATE) | UInt(MS_REC)))
        #expect(shared.calls == ["mount - / - [rec,shared]"])
    }

    @Test func maskedAndReadonlyPaths() throws {
        let (rootfs, _) = try scratch()
        defer { try? FileManager.default.removeItem(atPath: (rootfs as NSString).deletingLastPathComponent) }
        try FileManager.default.createDirectory(atPath: rootfs + "/proc/acpi", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: rootfs + "/proc/scsi", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: rootfs + "/proc/kcore", contents: Data())
        let root = try SafeRoot(path: rootfs)
        defer { root.close() }
        let sys = RecordingSyscalls(root: rootfs)
        var protection = PathProtection(sys, root: root)
        for path in ["/proc/acpi", "/proc/kcore", "/proc/scsi", "/proc/acpi", "/proc/missing"] { try protection.mask(path) }
        try protection.readonly("/proc/sys")
        #expect(sys.calls == [
            "mount tmpfs /proc/acpi tmpfs [ro] size=0k,mode=755",
            "mount /dev/null /proc/kcore - [bind]",
            // One tmpfs serves every masked directory; a path listed twice or missing is skipped.
            "mount /proc/acpi /proc/scsi - [bind]",
            "mount /proc/sys /proc/sys - [bind,rec]",
            "mount - /proc/sys - [ro,remount,bind,rec]",
        ])
    }

    /// What the parent resolves for the init: rlimits to resource numbers (unknown names left out,
    /// indexes kept for errors), sysctls to their files in key order, mount options to flags.
    @Test func theParentResolvesForTheInit() {
        let limits = ResolvedRlimit.resolve([Rlimit(type: "RLIMIT_NOFILE", hard: 1024, soft: 512),
                                             Rlimit(type: "RLIMIT_BOGUS", hard: 1, soft: 1), Rlimit(type: "RLIMIT_NPROC", hard: 9, soft: 9)])
        #expect(limits.map(\.index) == [0, 2] && limits.map(\.resource) == [Int32(RLIMIT_NOFILE.rawValue), 6])
        let sysctls = SysctlWrite.plan(["net.ipv4.ip_forward": "1", "kernel.shm_rmid_forced": "1"])
        #expect(sysctls.map(\.path) == ["/proc/sys/kernel/shm_rmid_forced", "/proc/sys/net/ipv4/ip_forward"])
        let planned = PlannedMount.plan([Mount(destination: "/data", type: "bind", source: "/src", options: ["rbind", "ro", "nosuid"])])
        #expect(planned[0].options.isBind && planned[0].options.flags & UInt(MS_REC) != 0 && planned[0].options.bindRemountFlags & UInt(MS_RDONLY) != 0)
    }

    /// The container-wide values and the program, as the init receives them: empty names left
    /// out, propagation as its flag, runc's default devices minus those the config names, the
    /// hooks the parent runs reduced to a flag, a repeated variable merged.
    @Test func theInitGetsResolvedValuesOnly() {
        var spec = Spec()
        spec.hostname = ""
        spec.domainname = "example"
        spec.root = Root(path: "rootfs", readonly: true)
        var linux = Linux()
        linux.rootfsPropagation = "rshared"
        linux.devices = [Device(type: "c", path: "/dev/null", major: 1, minor: 3)]
        linux.maskedPaths = ["/proc/kcore"]
        spec.linux = linux
        spec.hooks = Hooks(createRuntime: [Hook(path: "/bin/true")])
        spec.mounts = [Mount(destination: "/dev", type: "bind", source: "/dev", options: ["rbind"])]
        let container = ResolvedContainer(spec)
        #expect(container.hostname == nil && container.domainname == "example" && container.readonlyRoot)
        #expect(container.rootfsPropagation?.flag == UInt(MS_SHARED) | UInt(MS_REC))
        #expect(container.devBound && container.hasRuntimeHooks && container.createContainerHooks.isEmpty)
        #expect(!container.defaultDevices.contains { $0.path == "/dev/null" } && container.defaultDevices.count == DeviceSetup.defaults.count - 1)
        #expect(container.configDevices.map(\.path) == ["/dev/null"] && container.maskedPaths == ["/proc/kcore"])
        // Devices as the file type, permissions and number mknod takes.
        let fifo = DeviceNode(Device(type: "p", path: "/dev/p", fileMode: 0o1640))
        let block = DeviceNode(Device(type: "b", path: "/dev/b", major: 8, minor: 1))
        #expect(fifo.kind == S_IFIFO && fifo.permissions == 0o1640 && block.kind == S_IFBLK && block.permissions == 0o666)
        #expect(block.device == dev_t(cshim_makedev(8, 1)) && container.configDevices[0].device == dev_t(cshim_makedev(1, 3)))

        var process = OCI.Process(terminal: true, args: ["sh"], env: ["A=1", "PATH=/bin", "A=2"])
        process.noNewPrivileges = true
        let resolved = ResolvedProcess(process, capabilities: CapabilitySets())
        #expect(resolved.env == ["A=2", "PATH=/bin"] && resolved.terminal && resolved.noNewPrivileges && resolved.args == ["sh"])
    }

    /// The init's credential switch: the bounding set first (every capability not kept, while
    /// still privileged), keep-caps around the user switch (groups, gid, uid in that order), the
    /// sets as the user, ambient last and only after the ambient set was cleared.
    @Test func credentialSwitchOrder() throws {
        let sys = RecordingSyscalls(root: "/")
        let caps = CapabilitySets(Capabilities(bounding: ["CAP_CHOWN", "CAP_KILL"], effective: ["CAP_KILL"],
                                               inheritable: ["CAP_KILL"], permitted: ["CAP_KILL"], ambient: ["CAP_KILL"]))
        var user = User(uid: 1000, gid: 1001)
        user.additionalGids = [5]
        try ProcessCredentials.becomeUser(sys, user, capabilities: caps, allowSetgroups: true)
        let drops = sys.calls.prefix { $0.hasPrefix("drop_bound ") }
        #expect(drops.count == Int(CapabilitySets.lastCap) + 1 - 2 && !drops.contains("drop_bound 0") && !drops.contains("drop_bound 5"))
        #expect(Array(sys.calls.dropFirst(drops.count)) == [
            "prctl \(PR_SET_KEEPCAPS) 1 0",
            "setgroups [5]", "setresgid 1001", "setresuid 1000",
            "prctl \(PR_SET_KEEPCAPS) 0 0",
            "capset e=[5] p=[5] i=[5]",
            "prctl \(PR_CAP_AMBIENT) \(PR_CAP_AMBIENT_CLEAR_ALL) 0",
            "prctl \(PR_CAP_AMBIENT) \(PR_CAP_AMBIENT_RAISE) 5",
        ])
        // In a user namespace whose setgroups is denied, groups are left alone.
        let denied = RecordingSyscalls(root: "/")
        try ProcessCredentials.switchUser(denied, user, allowSetgroups: false)
        #expect(denied.calls == ["setresgid 1001", "setresuid 1000"])
    }

    /// The init's last steps: fds closed on exec (the preserved ones kept), signals reset, the
    /// final RLIMIT_NOFILE below the runtime's floor, the seccomp filter, then execve — nothing
    /// between the filter and execve.
    @Test func seccompGoesOnLastBeforeExecve() throws {
        var process = OCI.Process()
        process.args = ["/bin/app", "x"]
        process.rlimits = [Rlimit(type: "RLIMIT_NOFILE", hard: 32, soft: 32)]
        let plan = InitPlan(id: "c", bundle: "/b", rootfs: "/b/rootfs", process: ResolvedProcess(process, capabilities: CapabilitySets()),
                            namespaces: NamespacePlan([]), cgroupPaths: [:], noPivot: false, noNewKeyring: false,
                            preserveFDs: 2, fifoFD: -1, consoleFD: -1)
        let sys = RecordingSyscalls(root: "/")
        let filter = try SeccompFilter(Seccomp(defaultAction: "SCMP_ACT_ALLOW", syscalls: [SeccompSyscall(names: ["mkdir"], action: "SCMP_ACT_ERRNO")]))
        try ContainerInit.finalSteps(sys, plan, path: "/bin/app", seccomp: filter)
        let failure = errno
        #expect(sys.calls == ["close_range 5 keeping 2", "reset signals", "prlimit 7 32 32", "seccomp", "execve /bin/app [\"/bin/app\", \"x\"]"])
        #expect(failure == ENOENT, "execve's errno reaches the caller's error line")
    }
}
