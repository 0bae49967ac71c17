// The config `swrunc spec` writes: the same shape as `runc spec`, so bundles move between runtimes.

extension Spec {
    public static func defaultSpec(rootless: Bool = false, hostUID: UInt32 = 0, hostGID: UInt32 = 0) -> Spec {
        let caps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
        var process = Process(
            terminal: true, user: User(uid: 0, gid: 0), args: ["sh"],
            env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
            cwd: "/",
            capabilities: Capabilities(bounding: caps, effective: caps, permitted: caps),
            rlimits: [Rlimit(type: "RLIMIT_NOFILE", hard: 1024, soft: 1024)],
            noNewPrivileges: true)
        process.terminal = true
        var devpts = ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]
        if !rootless { devpts.append("gid=5") }
        let sys = rootless
            ? Mount(destination: "/sys", type: "none", source: "/sys", options: ["rbind", "nosuid", "noexec", "nodev", "ro"])
            : Mount(destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"])
        let mounts = [
            Mount(destination: "/proc", type: "proc", source: "proc"),
            Mount(destination: "/dev", type: "tmpfs", source: "tmpfs",
                  options: ["nosuid", "strictatime", "mode=755", "size=65536k"]),
            Mount(destination: "/dev/pts", type: "devpts", source: "devpts", options: devpts),
            Mount(destination: "/dev/shm", type: "tmpfs", source: "shm",
                  options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
            Mount(destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"]),
            sys,
            Mount(destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup",
                  options: ["nosuid", "noexec", "nodev", "relatime", "ro"]),
        ]
        var linux = Linux()
        if rootless {
            linux.uidMappings = [IDMapping(containerID: 0, hostID: hostUID, size: 1)]
            linux.gidMappings = [IDMapping(containerID: 0, hostID: hostGID, size: 1)]
            linux.namespaces = ["pid", "ipc", "uts", "mount", "user"].map { Namespace(type: $0) }
        } else {
            var resources = Resources()
            resources.devices = [DeviceCgroupRule(allow: false, access: "rwm")]
            linux.resources = resources
            linux.namespaces = ["pid", "network", "ipc", "uts", "mount"].map { Namespace(type: $0) }
        }
        linux.maskedPaths = ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                             "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
                             "/proc/scsi"]
        linux.readonlyPaths = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
        return Spec(process: process, root: Root(path: "rootfs", readonly: true), hostname: "swrunc",
                    mounts: mounts, linux: linux)
    }
}
