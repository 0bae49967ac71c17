import Database
import Glibc
import HostOS
import Logs
import Monitor

/// The spellings `run` flags take, parsed as Docker parses them; each error names the flag and
/// the value, in Docker's words.
public enum OptionParsing {
    /// Docker's RAMInBytes: 1024-based, b/k/m/g/t suffixes (an optional trailing "b").
    public static func bytes(_ text: String, flag: String) throws(SwctrError) -> Int64 {
        var t = text.lowercased()
        if t == "-1" { return -1 }
        var mult: Double = 1
        if t.hasSuffix("b") && t.count > 1, let c = t.dropLast().last, "kmgt".contains(c) { t = String(t.dropLast()) }
        if let unit = t.last, "bkmgt".contains(unit) {
            let units: [Character: Double] = ["b": 1, "k": 1024, "m": 1_048_576, "g": 1_073_741_824, "t": 1_099_511_627_776]
            mult = units[unit] ?? 1
            t = String(t.dropLast())
        }
        guard let n = Double(t), n >= 0, n.isFinite else {
            throw SwctrError(.invalidArgument, "invalid argument \"\(text)\" for \"\(flag)\" flag: invalid size: '\(text)'")
        }
        return Int64(n * mult)
    }

    /// `--cpus 1.5` → nano-CPUs, within what this machine has.
    public static func cpus(_ text: String) throws(SwctrError) -> Int64 {
        let available = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        guard let v = Double(text), v.isFinite else {
            throw SwctrError(.invalidArgument, "invalid argument \"\(text)\" for \"--cpus\" flag: failed to parse \(text) as a rational number")
        }
        let nano = Int64((v * 1e9).rounded())
        guard nano >= 10_000_000, nano <= Int64(available) * 1_000_000_000 else {
            throw SwctrError(.invalidArgument, "Range of CPUs is from 0.01 to \(available).00, as there are only \(available) CPUs available")
        }
        return nano
    }

    /// Go durations ("30s", "1m30s", "500ms").
    public static func duration(_ text: String, flag: String) throws(SwctrError) -> Int64 {
        guard let d = LogTime.parseDuration(text), d >= 0 else {
            throw SwctrError(.invalidArgument, "invalid argument \"\(text)\" for \"\(flag)\" flag: time: invalid duration \"\(text)\"")
        }
        return d
    }

    public static func restart(_ text: String) throws(SwctrError) -> RestartPolicy {
        guard let p = RestartPolicy(parsing: text) else {
            throw SwctrError(.invalidArgument, "invalid restart policy format: \(text)")
        }
        return p
    }

    /// `name=soft[:hard]`.
    public static func ulimit(_ text: String) throws(SwctrError) -> Ulimit {
        let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, SpecBuilder.rlimitNames[parts[0]] != nil else {
            throw SwctrError(.invalidArgument, "invalid argument \"\(text)\" for \"--ulimit\" flag: invalid ulimit argument: \(text)")
        }
        let values = parts[1].split(separator: ":", maxSplits: 1).map(String.init)
        func value(_ s: String) throws(SwctrError) -> UInt64 {
            if s == "-1" || s == "unlimited" { return UInt64.max }
            guard let v = UInt64(s) else {
                throw SwctrError(.invalidArgument, "invalid argument \"\(text)\" for \"--ulimit\" flag: invalid ulimit argument: \(text)")
            }
            return v
        }
        let soft = try value(values[0])
        let hard = values.count == 2 ? try value(values[1]) : soft
        guard soft <= hard else {
            throw SwctrError(.invalidArgument, "invalid argument \"\(text)\" for \"--ulimit\" flag: ulimit soft limit must be less than or equal to hard limit: \(soft) > \(hard)")
        }
        return Ulimit(name: parts[0], soft: soft, hard: hard)
    }

    /// `-e K=V`, or `-e K` for the caller's value (dropped when unset).
    public static func environment(_ entries: [String], lookup: (String) -> String? = { getenv($0).map { String(cString: $0) } }) -> [String] {
        entries.compactMap { e in
            if e.contains("=") { return e }
            return lookup(e).map { "\(e)=\($0)" }
        }
    }

    /// An env file: KEY=VALUE lines, `#` comments, blank lines; a bare KEY takes the caller's value.
    public static func envFile(_ path: String) throws(SwctrError) -> [String] {
        let text: String
        do { text = try FileIO.readString(path) } catch {
            throw SwctrError(.invalidArgument, "open \(path): no such file or directory")
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true).map { $0.trimmingCharacters(in: " \t\r") }
        return environment(lines.filter { !$0.isEmpty && !$0.hasPrefix("#") }.map(String.init))
    }

    /// Signal names (`SIGTERM`, `TERM`, `term`) and numbers.
    public static func signal(_ text: String) throws(SwctrError) -> Int32 {
        if let n = Int32(text), n > 0, n < 65 { return n }
        var name = text.uppercased()
        if name.hasPrefix("SIG") { name = String(name.dropFirst(3)) }
        let table: [String: Int32] = [
            "HUP": SIGHUP, "INT": SIGINT, "QUIT": SIGQUIT, "ILL": SIGILL, "TRAP": SIGTRAP, "ABRT": SIGABRT,
            "BUS": SIGBUS, "FPE": SIGFPE, "KILL": SIGKILL, "USR1": SIGUSR1, "SEGV": SIGSEGV, "USR2": SIGUSR2,
            "PIPE": SIGPIPE, "ALRM": SIGALRM, "TERM": SIGTERM, "CHLD": SIGCHLD, "CONT": SIGCONT, "STOP": SIGSTOP,
            "TSTP": SIGTSTP, "TTIN": SIGTTIN, "TTOU": SIGTTOU, "URG": SIGURG, "XCPU": SIGXCPU, "XFSZ": SIGXFSZ,
            "VTALRM": SIGVTALRM, "PROF": SIGPROF, "WINCH": SIGWINCH, "IO": SIGIO, "PWR": SIGPWR, "SYS": SIGSYS,
        ]
        guard let n = table[name] else { throw SwctrError(.invalidArgument, "invalid signal: \(text)") }
        return n
    }
}

