import CCap
import CShim
import Glibc

/// The privileged calls of the container's setup — mounts, device nodes, the root switch, the
/// host and domain names, prctls — behind one protocol, as youki's `Syscall` trait has them.
/// `LinuxSyscalls` makes them; the tests' recording implementation checks their order and
/// arguments without root. Each returns what the system call returns, with errno set on failure,
/// so callers keep building their errors as before.
protocol Syscalls: Sendable {
    func mount(_ source: String, _ target: String, _ type: String, _ flags: UInt, _ data: String?) -> Int32
    func umount(_ target: String, _ flags: Int32) -> Int32
    func mountSetattr(_ fd: Int32, _ flags: UInt32, set: UInt64, clear: UInt64) -> Int32
    /// Attaches a detached mount tree (an fd) onto the directory or file `target` (an fd).
    func moveMount(_ tree: Int32, to target: Int32) -> Int32
    func mknod(_ dirFD: Int32, _ name: String, _ mode: mode_t, _ device: dev_t) -> Int32
    func chown(_ dirFD: Int32, _ name: String, _ uid: uid_t, _ gid: gid_t) -> Int32
    func pivotRoot(_ newRoot: String, _ putOld: String) -> Int32
    func chroot(_ path: String) -> Int32
    func chdir(_ path: String) -> Int32
    func fchdir(_ fd: Int32) -> Int32
    func sethostname(_ name: String) -> Int32
    func setdomainname(_ name: String) -> Int32
    func prctl(_ option: Int32, _ arg2: UInt, _ arg3: UInt) -> Int32
    func setgroups(_ groups: [gid_t]) -> Int32
    func setresgid(_ gid: gid_t) -> Int32
    func setresuid(_ uid: uid_t) -> Int32
    /// Drops one capability from the bounding set.
    func dropBound(_ cap: cap_value_t) -> Int32
    /// Sets the effective, permitted and inheritable sets at once (libcap's cap_set_proc).
    func setCapabilities(effective: [cap_value_t], permitted: [cap_value_t], inheritable: [cap_value_t]) -> Int32
    /// Marks every fd from `first` on close-on-exec, and clears the flag on the `keeping` fds
    /// from 3 (the ones passed on to the container).
    func closeFrom(_ first: Int32, keeping: Int)
    /// Unblocks every signal and gives SIGPIPE its default back (the program's starting state).
    func resetSignals()
    func prlimit(_ resource: Int32, soft: UInt64, hard: UInt64) -> Int32
    func loadSeccomp(_ filter: SeccompFilter) throws(RuntimeError)
    func execve(_ path: String, _ args: [String], _ env: [String]) -> Int32
}

/// The real calls.
struct LinuxSyscalls: Syscalls {
    func mount(_ source: String, _ target: String, _ type: String, _ flags: UInt, _ data: String?) -> Int32 {
        if let data, !data.isEmpty { return Glibc.mount(source, target, type, flags, data) }
        return Glibc.mount(source, target, type, flags, nil)
    }
    func umount(_ target: String, _ flags: Int32) -> Int32 { umount2(target, flags) }
    func mountSetattr(_ fd: Int32, _ flags: UInt32, set: UInt64, clear: UInt64) -> Int32 {
        cshim_mount_setattr(fd, "", flags, set, clear, 0, -1)
    }
    func moveMount(_ tree: Int32, to target: Int32) -> Int32 {
        cshim_move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH)
    }
    func mknod(_ dirFD: Int32, _ name: String, _ mode: mode_t, _ device: dev_t) -> Int32 { mknodat(dirFD, name, mode, device) }
    func chown(_ dirFD: Int32, _ name: String, _ uid: uid_t, _ gid: gid_t) -> Int32 {
        fchownat(dirFD, name, uid, gid, AT_SYMLINK_NOFOLLOW)
    }
    func pivotRoot(_ newRoot: String, _ putOld: String) -> Int32 { cshim_pivot_root(newRoot, putOld) }
    func chroot(_ path: String) -> Int32 { Glibc.chroot(path) }
    func chdir(_ path: String) -> Int32 { Glibc.chdir(path) }
    func fchdir(_ fd: Int32) -> Int32 { Glibc.fchdir(fd) }
    func sethostname(_ name: String) -> Int32 { Glibc.sethostname(name, name.utf8.count) }
    func setdomainname(_ name: String) -> Int32 { Glibc.setdomainname(name, name.utf8.count) }
    func prctl(_ option: Int32, _ arg2: UInt, _ arg3: UInt) -> Int32 { cshim_prctl(option, arg2, arg3, 0, 0) }
    func setgroups(_ groups: [gid_t]) -> Int32 {
        var list = groups
        return Glibc.setgroups(list.count, &list)
    }
    func setresgid(_ gid: gid_t) -> Int32 { cshim_setresgid(gid, gid, gid) }
    func setresuid(_ uid: uid_t) -> Int32 { cshim_setresuid(uid, uid, uid) }
    func dropBound(_ cap: cap_value_t) -> Int32 { cap_drop_bound(cap) }
    func closeFrom(_ first: Int32, keeping: Int) {
        _ = cshim_close_range(UInt32(first), UInt32.max, 4 /* CLOSE_RANGE_CLOEXEC */)
        for fd in 3..<(3 + Int32(keeping)) {
            let flags = cshim_fcntl_int(fd, F_GETFD, 0)
            if flags >= 0 { _ = cshim_fcntl_int(fd, F_SETFD, flags & ~FD_CLOEXEC) }
        }
    }
    func resetSignals() {
        _ = cshim_unblock_all_signals()
        signal(SIGPIPE, SIG_DFL)
    }
    func prlimit(_ resource: Int32, soft: UInt64, hard: UInt64) -> Int32 { cshim_prlimit(resource, soft, hard) }
    func loadSeccomp(_ filter: SeccompFilter) throws(RuntimeError) { _ = try filter.load() }
    func execve(_ path: String, _ args: [String], _ env: [String]) -> Int32 {
        var cargs = args.map { strdup($0) } + [nil]
        var cenv = env.map { strdup($0) } + [nil]
        return Glibc.execve(path, &cargs, &cenv)
    }
    func setCapabilities(effective: [cap_value_t], permitted: [cap_value_t], inheritable: [cap_value_t]) -> Int32 {
        guard let caps = cap_init() else { return -1 }
        defer { cap_free(UnsafeMutableRawPointer(caps)) }
        for (flag, list) in [(CAP_EFFECTIVE, effective), (CAP_PERMITTED, permitted), (CAP_INHERITABLE, inheritable)] where !list.isEmpty {
            var values = list
            cap_set_flag(caps, flag, Int32(values.count), &values, CAP_SET)
        }
        return cap_set_proc(caps)
    }
}

/// A mount through `sys`, failing with `what` and the errno's text.
func doMount(_ sys: any Syscalls, _ source: String, _ target: String, _ type: String, _ flags: UInt, _ data: String?,
             what: @autoclosure () -> String) throws(RuntimeError) {
    if sys.mount(source, target, type, flags, data) != 0 { throw .sys(what()) }
}
