import JSON
import HostOS
import Glibc
import CShim
import OCI

/// Performs the spec's mounts inside the new mount namespace, before pivot_root. Targets are
/// always resolved through `SafeRoot` and mounted via their /proc/self/fd path.
struct Mounter {
    /// Where the mount calls go (the kernel, or a test's recorder).
    let sys: any Syscalls
    let root: SafeRoot
    let bundle: String
    let inUserNamespace: Bool
    let cgroupNamespace: Bool
    let cgroupPaths: [String: String]
    let cgroupLayout: CgroupLayout?
    let mountLabel: String?
    /// Asks the runtime's parent for the detached tree of bind mount `mounts[n]` (DetachedMount).
    var parentMountSource: ((Int) throws(RuntimeError) -> Int32)? = nil

    /// A read-only tmpfs (or /dev) is mounted writable and made read-only at the end of the
    /// rootfs setup, as runc does: the mounts, device nodes and console under it come first.
    struct ReadonlyLater {
        let destination: String
        /// The mount's flags, read-only included, for a bind remount that keeps them.
        let flags: UInt
    }

    /// Errors name the mount's place in the config: `mounts[3]: mount devpts … : Invalid argument`.
    /// Returns the mounts still to be made read-only (`remountReadonly`).
    func mountAll(_ mounts: [PlannedMount]) throws(RuntimeError) -> [ReadonlyLater] {
        var later: [ReadonlyLater] = []
        for (i, planned) in mounts.enumerated() {
            do {
                if let ro = try self.mount(planned.mount, options: planned.options, index: i) { later.append(ro) }
            } catch {
                throw error.within("mounts[\(i)]").at(path: planned.mount.destination)
            }
        }
        return later
    }

    /// The second half of `ReadonlyLater`, inside the container's root after the switch.
    static func remountReadonly(_ sys: any Syscalls, _ later: [ReadonlyLater], root: SafeRoot) throws(RuntimeError) {
        for ro in later {
            let fd = try root.open(ro.destination)
            defer { close(fd) }
            try doMount(sys, "", procFD(fd), "", UInt(MS_BIND) | UInt(MS_REMOUNT) | ro.flags, nil,
                        what: "remount \(Excerpt.of(ro.destination, limit: 200)) read-only")
        }
    }

    func mount(_ m: OCI.Mount, options: MountOptions, index: Int) throws(RuntimeError) -> ReadonlyLater? {
        let dest = containerPath(m.destination)
        let type = m.type ?? ""
        if DetachedMount.isIDMapped(m, options: options) {
            try attachFromParent(index: index, dest: dest, options: options)
            return nil
        }
        if type == "cgroup" || type == "cgroup2" {
            try mountCgroups(dest, options: options)
            return nil
        }
        if options.isBind || type == "bind" {
            try bindMount(m, index: index, dest: dest, options: options)
            return nil
        }
        if type == "proc" || type == "sysfs" {
            // A symlink (or a file) here would put procfs/sysfs where the image chose (runc refuses too).
            if let existing = try? root.open(dest, followLast: false) {
                var st = stat()
                let kind = fstat(existing, &st) == 0 ? st.st_mode & S_IFMT : S_IFDIR
                close(existing)
                if kind != S_IFDIR {
                    let what = kind == S_IFLNK ? "a symlink" : "not a directory"
                    throw RuntimeError("mount \(type) on \(Excerpt.of(dest, limit: 200)): filesystem \"\(type)\" must be mounted on ordinary directory (the destination is \(what))")
                }
            }
        }
        var data = options.data
        if type == "tmpfs", let existing = try? root.open(dest) {
            // A tmpfs over an existing directory takes its mode unless `mode=` says otherwise
            // (runc's rule; the later option wins in the kernel's parser).
            var st = stat()
            if fstat(existing, &st) == 0 { data.insert("mode=0" + String(st.st_mode & 0o7777, radix: 8), at: 0) }
            close(existing)
        }
        let dirFD = try root.mkdirAll(dest)
        defer { close(dirFD) }
        if let label = mountLabel, !label.isEmpty, ["tmpfs", "devpts", "mqueue", "shm"].contains(type) {
            data.append("context=\"\(label)\"")
        }
        var flags = options.flags & ~UInt(MS_REMOUNT)
        var later: ReadonlyLater? = nil
        if flags & UInt(MS_RDONLY) != 0 && (type == "tmpfs" || "/" + SafeRoot.relative(dest) == "/dev") {
            later = ReadonlyLater(destination: dest, flags: flags & ~(UInt(MS_BIND) | UInt(MS_REC)))
            flags &= ~UInt(MS_RDONLY)
        }
        if options.tmpcopyup {
            try tmpcopyup(dest, m: m, flags: flags, data: data)
            return later
        }
        try doMount(sys, m.source ?? type, procFD(dirFD), type, flags, data.joined(separator: ","),
                    what: "mount \(Excerpt.of(m.source ?? type)) (\(Excerpt.of(type))) on \(Excerpt.of(dest, limit: 200))")
        try applyAfter(dest: dest, options: options)
        return later
    }

    /// The destination as seen from inside the container. One that spells out the rootfs's host
    /// path is taken as the path below it, as runc takes it (old clients wrote them so).
    func containerPath(_ destination: String) -> String {
        let rootPrefix = root.path.hasSuffix("/") ? root.path : root.path + "/"
        if destination.hasPrefix(rootPrefix) { return "/" + destination.dropFirst(rootPrefix.count) }
        return destination.hasPrefix("/") ? destination : "/" + destination
    }

    private func bindMount(_ m: OCI.Mount, index: Int, dest: String, options: MountOptions) throws(RuntimeError) {
        guard var source = m.source, !source.isEmpty else {
            throw RuntimeError("bind mount on \(Excerpt.of(dest, limit: 200)): no source")
        }
        if !source.hasPrefix("/") { source = bundle + "/" + source }
        var st = stat()
        guard stat(source, &st) == 0 else {
            // The container's root may not reach what the host's root can (runc opens such
            // sources before entering the user namespace): the parent clones it instead.
            if (errno == EACCES || errno == EPERM) && inUserNamespace && parentMountSource != nil {
                return try attachFromParent(index: index, dest: dest, options: options)
            }
            throw .sys("bind mount source \(source)")
        }
        let target = try root.openMountTarget(dest, sourceMode: st.st_mode)
        defer { close(target) }
        let recursive = options.flags & UInt(MS_REC)
        try doMount(sys, source, procFD(target), "bind", UInt(MS_BIND) | recursive, nil,
                    what: "bind mount \(source) on \(Excerpt.of(dest, limit: 200))")
        if options.bindRemountFlags != 0 || options.clearedFlags != 0 {
            try remountBind(dest, flags: options.bindRemountFlags)
        }
        try applyAfter(dest: dest, options: options)
    }

    private func attachFromParent(index: Int, dest: String, options: MountOptions) throws(RuntimeError) {
        guard let parentMountSource else {
            throw RuntimeError("mount \(Excerpt.of(dest, limit: 200)): id-mapped mounts need the runtime's parent")
        }
        try DetachedMount.attach(sys, try parentMountSource(index), dest: dest, root: root)
        if options.bindRemountFlags != 0 || options.clearedFlags != 0 {
            try remountBind(dest, flags: options.bindRemountFlags)
        }
        try applyAfter(dest: dest, options: options)
    }

    /// A bind mount only takes ro/nosuid/… through a remount. In a user namespace the kernel
    /// refuses to clear flags the original mount has locked, so those are carried over.
    func remountBind(_ dest: String, flags: UInt) throws(RuntimeError) {
        let target = try root.open(dest)
        defer { close(target) }
        let base = UInt(MS_BIND) | UInt(MS_REMOUNT)
        if sys.mount("", procFD(target), "", base | flags, nil) == 0 { return }
        let first = errno
        var sv = statvfs()
        if first == EPERM, fstatvfs(target, &sv) == 0 {
            let locked = UInt(sv.f_flag) & (UInt(MS_NOSUID) | UInt(MS_NODEV) | UInt(MS_NOEXEC) | UInt(MS_RDONLY) |
                                             UInt(MS_NOATIME) | UInt(MS_NODIRATIME) | UInt(MS_RELATIME))
            if sys.mount("", procFD(target), "", base | flags | locked, nil) == 0 { return }
        }
        throw .sys("remount \(Excerpt.of(dest, limit: 200))", first)
    }

    private func applyAfter(dest: String, options: MountOptions) throws(RuntimeError) {
        guard !options.propagation.isEmpty || options.recursiveSet != 0 || options.recursiveClear != 0 else { return }
        let target = try root.open(dest)
        defer { close(target) }
        for p in options.propagation {
            try doMount(sys, "", procFD(target), "", p, nil, what: "set propagation of \(Excerpt.of(dest, limit: 200))")
        }
        if options.recursiveSet != 0 || options.recursiveClear != 0 {
            let rc = sys.mountSetattr(target, UInt32(AT_EMPTY_PATH) | AT_RECURSIVE, set: options.recursiveSet,
                                      clear: options.recursiveClear)
            if rc != 0 { throw .sys("mount_setattr \(Excerpt.of(dest, limit: 200))") }
        }
    }

    /// tmpcopyup: keep what the image had at the target by copying it into the new tmpfs.
    private func tmpcopyup(_ dest: String, m: OCI.Mount, flags: UInt, data: [String]) throws(RuntimeError) {
        let staging = "/tmp/swrunc-copyup-\(getpid())-\(Clock.monotonicNanos())"
        try FileIO.mkdirAll(staging, mode: 0o700)
        defer { _ = sys.umount(staging, Int32(MNT_DETACH)); rmdir(staging) }
        try doMount(sys, m.source ?? "tmpfs", staging, "tmpfs", flags, data.joined(separator: ","),
                    what: "mount tmpfs for \(Excerpt.of(dest, limit: 200))")
        // cp runs in a process of its own, which has none of our fds: it gets the directory's
        // real path, read back from the fd that was resolved inside the root.
        let target = try root.open(dest)
        var buf = [CChar](repeating: 0, count: 4097)
        let n = readlink(procFD(target), &buf, 4096)
        close(target)
        guard n > 0 else { throw .sys("tmpcopyup \(Excerpt.of(dest, limit: 200)): resolve the target") }
        let src = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let status = try? Spawn.run(["/bin/cp", "-a", src + "/.", staging + "/"])
        if status != .exited(0) { throw RuntimeError("tmpcopyup \(Excerpt.of(dest, limit: 200)): copy failed") }
        let again = try root.open(dest)
        defer { close(again) }
        try doMount(sys, staging, procFD(again), "", UInt(MS_MOVE), nil, what: "move tmpfs onto \(Excerpt.of(dest, limit: 200))")
    }

    /// cgroup mounts: a tmpfs holding one directory per hierarchy. With a cgroup namespace each is
    /// a fresh cgroup mount (the namespace scopes it); without, the container's own directories
    /// are bind-mounted so nothing above them is visible.
    private func mountCgroups(_ dest: String, options: MountOptions) throws(RuntimeError) {
        guard let layout = cgroupLayout else { throw RuntimeError("mount cgroup on \(Excerpt.of(dest, limit: 200)): host cgroup layout unknown") }
        let flags = options.flags & ~(UInt(MS_RDONLY) | UInt(MS_BIND) | UInt(MS_REC))
        if layout.isUnifiedOnly {
            let dir = try root.mkdirAll(dest)
            defer { close(dir) }
            if cgroupNamespace {
                try doMount(sys, "cgroup2", procFD(dir), "cgroup2", options.flags, nil, what: "mount cgroup2 on \(Excerpt.of(dest, limit: 200))")
            } else {
                try doMount(sys, cgroupPaths[""] ?? "/sys/fs/cgroup", procFD(dir), "bind", UInt(MS_BIND) | UInt(MS_REC), nil,
                            what: "bind cgroup on \(Excerpt.of(dest, limit: 200))")
                if options.flags & UInt(MS_RDONLY) != 0 { try remountBind(dest, flags: options.bindRemountFlags) }
            }
            return
        }
        let dir = try root.mkdirAll(dest)
        try doMount(sys, "tmpfs", procFD(dir), "tmpfs", flags, "mode=755", what: "mount tmpfs on \(Excerpt.of(dest, limit: 200))")
        close(dir)
        var hierarchies = layout.v1.map { ($0.mountPoint, $0.controllers.first ?? "", "cgroup", $0.mountOptions) }
        if let u = layout.unified { hierarchies.append((u.mountPoint, "", "cgroup2", u.mountOptions)) }
        for (mountPoint, key, fstype, _) in hierarchies {
            let name = mountPoint.split(separator: "/").last.map(String.init) ?? key
            let sub = dest + "/" + name
            let subFD = try root.mkdirAll(sub)
            defer { close(subFD) }
            if cgroupNamespace {
                var data: String? = nil
                if fstype == "cgroup" {
                    let h = layout.v1.first { $0.mountPoint == mountPoint }
                    data = h?.controllers.joined(separator: ",")
                }
                try doMount(sys, "cgroup", procFD(subFD), fstype, flags | (options.flags & UInt(MS_RDONLY)), data,
                            what: "mount \(fstype) on \(sub)")
            } else {
                let hostDir = cgroupPaths[key] ?? mountPoint
                try doMount(sys, hostDir, procFD(subFD), "bind", UInt(MS_BIND) | UInt(MS_REC), nil,
                            what: "bind cgroup \(hostDir) on \(sub)")
                try remountBind(sub, flags: flags | (options.flags & UInt(MS_RDONLY)))
            }
        }
        // A read-only cgroup mount: the tmpfs holding the hierarchies goes read-only last, after
        // each hierarchy in it was made read-only above.
        if options.flags & UInt(MS_RDONLY) != 0 {
            let again = try root.open(dest)
            defer { close(again) }
            try doMount(sys, "", procFD(again), "", UInt(MS_REMOUNT) | UInt(MS_RDONLY) | flags, "mode=755",
                        what: "remount \(Excerpt.of(dest, limit: 200)) read-only")
        }
    }
}
