import HostOS
import Glibc
import CShim
import OCI

extension Container {
    /// `swrunc start`: releases the init blocked on the exec fifo, then runs poststart hooks.
    public static func start(id: String, ctx: RuntimeContext) throws(RuntimeError) {
        let (lock, record) = try lockAndLoad(id, ctx: ctx)
        defer { lock.release() }
        switch status(of: record, store: ctx.store) {
        case .created: break
        case .stopped: throw RuntimeError("cannot start a container that has stopped")
        case .running, .paused: throw RuntimeError("cannot start an already running container")
        case .creating: throw RuntimeError("cannot start a container that is still being created")
        }
        if record.hasProcess == false {
            throw RuntimeError("cannot start container \(id): its config has no process")
        }
        try releaseExecFifo(record, store: ctx.store)
        let state = State(id: id, status: .running, pid: record.pid, bundle: record.bundle, annotations: record.annotations)
        // Spec: a failing poststart hook is a warning; the remaining hooks and the lifecycle go on.
        HookRunner.runWarning(record.hooks?.poststart ?? [], kind: "poststart", state: state, logger: ctx.logger)
    }

    /// Opens the fifo for reading, which unblocks the init's open for writing. Its byte says the
    /// startContainer hooks ran; the end of file that follows says execve closed the write end —
    /// the program is running. The init's pidfd is watched so a dead init cannot hang `start`.
    static func releaseExecFifo(_ record: ContainerRecord, store: StateStore) throws(RuntimeError) {
        let path = store.fifoPath(record.id)
        let fifo = try check("open exec fifo \(path)") { cshim_open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC, 0) }
        defer { close(fifo) }
        let pidfd = cshim_pidfd_open(record.pid)
        defer { if pidfd >= 0 { close(pidfd) } }
        var gotByte = false
        let deadline = Clock.monotonicNanos() + 60 * 1_000_000_000
        while true {
            var byte: UInt8 = 0
            let n = read(fifo, &byte, 1)
            if n == 1 { gotByte = true; continue }
            // Without a writer read returns 0: after the byte that is execve closing it.
            if n == 0 && gotByte { break }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && errno != EAGAIN { throw .sys("read exec fifo") }
            // EAGAIN: the init holds the write end (hooks running). 0 before the byte: it has not
            // connected yet, or it is gone — the pidfd tells which.
            if Clock.monotonicNanos() > deadline { throw RuntimeError("timed out waiting for the container init to start") }
            var fds = [pollfd(fd: n < 0 ? fifo : -1, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)]
            _ = poll(&fds, 2, n < 0 ? 1000 : 5)
            if fds[1].revents != 0 {
                if read(fifo, &byte, 1) == 1 || gotByte { break }
                throw RuntimeError("container init exited before it could be started (startContainer hook or exec failed; see its stderr)")
            }
        }
        unlink(path)
    }
}
