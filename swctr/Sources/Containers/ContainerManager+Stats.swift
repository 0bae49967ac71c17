import Database
import Glibc
import HostOS
import JSON
import Logs
import RuntimeClient

/// One reading of a container's counters, taken at `takenAt` (nanoseconds since the epoch).
public struct StatsSample: Sendable {
    public var id: String
    public var name: String
    public var running: Bool
    public var counters = RuntimeStats()
    public var networkReceived: UInt64 = 0
    public var networkSent: UInt64 = 0
    public var takenAt: Int64
    /// When the container's current run began (nanoseconds since the epoch); the first CPU
    /// figure is the average since then, as podman's first reading is.
    public var startedAt: Int64

    public init(id: String, name: String, running: Bool, counters: RuntimeStats = RuntimeStats(), takenAt: Int64, startedAt: Int64) {
        self.id = id
        self.name = name
        self.running = running
        self.counters = counters
        self.takenAt = takenAt
        self.startedAt = startedAt
    }
}

extension ContainerManager {
    /// `stats`: one reading of the container; a stopped one reads as zeros, as in Docker.
    public func statsSample(_ view: ContainerView) -> StatsSample {
        let now = LogTime.nowNanos()
        var sample = StatsSample(id: view.row.id, name: view.row.name, running: view.isRunning, takenAt: now,
                                 startedAt: LogTime.parseRFC3339(view.state.startedAt) ?? now)
        guard view.isRunning, view.state.pid > 0, let counters = try? runtime.stats(view.row.id) else {
            sample.running = false
            return sample
        }
        sample.counters = counters
        // The init's view of /proc/net/dev is its network namespace's.
        if let dev = try? FileIO.readString("/proc/\(view.state.pid)/net/dev") {
            (sample.networkReceived, sample.networkSent) = Self.networkTotals(dev)
        }
        return sample
    }

    /// Bytes received and sent over every interface but loopback, from /proc/net/dev.
    static func networkTotals(_ dev: String) -> (UInt64, UInt64) {
        var rx: UInt64 = 0, tx: UInt64 = 0
        for line in dev.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].trimmingCharacters(in: " ")
            let fields = line[line.index(after: colon)...].split(separator: " ")
            guard name != "lo", fields.count >= 9, let r = UInt64(fields[0]), let t = UInt64(fields[8]) else { continue }
            rx += r
            tx += t
        }
        return (rx, tx)
    }
}

/// A `stats` line in Docker's words and units, from a reading and the one before it.
public enum StatsLine {
    /// The host's memory, shown as the limit of a container that has none (as Docker does).
    public static let hostMemory: UInt64 = {
        guard let info = try? FileIO.readString("/proc/meminfo"),
              let line = info.split(separator: "\n").first(where: { $0.hasPrefix("MemTotal:") }),
              let kib = UInt64(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
        return kib * 1024
    }()

    public static func row(_ s: StatsSample, previous: StatsSample?, truncate: Bool = true,
                           hostMemory: UInt64 = StatsLine.hostMemory) -> JSONValue {
        let c = s.counters
        var cpu = 0.0
        if s.running {
            let (cpuBefore, timeBefore) = previous.map { ($0.counters.cpuNanoseconds, $0.takenAt) } ?? (0, s.startedAt)
            let wall = Double(s.takenAt - timeBefore)
            if wall > 0, c.cpuNanoseconds >= cpuBefore { cpu = Double(c.cpuNanoseconds - cpuBefore) / wall * 100 }
        }
        let used = c.memoryUsage > c.inactiveFile ? c.memoryUsage - c.inactiveFile : c.memoryUsage
        var limit = c.memoryLimit
        if limit == 0 || (hostMemory > 0 && limit > hostMemory) { limit = hostMemory }
        if !s.running { limit = 0 }
        let memPercent = limit > 0 ? Double(used) / Double(limit) * 100 : 0
        let id = truncate ? String(s.id.prefix(12)) : s.id
        return InspectDocument.obj([
            ("ID", .string(id)), ("Container", .string(id)), ("Name", .string(s.name)),
            ("CPUPerc", .string(fixed(cpu, 2) + "%")),
            ("MemUsage", .string(binarySize(used) + " / " + binarySize(limit))),
            ("MemPerc", .string(fixed(memPercent, 2) + "%")),
            ("NetIO", .string(decimalSize(s.networkReceived) + " / " + decimalSize(s.networkSent))),
            ("BlockIO", .string(decimalSize(c.blockRead) + " / " + decimalSize(c.blockWrite))),
            ("PIDs", .string(String(c.pids))),
        ])
    }

    /// Docker's (go-units') HumanSizeWithPrecision(n, 3): "648B", "1.2kB", "5.26MB".
    public static func decimalSize(_ n: UInt64) -> String { scaled(Double(n), base: 1000, units: ["B", "kB", "MB", "GB", "TB", "PB"], digits: 3) }

    /// go-units' BytesSize: "5.656MiB", "23.44GiB".
    public static func binarySize(_ n: UInt64) -> String { scaled(Double(n), base: 1024, units: ["B", "KiB", "MiB", "GiB", "TiB", "PiB"], digits: 4) }

    static func scaled(_ value: Double, base: Double, units: [String], digits: Int) -> String {
        var v = value
        var i = 0
        while v >= base && i < units.count - 1 {
            v /= base
            i += 1
        }
        return significant(v, digits) + units[i]
    }

    /// printf's %.Ng for values below 10^N: N significant digits, trailing zeros dropped.
    static func significant(_ v: Double, _ digits: Int) -> String {
        guard v > 0 else { return "0" }
        var magnitude = 0
        var x = v
        while x >= 10 { x /= 10; magnitude += 1 }
        while x < 1 { x *= 10; magnitude -= 1 }
        var text = fixed(v, max(0, digits - 1 - magnitude))
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text
    }

    /// printf's %.Nf.
    public static func fixed(_ v: Double, _ decimals: Int) -> String {
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let n = UInt64((abs(v) * scale).rounded())
        let whole = n / UInt64(scale)
        guard decimals > 0 else { return (v < 0 ? "-" : "") + String(whole) }
        var frac = String(n % UInt64(scale))
        while frac.count < decimals { frac = "0" + frac }
        return (v < 0 ? "-" : "") + String(whole) + "." + frac
    }
}
