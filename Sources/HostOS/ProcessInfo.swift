import Glibc

/// Facts about a host process read from /proc/<pid>/stat.
public struct ProcStat: Sendable {
    public var state: Character
    public var startTime: UInt64

    /// nil when the process does not exist.
    public static func read(pid: Int32) -> ProcStat? {
        guard let text = try? FileIO.readString("/proc/\(pid)/stat") else { return nil }
        // The command name (field 2) may contain spaces and parentheses: fields after it are
        // counted from the last ')'.
        guard let close = text.lastIndex(of: ")") else { return nil }
        let rest = text[text.index(after: close)...].split(separator: " ")
        // rest[0] is field 3 (state); field 22 (starttime) is rest[19].
        guard rest.count > 19, let state = rest[0].first, let start = UInt64(rest[19]) else { return nil }
        return ProcStat(state: state, startTime: start)
    }

    public var isAlive: Bool { state != "Z" && state != "X" }

    /// The inode of a process's pid namespace (/proc/<pid>/ns/pid), nil when it cannot be read.
    public static func pidNamespace(of pid: Int32) -> UInt64? {
        var st = stat()
        guard stat("/proc/\(pid)/ns/pid", &st) == 0 else { return nil }
        return UInt64(st.st_ino)
    }
}

/// Whether a signal can reach a process at all.
public enum SignalDelivery {
    /// True when `signal` sent to `pid` is dropped by the kernel: the process is the init of a
    /// child pid namespace (a container's PID 1) and has no handler for it — such an init gets
    /// only the signals it catches, from inside or outside its namespace, SIGKILL and SIGSTOP
    /// aside. A stop that sent such a signal has nothing to wait for.
    public static func isDiscarded(_ signal: Int32, pid: Int32) -> Bool {
        guard signal != SIGKILL, signal != SIGSTOP, signal > 0, signal <= 64,
              let status = try? FileIO.readString("/proc/\(pid)/status") else { return false }
        var nspid: [Substring] = []
        var caught: UInt64?
        for line in status.split(separator: "\n") {
            if line.hasPrefix("NSpid:") {
                nspid = line.dropFirst(6).split(whereSeparator: { $0 == "\t" || $0 == " " })
            } else if line.hasPrefix("SigCgt:") {
                caught = UInt64(line.dropFirst(7).trimmingCharacters(in: " \t"), radix: 16)
            }
        }
        guard nspid.count > 1, nspid.last == "1", let caught else { return false }
        return caught & (UInt64(1) << UInt64(signal - 1)) == 0
    }
}

public enum ThreadCheck {
    /// Number of threads of this process; the bootstrap forks only when it is 1.
    public static func count() -> Int {
        guard let text = try? FileIO.readString("/proc/self/status") else { return -1 }
        for line in text.split(separator: "\n") where line.hasPrefix("Threads:") {
            return Int(line.dropFirst(8).trimmingCharacters(in: " \t")) ?? -1
        }
        return -1
    }
}

public extension Substring {
    func trimmingCharacters(in set: String) -> Substring {
        var s = self
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return s
    }
}

public extension String {
    func trimmed() -> String {
        String(Substring(self).trimmingCharacters(in: " \t\n\r"))
    }
}
