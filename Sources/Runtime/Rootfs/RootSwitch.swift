import JSON
import HostOS
import Glibc
import CShim
import OCI

enum RootSwitch {
    /// Puts the mount namespace in the propagation the spec asks for and makes the rootfs a mount
    /// point of its own, which pivot_root requires.
    static func prepare(_ sys: any Syscalls, rootfs: String, propagation: UInt?) throws(RuntimeError) {
        var flag = UInt(MS_SLAVE) | UInt(MS_REC)
        // Unbindable waits until after the switch: the rootfs could not be bound onto itself.
        if let v = propagation, v & UInt(MS_UNBINDABLE) == 0 { flag = v }
        try doMount(sys, "", "/", "", flag, nil, what: "set propagation of /")
        if flag & UInt(MS_SHARED) != 0 {
            // pivot_root refuses a new root whose parent mount is shared.
            try makeParentPrivate(sys, of: rootfs)
        }
        try doMount(sys, rootfs, rootfs, "bind", UInt(MS_BIND) | UInt(MS_REC), nil, what: "bind rootfs \(rootfs) onto itself")
    }

    private static func makeParentPrivate(_ sys: any Syscalls, of path: String) throws(RuntimeError) {
        let info = try FileIO.readString("/proc/self/mountinfo")
        var best = "/"
        for line in info.split(separator: "\n") {
            let f = line.split(separator: " ")
            guard f.count > 4 else { continue }
            let mp = CgroupLayout.unescape(String(f[4]))
            if (path == mp || path.hasPrefix(mp == "/" ? "/" : mp + "/")) && mp.count > best.count { best = mp }
        }
        try doMount(sys, "", best, "", UInt(MS_PRIVATE), nil, what: "make \(best) private")
    }

    /// pivot_root into `rootfs` without a temporary directory: pivot onto itself, then detach the
    /// old root, which is stacked underneath.
    static func pivot(_ sys: any Syscalls, into rootfs: String) throws(RuntimeError) {
        let oldRoot = try check("open /") { cshim_open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC, 0) }
        defer { close(oldRoot) }
        let newRoot = try check("open \(rootfs)") { cshim_open(rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC, 0) }
        defer { close(newRoot) }
        try check("chdir \(rootfs)") { sys.fchdir(newRoot) }
        try check("pivot_root \(rootfs)") { sys.pivotRoot(".", ".") }
        try check("chdir old root") { sys.fchdir(oldRoot) }
        // Slave first so the unmount does not propagate back to the host.
        try doMount(sys, "", ".", "", UInt(MS_SLAVE) | UInt(MS_REC), nil, what: "make old root rslave")
        try check("unmount old root") { sys.umount(".", Int32(MNT_DETACH)) }
        try check("chdir /") { sys.chdir("/") }
    }

    /// A shared root can only be made after the switch: pivot_root refuses a shared mount, and the
    /// rootfs bind inherits the private parent; an unbindable one could not have been bound.
    /// Slave and private are already in place.
    static func finishPropagation(_ sys: any Syscalls, _ propagation: (name: String, flag: UInt)) throws(RuntimeError) {
        guard propagation.flag & (UInt(MS_SHARED) | UInt(MS_UNBINDABLE)) != 0 else { return }
        try doMount(sys, "", "/", "", propagation.flag, nil, what: "set rootfsPropagation \(propagation.name) on /")
    }

    /// --no-pivot: move the rootfs over / and chroot (for ramdisk roots, where pivot_root fails).
    /// The host's mounts stay in the namespace under the chroot, and a fully visible procfs or
    /// sysfs among them would let the container mount a fresh, unmasked proc (the kernel allows a
    /// new proc where one is fully visible): every proc and sysfs mount outside the rootfs is
    /// detached first, or covered by an empty read-only tmpfs where it cannot be, as runc does.
    static func moveRoot(_ sys: any Syscalls, into rootfs: String) throws(RuntimeError) {
        try hideHostProcAndSys(sys, outside: rootfs)
        try check("chdir \(rootfs)") { sys.chdir(rootfs) }
        try doMount(sys, rootfs, "/", "", UInt(MS_MOVE), nil, what: "move rootfs to /")
        try check("chroot") { sys.chroot(".") }
        try check("chdir /") { sys.chdir("/") }
    }

    static func hideHostProcAndSys(_ sys: any Syscalls, outside rootfs: String) throws(RuntimeError) {
        let info = try FileIO.readString("/proc/self/mountinfo")
        var points: [String] = []
        for line in info.split(separator: "\n") {
            let halves = line.split(separator: " - ", maxSplits: 1)
            let left = halves.first?.split(separator: " ") ?? []
            guard halves.count == 2, left.count > 4, let fstype = halves[1].split(separator: " ").first,
                  fstype == "proc" || fstype == "sysfs" else { continue }
            let point = CgroupLayout.unescape(String(left[4]))
            if point == rootfs || point.hasPrefix(rootfs + "/") { continue }
            points.append(point)
        }
        // Deepest first: a proc under a sysfs (or the reverse) goes before its parent.
        for point in points.sorted(by: { $0.count > $1.count }) {
            // Private first: with a shared rootfsPropagation the unmount would reach the host.
            _ = sys.mount("", point, "", UInt(MS_PRIVATE) | UInt(MS_REC), nil)
            if sys.umount(point, Int32(MNT_DETACH)) == 0 || errno == EINVAL || errno == ENOENT { continue }
            try doMount(sys, "tmpfs", point, "tmpfs", UInt(MS_RDONLY) | UInt(MS_NOSUID) | UInt(MS_NODEV) | UInt(MS_NOEXEC), "size=0",
                        what: "cover the host's \(point) for --no-pivot")
        }
    }

    /// Without a mount namespace of its own the container shares the host's mounts: no
    /// pivot_root (it would move the host's root), only chroot into the rootfs, whose mounts the
    /// parent recorded and `delete` removes.
    static func changeRoot(_ sys: any Syscalls, into rootfs: String) throws(RuntimeError) {
        try check("chdir \(rootfs)") { sys.chdir(rootfs) }
        try check("chroot \(rootfs)") { sys.chroot(".") }
        try check("chdir /") { sys.chdir("/") }
    }

    /// The id of the last (topmost) mount at `path` in this mount namespace.
    static func topMountID(at path: String) -> Int? {
        guard let info = try? FileIO.readString("/proc/self/mountinfo") else { return nil }
        var found: Int?
        for line in info.split(separator: "\n") {
            let f = line.split(separator: " ", maxSplits: 5)
            guard f.count > 4, CgroupLayout.unescape(String(f[4])) == path, let id = Int(f[0]) else { continue }
            found = id
        }
        return found
    }

    static func remountRootReadonly(_ sys: any Syscalls) throws(RuntimeError) {
        let flags = UInt(MS_BIND) | UInt(MS_REMOUNT) | UInt(MS_RDONLY)
        if sys.mount("", "/", "", flags, nil) == 0 { return }
        var sv = statvfs()
        guard statvfs("/", &sv) == 0 else { throw .sys("remount / read-only") }
        try doMount(sys, "", "/", "", flags | UInt(sv.f_flag), nil, what: "remount / read-only")
    }
}

/// maskedPaths and readonlyPaths, applied after pivot_root. Each path is opened with O_NOFOLLOW
/// through the in-root resolver and the mount goes onto that fd, so a symlink planted at the
/// path (or swapped in between check and mount) cannot redirect the mount elsewhere.
struct PathProtection {
    let sys: any Syscalls
    let root: SafeRoot
    /// Paths already masked: a path listed twice is masked once.
    private var masked: Set<String> = []
    /// The first masked directory: the others bind its read-only tmpfs (one tmpfs for all, as runc).
    private var maskTmpfs: String?

    init(_ sys: any Syscalls, root: SafeRoot) {
        self.sys = sys
        self.root = root
    }

    mutating func mask(_ path: String) throws(RuntimeError) {
        let clean = "/" + SafeRoot.relative(path)
        guard masked.insert(clean).inserted else { return }
        let fd: Int32
        do { fd = try root.open(path, followLast: false) } catch {
            if error.errno == ENOENT { return }
            throw error
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .sys("stat \(Excerpt.of(path, limit: 200))") }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            if let first = maskTmpfs {
                let source = try root.open(first, followLast: false)
                defer { close(source) }
                try doMount(sys, procFD(source), procFD(fd), "", UInt(MS_BIND), nil, what: "mask \(Excerpt.of(path, limit: 200))")
            } else {
                try doMount(sys, "tmpfs", procFD(fd), "tmpfs", UInt(MS_RDONLY), "size=0k,mode=755", what: "mask \(Excerpt.of(path, limit: 200))")
                maskTmpfs = clean
            }
        } else if (st.st_mode & S_IFMT) == S_IFLNK {
            return
        } else {
            try doMount(sys, "/dev/null", procFD(fd), "", UInt(MS_BIND), nil, what: "mask \(Excerpt.of(path, limit: 200))")
        }
    }

    func readonly(_ path: String) throws(RuntimeError) {
        let fd: Int32
        do { fd = try root.open(path, followLast: false) } catch {
            if error.errno == ENOENT { return }
            throw error
        }
        try doMount(sys, procFD(fd), procFD(fd), "", UInt(MS_BIND) | UInt(MS_REC), nil, what: "bind \(Excerpt.of(path, limit: 200)) read-only")
        close(fd)
        let again = try root.open(path, followLast: false)
        defer { close(again) }
        var sv = statvfs()
        let locked = fstatvfs(again, &sv) == 0
            ? UInt(sv.f_flag) & (UInt(MS_NOSUID) | UInt(MS_NODEV) | UInt(MS_NOEXEC)) : 0
        try doMount(sys, "", procFD(again), "", UInt(MS_BIND) | UInt(MS_REMOUNT) | UInt(MS_RDONLY) | UInt(MS_REC) | locked,
                    nil, what: "remount \(Excerpt.of(path, limit: 200)) read-only")
    }
}
