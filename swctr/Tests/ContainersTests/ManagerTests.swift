import Containers
import Database
import Foundation
import HostOS
import JSON
import Images
import Monitor
import RuntimeClient
import Testing

/// The manager's logic over a real store in a temp directory and the fake runtime: lookups,
/// conflicts, what ps believes, removal. No root, no containers.
@Suite("container manager: lookup, conflicts, reconcile, removal (fake runtime)")
struct ManagerTests {
    final class Fixture {
        let dir = NSTemporaryDirectory() + "swctr-manager-\(UUID().uuidString.prefix(8))"
        let runtime = FakeRuntime()
        let manager: ContainerManager

        init() throws {
            let store = try ImageStore(root: dir)
            manager = ContainerManager(store: store, runtime: runtime, runtimeBinary: "/bin/false", runtimeRoot: dir + "/rt",
                                       monitorBinary: "/bin/false", swctrBinary: "/bin/false")
        }

        deinit { FileIO.removeTree(dir) }

        /// A container row and its directory, as create leaves them (without the mount).
        @discardableResult
        func add(_ id: String, name: String, state: ContainerState? = nil, options: ContainerConfig = ContainerConfig()) throws -> ContainerRow {
            let config = String(decoding: try JSONValueEncoder().encode(options), as: UTF8.self)
            let row = ContainerRow(id: id, name: name, image: "busybox", imageID: "sha256:00", created: 1, config: config)
            try manager.database.insert(row)
            try FileIO.mkdirAll(manager.directory(id) + "/rootfs")
            if let state { try state.save(in: manager.directory(id)) }
            return row
        }
    }

    static let a = String(repeating: "a", count: 60) + "0001"
    static let b = String(repeating: "a", count: 60) + "0002"
    static let c = String(repeating: "c", count: 64)

    @Test func lookupByIdPrefixAndName() throws {
        let f = try Fixture()
        try f.add(Self.a, name: "web")
        try f.add(Self.b, name: "db")
        try f.add(Self.c, name: "cache")
        #expect(try f.manager.find(Self.a).name == "web")
        #expect(try f.manager.find("db").id == Self.b)
        #expect(try f.manager.find("/cache").id == Self.c)
        #expect(try f.manager.find("ccc").id == Self.c)
        do {
            _ = try f.manager.find("aaaa")
            Issue.record("an ambiguous prefix was accepted")
        } catch {
            #expect(error.code == .invalidArgument && error.message.contains("multiple IDs"))
        }
        do {
            _ = try f.manager.find("nope")
            Issue.record("an unknown name was found")
        } catch {
            #expect(error.code == .notFound && error.message == "No such container: nope")
        }
    }

    @Test func namesAreUniqueAndChecked() throws {
        let f = try Fixture()
        try f.add(Self.a, name: "web")
        #expect(throws: SwctrError.self) { try f.add(Self.b, name: "web") }
        try f.add(Self.b, name: "db")
        do {
            try f.manager.rename("db", to: "web")
            Issue.record("rename onto a taken name worked")
        } catch {
            #expect(error.code == .conflict)
        }
        #expect(throws: SwctrError.self) { try f.manager.rename("db", to: "bad/name") }
        try f.manager.rename("db", to: "db2")
        #expect(try f.manager.find("db2").id == Self.b)
    }

    @Test func psBelievesProcessesNotRecords() throws {
        let f = try Fixture()
        let me = ProcStat.read(pid: getpid())?.startTime ?? 0
        // The monitor is gone and so is the init: exited, never a stale "Up".
        try f.add(Self.a, name: "gone", state: ContainerState(status: .running, pid: 0x3fff_fff0, monitorPid: 0x3fff_fff1,
                                                                 monitorStartTime: 1, startedAt: "2026-12-01T00:00:00Z"))
        // The monitor is gone but the init still runs (this test process stands in for it).
        var orphan = ContainerState(status: .running, pid: getpid(), monitorPid: 0x3fff_fff1, monitorStartTime: 1)
        orphan.pidStartTime = me
        try f.add(Self.b, name: "orphan", state: orphan)
        // The init's pid was reused by another process: its start time differs.
        var reused = orphan
        reused.pidStartTime = me + 1
        try f.add(Self.c, name: "reused", state: reused)
        let views = Dictionary(uniqueKeysWithValues: try f.manager.list().map { ($0.row.name, $0) })
        #expect(views["gone"]?.status == .exited)
        #expect(views["gone"]?.state.error.contains("monitor") == true)
        #expect(views["orphan"]?.status == .running && views["orphan"]?.orphaned == true)
        #expect(views["reused"]?.status == .exited)
        #expect(views["gone"]?.statusText(now: 1_900_000_000).hasPrefix("Exited (255)") == true)
    }

    @Test func verbsOnACreatedContainerAreConflicts() throws {
        let f = try Fixture()
        try f.add(Self.a, name: "fresh")
        let verbs: [(String, () throws(SwctrError) -> Void)] = [
            ("pause", { () throws(SwctrError) in try f.manager.pause("fresh") }),
            ("kill", { () throws(SwctrError) in try f.manager.kill("fresh", signal: 9) }),
            ("exec", { () throws(SwctrError) in _ = try f.manager.exec("fresh", ExecRequest(command: ["true"])) }),
        ]
        for (verb, body) in verbs {
            do {
                try body()
                Issue.record("\(verb) on a created container worked")
            } catch {
                #expect(error.code == .conflict, "\(verb)")
            }
        }
        #expect(f.runtime.calls.isEmpty)
    }

    @Test func removeAndPruneTakeRowsDirectoriesAndRuntimeState() throws {
        let f = try Fixture()
        try f.add(Self.a, name: "one")
        try f.add(Self.b, name: "two", state: ContainerState(status: .exited, exitCode: 3))
        try f.manager.remove("one", force: false)
        #expect(!FileIO.exists(f.manager.directory(Self.a)))
        #expect(f.runtime.calls.contains("delete \(Self.a)"))
        #expect(throws: SwctrError.self) { try f.manager.find("one") }
        #expect(try f.manager.prune() == [Self.b])
        #expect(try f.manager.list().isEmpty)
    }

    @Test func healthFollowsDockersRules() {
        var h = Health()
        let fail = HealthResult(start: "", end: "", exitCode: 1, output: "")
        let pass = HealthResult(start: "", end: "", exitCode: 0, output: "ok")
        h.record(fail, retries: 2, inStartPeriod: true)
        #expect(h.status == .starting && h.failingStreak == 0)
        h.record(fail, retries: 2, inStartPeriod: false)
        #expect(h.status == .starting && h.failingStreak == 1)
        h.record(fail, retries: 2, inStartPeriod: false)
        #expect(h.status == .unhealthy)
        h.record(pass, retries: 2, inStartPeriod: false)
        #expect(h.status == .healthy && h.failingStreak == 0)
        for _ in 0..<10 { h.record(pass, retries: 2, inStartPeriod: false) }
        #expect(h.log.count == Health.kept)
    }
}
