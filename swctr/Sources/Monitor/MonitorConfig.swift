import HostOS
import JSON

/// What a container's monitor is told (`<container dir>/monitor.json`, written by swctr before it
/// starts the monitor): how to run the container through the runtime, where its logs go, and the
/// policies the monitor applies after the CLI has exited.
public struct MonitorConfig: Codable, Sendable, Equatable {
    public var id: String
    /// The OCI runtime binary and its `--root`.
    public var runtime: String
    public var runtimeRoot: String
    /// The bundle (config.json, rootfs) and where the monitor keeps its files.
    public var directory: String
    public var log: LogOptions
    public var tty: Bool
    /// `-i`: stdin stays open for attached clients.
    public var openStdin: Bool
    public var restart: RestartPolicy
    public var health: HealthConfig?
    public var stopSignal: Int32
    public var stopTimeout: Int
    /// Run when the container is gone for good (not restarted): unmount, and remove with --rm.
    public var exitCommand: [String]
    /// The container's memory cgroup directory (v1 memory.oom_control or v2 memory.events), for
    /// OOMKilled.
    public var memoryCgroup: String?

    public init(id: String, runtime: String, runtimeRoot: String, directory: String, log: LogOptions, tty: Bool,
                openStdin: Bool, restart: RestartPolicy, health: HealthConfig?, stopSignal: Int32, stopTimeout: Int,
                exitCommand: [String], memoryCgroup: String?) {
        self.id = id
        self.runtime = runtime
        self.runtimeRoot = runtimeRoot
        self.directory = directory
        self.log = log
        self.tty = tty
        self.openStdin = openStdin
        self.restart = restart
        self.health = health
        self.stopSignal = stopSignal
        self.stopTimeout = stopTimeout
        self.exitCommand = exitCommand
        self.memoryCgroup = memoryCgroup
    }

    public static func path(in directory: String) -> String { directory + "/monitor.json" }

    public func save() throws {
        try FileIO.writeAtomic(Self.path(in: directory), try JSONValueEncoder().encode(self), mode: 0o600)
    }

    public static func load(directory: String) throws -> MonitorConfig {
        try JSONValueDecoder().decode(MonitorConfig.self, from: try FileIO.read(path(in: directory)))
    }
}

public struct LogOptions: Codable, Sendable, Equatable {
    public var path: String
    /// Bytes; 0 = no rotation.
    public var maxSize: Int64
    public var maxFiles: Int

    public init(path: String, maxSize: Int64 = 0, maxFiles: Int = 1) {
        self.path = path
        self.maxSize = maxSize
        self.maxFiles = maxFiles
    }
}

/// `--restart no|always|on-failure[:N]|unless-stopped`, with Docker's backoff: 100 ms doubling
/// per consecutive restart, back to 100 ms once a run lasted 10 s.
public struct RestartPolicy: Codable, Sendable, Equatable {
    public enum Name: String, Codable, Sendable { case no, always, onFailure = "on-failure", unlessStopped = "unless-stopped" }

    public var name: Name
    /// on-failure's N (0 = no limit).
    public var maxRetries: Int

    public init(name: Name = .no, maxRetries: Int = 0) {
        self.name = name
        self.maxRetries = maxRetries
    }

    /// Parses Docker's spelling; nil for anything else.
    public init?(parsing text: String) {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        switch parts.first ?? "" {
        case "", "no": self.init(name: .no)
        case "always": self.init(name: .always)
        case "unless-stopped": self.init(name: .unlessStopped)
        case "on-failure":
            guard parts.count == 1 || Int(parts[1]).map({ $0 >= 0 }) == true else { return nil }
            self.init(name: .onFailure, maxRetries: parts.count == 2 ? Int(parts[1]) ?? 0 : 0)
        default: return nil
        }
        if name != .onFailure && parts.count == 2 { return nil }
    }

    /// Docker's spelling, for inspect and ps.
    public var text: String {
        name == .onFailure && maxRetries > 0 ? "on-failure:\(maxRetries)" : name.rawValue
    }

    /// Whether a container that ended with `exitCode`, after `restarts` restarts, goes again.
    /// A stop the user asked for ends it whatever the policy.
    public func shouldRestart(exitCode: Int32, restarts: Int, stoppedByUser: Bool) -> Bool {
        if stoppedByUser { return false }
        switch name {
        case .no: return false
        case .always, .unlessStopped: return true
        case .onFailure: return exitCode != 0 && (maxRetries == 0 || restarts < maxRetries)
        }
    }

    /// The wait before restart number `consecutive` (0-based).
    public static func backoffNanos(consecutive: Int) -> UInt64 {
        let base: UInt64 = 100_000_000
        return base << UInt64(min(consecutive, 10))
    }

    /// A run at least this long resets the backoff.
    public static let resetAfterNanos: UInt64 = 10_000_000_000
}

/// HEALTHCHECK as Docker keeps it: the test (`CMD-SHELL cmd`, `CMD arg…`, or `NONE`), and
/// durations in nanoseconds.
public struct HealthConfig: Codable, Sendable, Equatable {
    public var test: [String]
    public var interval: Int64
    public var timeout: Int64
    public var startPeriod: Int64
    /// Checks during the start period come this often instead of every `interval` (nil: no
    /// difference) — Docker 25's StartInterval.
    public var startInterval: Int64?
    public var retries: Int

    public init(test: [String], interval: Int64 = 30_000_000_000, timeout: Int64 = 30_000_000_000,
                startPeriod: Int64 = 0, startInterval: Int64? = nil, retries: Int = 3) {
        self.test = test
        self.interval = interval
        self.timeout = timeout
        self.startPeriod = startPeriod
        self.startInterval = startInterval
        self.retries = retries
    }

    /// The command to exec in the container; nil for NONE or an empty test.
    public var command: [String]? {
        guard let kind = test.first else { return nil }
        switch kind {
        case "CMD-SHELL": return test.count > 1 ? ["/bin/sh", "-c", test.dropFirst().joined(separator: " ")] : nil
        case "CMD": return test.count > 1 ? Array(test.dropFirst()) : nil
        case "NONE": return nil
        default: return test
        }
    }
}
