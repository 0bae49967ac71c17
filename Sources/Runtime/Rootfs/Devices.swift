import HostOS
import Glibc
import CShim
import OCI

/// A device node as the init makes it: a `linux.devices` entry (or one of runc's defaults)
/// resolved by the parent into the file type, permissions and device number.
struct DeviceNode: Equatable {
    let path: String
    /// S_IFCHR, S_IFBLK or S_IFIFO.
    let kind: mode_t
    let permissions: mode_t
    let device: dev_t
    let uid: UInt32
    let gid: UInt32

    /// "b" is a block device, "p" a fifo, "c" and "u" (unbuffered) character devices.
    init(_ d: OCI.Device) {
        path = d.path
        switch d.type {
        case "b": kind = S_IFBLK
        case "p": kind = S_IFIFO
        default: kind = S_IFCHR
        }
        permissions = mode_t(d.fileMode ?? 0o666) & 0o7777
        device = dev_t(cshim_makedev(UInt32(truncatingIfNeeded: d.major ?? 0), UInt32(truncatingIfNeeded: d.minor ?? 0)))
        uid = d.uid ?? 0
        gid = d.gid ?? 0
    }
}

/// /dev inside the container: the default device nodes, the spec's `linux.devices`, and the
/// standard symlinks. Inside a user namespace mknod is not allowed, so nodes are bind-mounted
/// from the host instead (as runc does).
struct DeviceSetup {
    let sys: any Syscalls
    let root: SafeRoot
    let inUserNamespace: Bool

    static let defaults: [DeviceNode] = [
        Device(type: "c", path: "/dev/null", major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0),
        Device(type: "c", path: "/dev/zero", major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0),
        Device(type: "c", path: "/dev/full", major: 1, minor: 7, fileMode: 0o666, uid: 0, gid: 0),
        Device(type: "c", path: "/dev/random", major: 1, minor: 8, fileMode: 0o666, uid: 0, gid: 0),
        Device(type: "c", path: "/dev/urandom", major: 1, minor: 9, fileMode: 0o666, uid: 0, gid: 0),
        Device(type: "c", path: "/dev/tty", major: 5, minor: 0, fileMode: 0o666, uid: 0, gid: 0),
    ].map(DeviceNode.init)

    /// `replaceExisting` is for the default devices; for `linux.devices` the spec requires an error
    /// when a file at the path is not the requested device.
    func create(_ devices: [DeviceNode], replaceExisting: Bool) throws(RuntimeError) {
        for d in devices {
            if !replaceExisting { try refuseConflict(d) }
            try create(d)
        }
    }

    private func refuseConflict(_ d: DeviceNode) throws(RuntimeError) {
        let (dir, name) = try root.parent(of: d.path)
        defer { close(dir) }
        var st = stat()
        guard fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { return }
        let type = st.st_mode & S_IFMT
        let matches = type == d.kind && (d.kind == S_IFIFO || st.st_rdev == d.device)
        if !matches {
            throw RuntimeError("linux.devices: \(d.path) already exists in the rootfs and is not the requested device")
        }
    }

    private func create(_ d: DeviceNode) throws(RuntimeError) {
        if inUserNamespace {
            try root.ensureFile(d.path)
            let target = try root.open(d.path, followLast: false)
            defer { close(target) }
            try doMount(sys, d.path, procFD(target), "bind", UInt(MS_BIND), nil, what: "bind device \(d.path)")
            return
        }
        let (dir, name) = try root.parent(of: d.path)
        defer { close(dir) }
        // A file already at the path (e.g. from the image) is replaced, never written through.
        unlinkat(dir, name, 0)
        if sys.mknod(dir, name, d.kind | d.permissions, d.device) != 0 {
            throw .sys("mknod \(d.path)")
        }
        // mknod honours the umask; set the exact mode and owner the spec asks for.
        let fd = cshim_openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0)
        guard fd >= 0 else { throw .sys("open \(d.path)") }
        defer { close(fd) }
        if fchmodat(dir, name, d.permissions, 0) != 0 { throw .sys("chmod \(d.path)") }
        if sys.chown(dir, name, d.uid, d.gid) != 0 { throw .sys("chown \(d.path)") }
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
