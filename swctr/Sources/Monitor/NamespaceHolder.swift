import Glibc
import HostOS

/// A rootless user's namespace holder: a process that made a user namespace (the user's id as
/// root, its /etc/subuid range as the rest) and a mount namespace owned by it, then sleeps, so
/// that every later swctr of that user joins the same pair — the overlay mounts of its
/// containers live there, out of the host's sight, and stay while it lives. podman's pause
/// process is the model.
///
/// Protocol on the two pipe fds swctr passes: the holder writes `pid N` once it has its own
/// namespaces, swctr writes the id maps for N and then `go`, the holder answers `ok` (or
/// `error MESSAGE` at any step) and closes both.
public enum NamespaceHolder {
    public static func run(readFD: Int32, writeFD: Int32) -> Never {
        func report(_ line: String) { _ = try? FileIO.writeAll(writeFD, Array((line + "\n").utf8), what: "sync pipe") }
        do { try UserNamespace.unshareWithMountNamespace() } catch {
            report("error \(error.message)")
            exit(1)
        }
        report("pid \(getpid())")
        var answer: [UInt8] = []
        var byte: UInt8 = 0
        while answer.count < 16, read(readFD, &byte, 1) == 1, byte != UInt8(ascii: "\n") { answer.append(byte) }
        guard answer == Array("go".utf8) else { exit(1) }  // swctr gave up (it reports why)
        // A mount namespace made with a new user namespace gets the host's shared mounts as
        // slaves already; said once more, so no mount made here can reach the host.
        guard mount("none", "/", nil, UInt(MS_REC | MS_SLAVE), nil) == 0 else {
            report("error make / a slave mount: \(String(cString: strerror(errno)))")
            exit(1)
        }
        report("ok")
        close(readFD)
        close(writeFD)
        _ = chdir("/")
        while true { pause() }
    }
}
