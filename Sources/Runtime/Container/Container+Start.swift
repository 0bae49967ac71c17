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
        try releaseExecFifo(record, store: ctx.store)
        let state = State(id: id, status: .running, pid: record.pid, bundle: record.bundle, annotations: record.annotations)
        do throws(RuntimeError) {
            try HookRunner.run(record.config.hooks?.poststart ?? [], kind: "poststart", state: state)
        } catch {
            // Spec: a failing poststart hook is logged; the lifecycle goes on.
            ctx.logger.warn(error.message)
        }
    }

    /// Opens the fifo for reading, which unblocks the init's open for writing; its byte proves
    /// the init got through. The init's pidfd is watched so a dead init cannot hang `start`.
    static func releaseExecFifo(_ record: ContainerRecord, store: StateStore) throws(RuntimeError) {
        let path = store.fifoPath(record.id)
        let fifo = try check("open exec fifo \(path)") { cshim_open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC, 0) }
        defer { close(fifo) }
        let pidfd = cshim_pidfd_open(record.pid)
        defer { if pidfd >= 0 { close(pidfd) } }
        while true {
            var fds = [pollfd(fd: fifo, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)]
            let rc = poll(&fds, 2, 60_000)
            if rc < 0 { if errno == EINTR { continue }; throw .sys("wait for container init") }
            if rc == 0 { throw RuntimeError("timed out waiting for the container init to start") }
            if fds[0].revents & Int16(POLLIN) != 0 {
                var byte: UInt8 = 0
                let n = read(fifo, &byte, 1)
                if n == 1 { break }
            }
            if fds[1].revents != 0 || fds[0].revents & Int16(POLLHUP) != 0 {
                // The init may have written and exited already; a final read tells.
                var byte: UInt8 = 0
                if read(fifo, &byte, 1) == 1 { break }
                throw RuntimeError("container init exited before it could be started")
            }
        }
        unlink(path)
    }
}
