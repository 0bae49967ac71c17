import Foundation
import Testing
import CShim

/// `--pidfd-socket`: a supervisor gets a pidfd of the init (create/run) and of an exec'd process,
/// and can signal exactly that process with it.
@Suite("pidfd socket: the client receives pidfds of the init and of exec'd processes")
struct PidfdSocketTests {
    func waitExited(_ pidfd: Int32) -> Bool {
        var pfd = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
        return poll(&pfd, 1, 10_000) == 1
    }

    @Test func initAndExecPidfds() throws {
        let b = try TestBundle(args: ["sleep", "60"])
        defer { b.cleanup() }
        let path = b.dir + "/pidfd.sock"
        let listener = try ConsoleListener(path: path)
        defer { listener.close() }
        let r = try b.run("-d", "--pidfd-socket", path)
        try #require(r.ok, "\(r.stderr)")
        let initFD = try listener.acceptFD()
        defer { close(initFD.fd) }
        #expect(initFD.name == "standard")

        let e = b.swrunc("--root", b.swrunc.root, "exec", "-d", "--pidfd-socket", path, b.id, "sleep", "60")
        try #require(e.ok, "\(e.stderr)")
        let execFD = try listener.acceptFD()
        defer { close(execFD.fd) }
        #expect(execFD.name == "setns")
        // The exec'd process dies by its pidfd; the container goes on.
        #expect(cshim_pidfd_send_signal(execFD.fd, SIGKILL) == 0)
        #expect(waitExited(execFD.fd))
        #expect(try b.state()["status"] as? String == "running")
        // The init's pidfd stops the container.
        #expect(cshim_pidfd_send_signal(initFD.fd, SIGKILL) == 0)
        #expect(waitExited(initFD.fd))
        #expect(eventually { (try? b.state()["status"] as? String) == "stopped" })
    }

    @Test func aSocketNobodyListensOnFailsCreateAndLeavesNothing() throws {
        let b = try TestBundle(args: ["sleep", "60"])
        defer { b.cleanup() }
        let r = try b.create("--pidfd-socket", b.dir + "/nobody.sock")
        #expect(!r.ok)
        #expect(r.stderr.contains("pidfd socket") && r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        #expect(!b.swrunc("state", b.id).ok)
    }
}
