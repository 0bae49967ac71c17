import CCap
import Foundation
import Glibc
@testable import Runtime

/// The test side of the syscall seam: every call is recorded instead of made, with its paths
/// shown relative to `root` (targets given as /proc/self/fd/N are read back through the fd).
/// mknod leaves an empty file where the node would be, so the steps after it find something.
final class RecordingSyscalls: Syscalls, @unchecked Sendable {
    let root: String
    private let lock = NSLock()
    private var recorded: [String] = []

    init(root: String) { self.root = root }

    var calls: [String] {
        lock.lock()
        defer { lock.unlock() }
        return recorded
    }

    private func record(_ line: String) -> Int32 {
        lock.lock()
        recorded.append(line)
        lock.unlock()
        return 0
    }

    /// A path as the container would see it: fd paths resolved, the rootfs prefix cut to "/".
    func shown(_ path: String) -> String {
        var real = path
        if path.hasPrefix("/proc/self/fd/"), let fd = Int32(path.dropFirst("/proc/self/fd/".count)) {
            real = resolve(fd)
        }
        if real == root { return "/" }
        if real.hasPrefix(root + "/") { return String(real.dropFirst(root.count)) }
        return real
    }

    func resolve(_ fd: Int32) -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)")) ?? "fd:\(fd)"
    }

    /// The MS_* flags by name, in a fixed order.
    static func flagNames(_ flags: UInt) -> String {
        let names: [(UInt, String)] = [
            (UInt(MS_RDONLY), "ro"), (UInt(MS_NOSUID), "nosuid"), (UInt(MS_NODEV), "nodev"), (UInt(MS_NOEXEC), "noexec"),
            (UInt(MS_REMOUNT), "remount"), (UInt(MS_BIND), "bind"), (UInt(MS_MOVE), "move"), (UInt(MS_REC), "rec"),
            (UInt(MS_PRIVATE), "private"), (UInt(MS_SLAVE), "slave"), (UInt(MS_SHARED), "shared"), (UInt(MS_STRICTATIME), "strictatime"),
        ]
        let known = names.filter { flags & $0.0 != 0 }.map(\.1)
        let rest = flags & ~names.reduce(0) { $0 | $1.0 }
        return (known + (rest != 0 ? [String(rest, radix: 16)] : [])).joined(separator: ",")
    }

    func mount(_ source: String, _ target: String, _ type: String, _ flags: UInt, _ data: String?) -> Int32 {
        let src = source.isEmpty ? "-" : source.hasPrefix("/") ? shown(source) : source
        return record("mount \(src) \(shown(target)) \(type.isEmpty ? "-" : type) [\(Self.flagNames(flags))]\((data ?? "").isEmpty ? "" : " " + data!)")
    }
    func umount(_ target: String, _ flags: Int32) -> Int32 { record("umount \(shown(target)) \(flags)") }
    func mountSetattr(_ fd: Int32, _ flags: UInt32, set: UInt64, clear: UInt64) -> Int32 {
        record("mount_setattr \(shown(resolve(fd))) set=\(set) clear=\(clear)")
    }
    func moveMount(_ tree: Int32, to target: Int32) -> Int32 { record("move_mount \(shown(resolve(target)))") }
    func mknod(_ dirFD: Int32, _ name: String, _ mode: mode_t, _ device: dev_t) -> Int32 {
        let fd = openat(dirFD, name, O_CREAT | O_WRONLY | O_CLOEXEC, 0o600)
        if fd >= 0 { close(fd) }
        return record("mknod \(shown(resolve(dirFD)))/\(name) \(String(mode, radix: 8)) \(major(device)):\(minor(device))")
    }
    func chown(_ dirFD: Int32, _ name: String, _ uid: uid_t, _ gid: gid_t) -> Int32 {
        record("chown \(shown(resolve(dirFD)))/\(name) \(uid):\(gid)")
    }
    func pivotRoot(_ newRoot: String, _ putOld: String) -> Int32 { record("pivot_root \(newRoot) \(putOld)") }
    func chroot(_ path: String) -> Int32 { record("chroot \(path)") }
    func chdir(_ path: String) -> Int32 { record("chdir \(shown(path))") }
    func fchdir(_ fd: Int32) -> Int32 { record("fchdir \(shown(resolve(fd)))") }
    func sethostname(_ name: String) -> Int32 { record("sethostname \(name)") }
    func setdomainname(_ name: String) -> Int32 { record("setdomainname \(name)") }
    func prctl(_ option: Int32, _ arg2: UInt, _ arg3: UInt) -> Int32 { record("prctl \(option) \(arg2) \(arg3)") }
    func setgroups(_ groups: [gid_t]) -> Int32 { record("setgroups \(groups)") }
    func setresgid(_ gid: gid_t) -> Int32 { record("setresgid \(gid)") }
    func setresuid(_ uid: uid_t) -> Int32 { record("setresuid \(uid)") }
    func dropBound(_ cap: cap_value_t) -> Int32 { record("drop_bound \(cap)") }
    func setCapabilities(effective: [cap_value_t], permitted: [cap_value_t], inheritable: [cap_value_t]) -> Int32 {
        record("capset e=\(effective) p=\(permitted) i=\(inheritable)")
    }
    func closeFrom(_ first: Int32, keeping: Int) { _ = record("close_range \(first) keeping \(keeping)") }
    func resetSignals() { _ = record("reset signals") }
    func prlimit(_ resource: Int32, soft: UInt64, hard: UInt64) -> Int32 { record("prlimit \(resource) \(soft) \(hard)") }
    func loadSeccomp(_ filter: SeccompFilter) throws(RuntimeError) { _ = record("seccomp") }
    /// Fails as a missing program would, so the caller's error path runs.
    func execve(_ path: String, _ args: [String], _ env: [String]) -> Int32 {
        _ = record("execve \(path) \(args)")
        errno = ENOENT
        return -1
    }

    private func major(_ d: dev_t) -> UInt64 { (UInt64(d) >> 8) & 0xfff | ((UInt64(d) >> 32) & ~0xfff) }
    private func minor(_ d: dev_t) -> UInt64 { (UInt64(d) & 0xff) | ((UInt64(d) >> 12) & ~0xff) }
}
