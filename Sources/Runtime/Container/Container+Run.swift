import HostOS
import Glibc
import CShim
import OCI

extension Container {
    /// `swrunc run`: create and start in one go (no exec fifo is needed: nobody else can start
    /// it), then — unless detached — forward signals, proxy the terminal if the container has
    /// one, wait, delete (unless `keep`) and return the container's exit status.
    public static func run(_ opts: CreateOptions, detach: Bool, keep: Bool, ctx: RuntimeContext) throws(RuntimeError) -> Int32 {
        if !detach {
            // The init's parent (stage 1) exits early; as subreaper we inherit the init and can wait for it.
            _ = cshim_prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        }
        var consolePair: [Int32] = [-1, -1]
        if opts.consoleSocket == nil && !detach {
            try check("socketpair") { socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &consolePair) }
        }
        defer { for fd in consolePair where fd >= 0 { close(fd) } }
        let boot = try bootstrap(opts, ctx: ctx, startGate: false, consoleFD: consolePair[1])
        if consolePair[1] >= 0 { close(consolePair[1]); consolePair[1] = -1 }
        let record = boot.record
        defer { boot.channel.close() }
        // EOF on the channel means execve closed the init's end: the program is running.
        do throws(RuntimeError) {
            try waitForExec(boot.channel)
        } catch {
            try? delete(id: opts.id, force: true, ctx: ctx)
            throw error
        }
        let state = State(id: opts.id, status: .running, pid: record.pid, bundle: record.bundle, annotations: record.annotations)
        // Spec: a failing poststart hook is a warning; the remaining hooks and the lifecycle go on.
        HookRunner.runWarning(record.hooks?.poststart ?? [], kind: "poststart", state: state, logger: ctx.logger)
        if detach { return 0 }

        let master = record.config?.process?.terminal == true ? receiveMaster(consolePair[0]) : -1
        let code = waitForExit(pid: record.pid, master: master)
        if master >= 0 { close(master) }
        if !keep {
            try delete(id: opts.id, force: true, ctx: ctx)
        }
        return code
    }

    /// True when `pid` has exited and cannot be waited for by us (ECHILD).
    static func isGoneButNotOurs(_ pid: Int32) -> Bool {
        var info = siginfo_t()
        let rc = waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT)
        return rc != 0 && errno == ECHILD && ProcStat.read(pid: pid).map { !$0.isAlive } ?? true
    }

    /// The pty master the container's init sent over our end of the console socketpair.
    static func receiveMaster(_ fd: Int32) -> Int32 {
        guard fd >= 0 else { return -1 }
        var master: Int32 = -1
        var label = [UInt8](repeating: 0, count: 64)
        _ = label.withUnsafeMutableBytes { cshim_recv_msg(fd, $0.baseAddress, $0.count, &master) }
        return master
    }

    /// Waits until execve closed the child's end of the channel; a failure report comes instead
    /// when setup after "ready" (startContainer hooks, the exec itself) went wrong.
    static func waitForExec(_ channel: SyncChannel) throws(RuntimeError) {
        while let message = try channel.receiveUnlessClosed(waitingFor: "the process to start", timeout: -1) {
            if case .failed(let e) = message { throw e }
            if case .hookFailed(let m) = message { throw RuntimeError(m) }
        }
    }

    /// Waits for the init with signals forwarded to it and orphans reaped; returns the exit
    /// status in shell convention (128 + signal).
    static func waitForExit(pid initPid: Int32, master: Int32) -> Int32 {
        let forwarded: [Int32] = [SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT, SIGALRM, SIGPIPE]
        let signals = forwarded + [SIGCHLD]
        _ = cshim_block_signals(signals, Int32(signals.count))
        let sfd = cshim_signalfd(signals, Int32(signals.count))
        defer { if sfd >= 0 { close(sfd) } }
        let terminal = master >= 0 ? TerminalProxy(master: master) : nil
        defer { terminal?.restore() }
        // The pidfd turns readable when the process exits, whoever its parent is: a process that
        // is not our child (reparented elsewhere) ends the wait instead of hanging it.
        let pidfd = cshim_pidfd_open(initPid)
        defer { if pidfd >= 0 { close(pidfd) } }
        while true {
            var status: Int32 = 0
            // Reap whatever has exited: the init, or orphans reparented to us.
            while true {
                let pid = waitpid(-1, &status, WNOHANG)
                if pid <= 0 { break }
                if pid == initPid {
                    terminal?.drain()
                    if cshim_wifexited(status) != 0 { return cshim_wexitstatus(status) }
                    return 128 + cshim_wtermsig(status)
                }
            }
            if pidfd < 0 { return 255 }
            var fds = [pollfd(fd: sfd, events: Int16(POLLIN), revents: 0)]
            if let terminal { fds += terminal.pollSet }
            fds.append(pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0))
            if poll(&fds, nfds_t(fds.count), -1) < 0 && errno != EINTR { return 255 }
            let exited = fds.removeLast().revents != 0
            if exited && isGoneButNotOurs(initPid) { return 255 }
            if fds[0].revents & Int16(POLLIN) != 0 {
                let sig = cshim_signalfd_read(sfd)
                if sig > 0 {
                    if sig == SIGWINCH { terminal?.resize() }
                    if sig != SIGCHLD { _ = Glibc.kill(initPid, sig) }
                }
            }
            if let terminal { terminal.pump(Array(fds.dropFirst())) }
        }
    }
}
