import HostOS
import Glibc
import CShim
import OCI

/// /dev inside the container: the default device nodes, the spec's `linux.devices`, and the
/// standard symlinks. Inside a user namespace mknod is not allowed, so nodes are bind-mounted
/// from the host instead (as runc does).
struct DeviceSetup {
    let sys: any Syscalls
    let root: SafeRoot
    let inUserNamespace: Bool

    static let defaults: [OCI.Device] = [
        Device(type: "c", path: "/dev/null", major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0),
        Device(type: "c", path: "/dev/zero", major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0),
        Device(type: "c", path: "/dev/full", major: 1, minor: 7, fileMode: 0o666, uid: 0, gid: 0),
        Device(type: "c", path: "/dev/random", major: 1, minor: 8, fileMode: 0o666, uid: 0, gid: 0),
        Device(type: "c", path: "/dev/urandom", major: 1, minor: 9, fileMode: 0o666, uid: 0, gid: 0),
        Device(type: "c", path: "/dev/tty", major: 5, minor: 0, fileMode: 0o666, uid: 0, gid: 0),
    ]

    /// `replaceExisting` is for the default devices; for `linux.devices` the spec requires an error
    /// when a file at the path is not the requested device.
    func create(_ devices: [OCI.Device], replaceExisting: Bool) throws(RuntimeError) {
        for d in devices {
            if !replaceExisting { try refuseConflict(d) }
            try create(d)
        }
    }

    private func refuseConflict(_ d: OCI.Device) throws(RuntimeError) {
        let (dir, name) = try root.parent(of: d.path)
        defer { close(dir) }
        var st = stat()
        guard fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { return }
        let type = st.st_mode & S_IFMT
        let matches: Bool
        switch d.type {
        case "p": matches = type == S_IFIFO
        case "b", "c", "u":
            let want = d.type == "b" ? S_IFBLK : S_IFCHR
            matches = type == want && UInt64(st.st_rdev) == UInt64(cshim_makedev(UInt32(truncatingIfNeeded: d.major ?? 0),
                                                                               UInt32(truncatingIfNeeded: d.minor ?? 0)))
        default: matches = false
        }
        if !matches {
            throw RuntimeError("linux.devices: \(d.path) already exists in the rootfs and is not the requested device")
        }
    }

    private func create(_ d: OCI.Device) throws(RuntimeError) {
        if inUserNamespace {
            try root.ensureFile(d.path)
            let target = try root.open(d.path, followLast: false)
            defer { close(target) }
            try doMount(sys, d.path, procFD(target), "bind", UInt(MS_BIND), nil, what: "bind device \(d.path)")
            return
        }
        let (dir, name) = try root.parent(of: d.path)
        defer { close(dir) }
        let kind: mode_t
        switch d.type {
        case "b": kind = S_IFBLK
        case "p": kind = S_IFIFO
        default: kind = S_IFCHR
        }
        let perm = mode_t(d.fileMode ?? 0o666) & 0o7777
        let dev = cshim_makedev(UInt32(truncatingIfNeeded: d.major ?? 0), UInt32(truncatingIfNeeded: d.minor ?? 0))
        // A file already at the path (e.g. from the image) is replaced, never written through.
        unlinkat(dir, name, 0)
        if sys.mknod(dir, name, kind | perm, dev_t(dev)) != 0 {
            throw .sys("mknod \(d.path)")
        }
        // mknod honours the umask; set the exact mode and owner the spec asks for.
        let fd = cshim_openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0)
        guard fd >= 0 else { throw .sys("open \(d.path)") }
        defer { close(fd) }
        if fchmodat(dir, name, perm, 0) != 0 { throw .sys("chmod \(d.path)") }
        if sys.chown(dir, name, d.uid ?? 0, d.gid ?? 0) != 0 { throw .sys("chown \(d.path)") }
    }

    func symlinks() throws(RuntimeError) {
        var links = [("/proc/self/fd", "fd"), ("/proc/self/fd/0", "stdin"), ("/proc/self/fd/1", "stdout"),
                     ("/proc/self/fd/2", "stderr")]
        if FileIO.exists("/proc/kcore") { links.append(("/proc/kcore", "core")) }
        let dev = try root.mkdirAll("/dev")
        defer { close(dev) }
        for (target, name) in links {
            if symlinkat(target, dev, name) != 0 && errno != EEXIST { throw .sys("symlink /dev/\(name)") }
        }
        // /dev/ptmx must point at this container's devpts instance.
        unlinkat(dev, "ptmx", 0)
        if symlinkat("pts/ptmx", dev, "ptmx") != 0 { throw .sys("symlink /dev/ptmx") }
    }
}
