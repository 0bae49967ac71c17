import Glibc
import HostOS
import JSON

/// What the monitor knows of its container, `<container dir>/state.json`, replaced atomically
/// each time it changes. The exit status is written before anything else happens after an exit.
public struct ContainerState: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable { case created, running, restarting, exited, dead }

    public var status: Status
    /// The container's init (host pid) while running, and its start time.
    public var pid: Int32
    public var pidStartTime: UInt64 = 0
    /// The monitor itself, with its start time (a recycled pid is not mistaken for it).
    public var monitorPid: Int32
    public var monitorStartTime: UInt64
    public var startedAt: String
    public var finishedAt: String
    public var exitCode: Int32
    public var oomKilled: Bool
    public var error: String
    public var restartCount: Int
    /// The user stopped it (stop/kill): no restart, and `unless-stopped` stays down.
    public var stoppedByUser: Bool
    public var health: Health?

    public init(status: Status = .created, pid: Int32 = 0, monitorPid: Int32 = 0, monitorStartTime: UInt64 = 0,
                startedAt: String = ContainerState.zeroTime, finishedAt: String = ContainerState.zeroTime,
                exitCode: Int32 = 0, oomKilled: Bool = false, error: String = "", restartCount: Int = 0,
                stoppedByUser: Bool = false, health: Health? = nil) {
        self.status = status
        self.pid = pid
        self.monitorPid = monitorPid
        self.monitorStartTime = monitorStartTime
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.exitCode = exitCode
        self.oomKilled = oomKilled
        self.error = error
        self.restartCount = restartCount
        self.stoppedByUser = stoppedByUser
        self.health = health
    }

    /// Docker's "never": 0001-01-01T00:00:00Z.
    public static let zeroTime = "0001-01-01T00:00:00Z"

    public static func path(in directory: String) -> String { directory + "/state.json" }

    public func save(in directory: String) throws {
        try FileIO.writeAtomic(Self.path(in: directory), try JSONValueEncoder().encode(self), mode: 0o644)
    }

    public static func load(directory: String) -> ContainerState? {
        guard let bytes = try? FileIO.read(path(in: directory)) else { return nil }
        return try? JSONValueDecoder().decode(ContainerState.self, from: bytes)
    }

    /// The container's init is still the process that was started.
    public var initAlive: Bool {
        guard pid > 0, let stat = ProcStat.read(pid: pid), stat.isAlive else { return false }
        return stat.startTime == pidStartTime
    }

    /// The monitor process is still the one that wrote this.
    public var monitorAlive: Bool {
        guard monitorPid > 0, let stat = ProcStat.read(pid: monitorPid), stat.isAlive else { return false }
        return stat.startTime == monitorStartTime
    }
}

/// Docker's State.Health: status, the failing streak, the last five results.
public struct Health: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable { case starting, healthy, unhealthy }

    public var status: Status
    public var failingStreak: Int
    public var log: [HealthResult]

    public init(status: Status = .starting, failingStreak: Int = 0, log: [HealthResult] = []) {
        self.status = status
        self.failingStreak = failingStreak
        self.log = log
    }

    public static let kept = 5

    /// One result counted: Docker's rules (failures during the start period do not count
    /// unless a check already succeeded).
    public mutating func record(_ result: HealthResult, retries: Int, inStartPeriod: Bool) {
        log.append(result)
        if log.count > Self.kept { log.removeFirst(log.count - Self.kept) }
        if result.exitCode == 0 {
            status = .healthy
            failingStreak = 0
        } else if !(inStartPeriod && status == .starting) {
            failingStreak += 1
            if failingStreak >= max(1, retries) { status = .unhealthy }
        }
    }
}

public struct HealthResult: Codable, Sendable, Equatable {
    public var start: String
    public var end: String
    public var exitCode: Int32
    public var output: String

    public init(start: String, end: String, exitCode: Int32, output: String) {
        self.start = start
        self.end = end
        self.exitCode = exitCode
        self.output = output
    }
}
