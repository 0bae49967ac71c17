import HostOS
import Glibc
import CShim
import OCI

extension Container {
    /// `swrunc kill`: one signal to the init, or with `all` to every process in its cgroup.
    public static func kill(id: String, signal: Int32, all: Bool, ctx: RuntimeContext) throws(RuntimeError) {
        let record = try load(id, ctx: ctx)
        let status = status(of: record, store: ctx.store)
        // Without a pid namespace of its own, SIGKILL to the init leaves the container's other
        // processes running (only a namespace's init takes them along): kill them all, even when
        // the init is already gone (runc's rule).
        let sharesPidNamespace = record.pidNamespace == nil
        if signal == SIGKILL && sharesPidNamespace && !all {
            if status == .stopped && members(record, pidNamespace: nil).isEmpty { throw RuntimeError("container not running") }
            signalAll(record, SIGKILL, pidNamespace: nil, freeze: true)
            return
        }
        if status == .stopped && !all { throw RuntimeError("container not running") }
        if all {
            // Frozen, nothing can fork between listing the pids and signalling them (runc does
            // the same); a container that was already paused stays paused.
            signalAll(record, signal, pidNamespace: record.pidNamespace, freeze: status == .running || status == .created)
            return
        }
        try signalInit(record, signal: signal)
    }

    /// Every process of the container signalled: through its cgroup (frozen meanwhile, when
    /// `freeze`), or without one the processes `members` finds.
    static func signalAll(_ record: ContainerRecord, _ signal: Int32, pidNamespace: UInt64?, freeze: Bool) {
        let cgroup = record.cgroup
        guard cgroup.paths.isEmpty else { return cgroup.signalAll(signal, pidNamespace: pidNamespace, freeze: freeze) }
        for pid in members(record, pidNamespace: pidNamespace) { _ = Glibc.kill(pid, signal) }
    }

    /// The container's processes: its cgroup's members, or without a cgroup (rootless, no
    /// delegation) the processes in its pid namespace — just the init when it has none.
    static func members(_ record: ContainerRecord, pidNamespace: UInt64?) -> [Int32] {
        let cgroup = record.cgroup
        guard cgroup.paths.isEmpty else { return cgroup.containerPids(pidNamespace: pidNamespace) }
        guard let pidNamespace else {
            return record.pid > 0 && ProcStat.read(pid: record.pid)?.startTime == record.pidStartTime ? [record.pid] : []
        }
        return FileIO.listDirectory("/proc").compactMap { Int32($0) }.filter { ProcStat.pidNamespace(of: $0) == pidNamespace }
    }

    /// Signals through a pidfd taken after checking the start time: a recycled pid is never hit.
    static func signalInit(_ record: ContainerRecord, signal: Int32) throws(RuntimeError) {
        let pidfd = cshim_pidfd_open(record.pid)
        guard pidfd >= 0 else { throw RuntimeError("container not running") }
        defer { close(pidfd) }
        guard let stat = ProcStat.read(pid: record.pid), stat.startTime == record.pidStartTime else {
            throw RuntimeError("container not running")
        }
        if cshim_pidfd_send_signal(pidfd, signal) != 0 { throw .sys("kill \(record.pid)") }
    }

    /// Signal by name (`KILL`, `SIGKILL`) or number, as runc accepts them.
    public static func parseSignal(_ text: String) throws(RuntimeError) -> Int32 {
        if let n = Int32(text) {
            // 0 checks that the container runs, as kill(1) and runc take it.
            guard n >= 0 && n < 65 else { throw RuntimeError("invalid signal: \(text)") }
            return n
        }
        var name = text.uppercased()
        if name.hasPrefix("SIG") { name = String(name.dropFirst(3)) }
        let table: [String: Int32] = [
            "HUP": SIGHUP, "INT": SIGINT, "QUIT": SIGQUIT, "ILL": SIGILL, "TRAP": SIGTRAP, "ABRT": SIGABRT,
            "IOT": SIGABRT, "BUS": SIGBUS, "FPE": SIGFPE, "KILL": SIGKILL, "USR1": SIGUSR1, "SEGV": SIGSEGV,
            "USR2": SIGUSR2, "PIPE": SIGPIPE, "ALRM": SIGALRM, "TERM": SIGTERM, "STKFLT": SIGSTKFLT,
            "CHLD": SIGCHLD, "CONT": SIGCONT, "STOP": SIGSTOP, "TSTP": SIGTSTP, "TTIN": SIGTTIN, "TTOU": SIGTTOU,
            "URG": SIGURG, "XCPU": SIGXCPU, "XFSZ": SIGXFSZ, "VTALRM": SIGVTALRM, "PROF": SIGPROF,
            "WINCH": SIGWINCH, "IO": SIGIO, "POLL": SIGIO, "PWR": SIGPWR, "SYS": SIGSYS,
        ]
        if let n = table[name] { return n }
        if name.hasPrefix("RTMIN") || name.hasPrefix("RTMAX") {
            let base: Int32 = name.hasPrefix("RTMIN") ? 34 : 64
            let rest = name.dropFirst(5)
            if rest.isEmpty { return base }
            if let off = Int32(rest), (name.hasPrefix("RTMIN") && off > 0 && base + off <= 64)
                || (name.hasPrefix("RTMAX") && off < 0 && base + off >= 34) {
                return base + off
            }
        }
        throw RuntimeError("unknown signal \"\(text)\"")
    }
}
