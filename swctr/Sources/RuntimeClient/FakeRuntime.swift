import Glibc
import HostOS

/// An in-memory runtime for tests of the manager's logic: containers move through created →
/// running → stopped as the calls say, every call is recorded, and failures can be injected.
public final class FakeRuntime: ContainerRuntime, @unchecked Sendable {
    public struct Container: Sendable, Equatable {
        public var status: String
        public var bundle: String
        public var pid: Int32
    }

    private let lock = NSLockLite()
    private var containers: [String: Container] = [:]
    private var nextPid: Int32 = 1000
    /// Every call, as "verb id".
    public private(set) var calls: [String] = []
    /// The next call of this verb fails with this error (once).
    public var failNext: [String: RuntimeCallError] = [:]
    /// What `run` answers as the container's exit status.
    public var runStatus: Int32 = 0

    public init() {}

    public func container(_ id: String) -> Container? { lock.with { containers[id] } }

    private func record(_ verb: String, _ id: String) throws(RuntimeCallError) {
        let failure: RuntimeCallError? = lock.with {
            calls.append("\(verb) \(id)")
            return failNext.removeValue(forKey: verb)
        }
        if let failure { throw failure }
    }

    private func existing(_ id: String) throws(RuntimeCallError) -> Container {
        guard let c = container(id) else { throw RuntimeCallError(.noSuchContainer, "container \(id) does not exist") }
        return c
    }

    public func create(_ id: String, bundle: String, pidFile: String?, consoleSocket: String?, stdio: RuntimeStdio) throws(RuntimeCallError) {
        try record("create", id)
        let taken = lock.with { containers[id] != nil }
        if taken { throw RuntimeCallError(.failed, "container with id exists: \(id)") }
        lock.with {
            nextPid += 1
            containers[id] = Container(status: "created", bundle: bundle, pid: nextPid)
        }
    }

    /// Runs nothing: records the call and answers `runStatus`.
    public func run(_ id: String, bundle: String, stdio: RuntimeStdio) throws(RuntimeCallError) -> Int32 {
        try record("run", id)
        return lock.with { runStatus }
    }

    public func start(_ id: String) throws(RuntimeCallError) {
        try record("start", id)
        var c = try existing(id)
        guard c.status == "created" else { throw RuntimeCallError(.failed, "cannot start a container that is \(c.status)") }
        c.status = "running"
        lock.with { containers[id] = c }
    }

    public func state(_ id: String) throws(RuntimeCallError) -> RuntimeState? {
        try record("state", id)
        return container(id).map { RuntimeState(id: id, status: $0.status, pid: $0.pid, bundle: $0.bundle) }
    }

    public func kill(_ id: String, signal: Int32, all: Bool) throws(RuntimeCallError) {
        try record("kill", id)
        var c = try existing(id)
        if c.status == "stopped" && !all { throw RuntimeCallError(.failed, "container not running") }
        if signal == SIGKILL || signal == SIGTERM { c.status = "stopped" }
        lock.with { containers[id] = c }
    }

    public func delete(_ id: String, force: Bool) throws(RuntimeCallError) {
        try record("delete", id)
        guard let c = container(id) else {
            if force { return }
            throw RuntimeCallError(.noSuchContainer, "container \(id) does not exist")
        }
        if c.status == "running" && !force { throw RuntimeCallError(.failed, "cannot delete a running container") }
        _ = lock.with { containers.removeValue(forKey: id) }
    }

    public func pause(_ id: String) throws(RuntimeCallError) {
        try record("pause", id)
        var c = try existing(id)
        c.status = "paused"
        lock.with { containers[id] = c }
    }

    public func resume(_ id: String) throws(RuntimeCallError) {
        try record("resume", id)
        var c = try existing(id)
        c.status = "running"
        lock.with { containers[id] = c }
    }

    public func update(_ id: String, resources: [UInt8]) throws(RuntimeCallError) {
        try record("update", id)
        _ = try existing(id)
    }

    public func exec(_ id: String, processFile: String, tty: Bool, detach: Bool, pidFile: String?,
                     stdio: RuntimeStdio) throws(RuntimeCallError) -> Int32 {
        try record("exec", id)
        guard try existing(id).status == "running" else { throw RuntimeCallError(.failed, "cannot exec in a stopped container") }
        return 0
    }

    public func processes(_ id: String) throws(RuntimeCallError) -> [Int32] {
        try record("ps", id)
        return [try existing(id).pid]
    }

    /// Stats handed out by `stats` (zeros unless a test sets them).
    public var cannedStats = RuntimeStats()

    public func stats(_ id: String) throws(RuntimeCallError) -> RuntimeStats {
        try record("stats", id)
        _ = try existing(id)
        return lock.with { cannedStats }
    }

    public func version() -> String? { "fake-runtime version 0" }

    /// The container's process exits by itself (as if its program ended).
    public func exit(_ id: String) {
        lock.with { containers[id]?.status = "stopped" }
    }
}

/// A mutex from pthread (FoundationEssentials has no NSLock).
public final class NSLockLite: @unchecked Sendable {
    private var mutex = pthread_mutex_t()

    public init() { pthread_mutex_init(&mutex, nil) }
    deinit { pthread_mutex_destroy(&mutex) }

    public func with<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body()
    }
}
