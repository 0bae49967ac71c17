import Foundation
import Containers
import Database
import Glibc
import HostOS
import Images
import Monitor
import Registry

/// `up`: networks, volumes and images first; then the containers of each dependency level in
/// order, its services side by side — a service whose containers still carry the config hash
/// the file gives now is left running (only scaled), a changed one is recreated with its
/// dependents; then the starts, a service once what it depends on is started, healthy or
/// completed as its depends_on asks.
extension ComposeEngine {
    public struct UpOptions: Sendable {
        public var services: [String] = []
        public var build = false
        public var noBuild = false
        public var forceRecreate = false
        public var noRecreate = false
        public var noDeps = false
        public var scale: [String: Int] = [:]
        public var removeOrphans = false
        /// Wait until every container runs (and is healthy when it has a health check).
        public var wait = false
        public var waitTimeout: Double?
        public init() {}
    }

    public func up(_ o: UpOptions) async throws(SwctrError) {
        var services = try selected(o.services)
        if !o.noDeps { services = try selected(DependencyOrder.closure(services.map(\.name), in: project.services)) }
        services = project.services.filter { s in services.contains { $0.name == s.name } }
        for (name, _) in o.scale where project.service(name) == nil { throw SwctrError(.notFound, "no such service: \(name)") }
        if !o.noBuild { try await build(services, force: o.build) }
        try await pull(services.filter { $0.build == nil }, force: false)
        let madeNetworks = try ensureNetworks(for: services)
        var madeVolumes: [String] = []
        let made = CreatedSet()
        do throws(SwctrError) {
            madeVolumes = try ensureVolumes(for: services)
            if o.removeOrphans { removeOrphans() }
            let names = Set(project.services.map(\.name))
            let orphans = containers().filter { !names.contains($0.options.labels[ComposeLabel.service] ?? "") }
            if !o.removeOrphans && !orphans.isEmpty {
                report("Found orphan containers (\(orphans.map(\.row.name).joined(separator: ", "))) for this project. Run up --remove-orphans to clean them up.")
            }
            // Compose v2's order: every container is created first, level by level (a changed
            // dependency recreates its dependents), so a dependent's create overlaps nothing on
            // the critical path; then each level starts once its dependencies are as depends_on
            // asks.
            let order = try levels(services)
            var recreated = Set<String>()
            let pending = PendingStarts()
            for level in order {
                let errors = ErrorBox()
                let box = RecreatedBox()
                let snapshot = recreated
                Self.parallel(level) { [self] s in
                    do throws(SwctrError) {
                        let dependencyChanged = s.dependsOn.contains { snapshot.contains($0.service) }
                        let result = try converge(s, o, forceRecreate: o.forceRecreate || dependencyChanged, made: made)
                        if result.changed { box.add(s.name) }
                        pending.set(s.name, result.toStart)
                    } catch { errors.add(error) }
                }
                if let e = errors.first { throw e }
                recreated.formUnion(box.all)
            }
            for level in order {
                let errors = ErrorBox()
                Self.parallel(level) { [self] s in
                    do throws(SwctrError) {
                        try waitForDependencies(s)
                        for id in pending.get(s.name) {
                            try manager.start(id)
                            report(" ✔ Container \((try? manager.find(id).name) ?? id)  Started")
                        }
                    } catch { errors.add(error) }
                }
                if let e = errors.first { throw e }
            }
            if o.wait { try waitUntilReady(services, timeout: o.waitTimeout) }
        } catch {
            // What this up made goes again: no half-started project is left running.
            let ids = made.all
            Self.parallel(ids) { [manager] id in
                try? manager.stop(id, timeout: 0)
                try? manager.remove(id, force: true, volumes: true)
            }
            for v in madeVolumes { try? manager.removeVolume(v, force: true) }
            for n in madeNetworks { try? manager.removeNetwork(n) }
            throw error
        }
    }

    /// The config hash of a service: its whole configuration and the ID of its image.
    func configHash(_ s: ComposeService) -> String {
        let imageID = (try? manager.store.image(translation.imageName(s)))?.id ?? ""
        return String(Digest.hex(Digest.of(Array((s.fingerprint + "\nimage-id=" + imageID).utf8))).prefix(32))
    }

    /// Brings one service to its replica count with the current configuration, short of
    /// starting: the containers to start, and whether it recreated (or first created) any.
    func converge(_ s: ComposeService, _ o: UpOptions, forceRecreate: Bool, made: CreatedSet) throws(SwctrError) -> (toStart: [String], changed: Bool) {
        let hash = configHash(s)
        let want = o.scale[s.name] ?? s.replicas
        if s.containerName != nil && want > 1 {
            throw SwctrError(.invalidArgument, "service \"\(s.name)\" has container_name set: it cannot be scaled to \(want)")
        }
        var existing = containers(service: s.name)
        let stale = existing.contains { $0.options.labels[ComposeLabel.configHash] != hash }
        var changed = false
        if (stale || forceRecreate) && !o.noRecreate && !existing.isEmpty {
            Self.parallel(existing) { [manager, report] v in
                try? manager.stop(v.row.id)
                try? manager.remove(v.row.id, force: true, volumes: false)
                report(" ✔ Container \(v.row.name)  Removed")
            }
            existing = []
            changed = true
        }
        // Surplus replicas (highest numbers first) go.
        for v in existing.reversed() where (Int(v.options.labels[ComposeLabel.number] ?? "") ?? 0) > want {
            try? manager.stop(v.row.id)
            try? manager.remove(v.row.id, force: true, volumes: false)
            report(" ✔ Container \(v.row.name)  Removed")
        }
        existing = existing.filter { (Int($0.options.labels[ComposeLabel.number] ?? "") ?? 0) <= want }
        var toStart: [String] = []
        for n in 1...max(want, 1) where want > 0 {
            if let v = existing.first(where: { $0.options.labels[ComposeLabel.number] == String(n) }) {
                if !v.isRunning { toStart.append(v.row.id) } else { report(" ✔ Container \(v.row.name)  Running") }
                continue
            }
            let request = try translation.request(s, number: n, configHash: hash) { [self] other in
                containers(service: other).first?.row.id
            }
            let row = try manager.create(request)
            made.add(row.id)
            report(" ✔ Container \(row.name)  Created")
            toStart.append(row.id)
            changed = true
        }
        return (toStart, changed)
    }

    /// Blocks until each dependency of `s` is as its condition asks; a dependency that exits or
    /// turns unhealthy instead is an error naming it.
    func waitForDependencies(_ s: ComposeService) throws(SwctrError) {
        for d in s.dependsOn {
            guard let dep = project.service(d.service) else { continue }
            waiting: while true {
                let views = containers(service: dep.name)
                if views.isEmpty {
                    if !d.required { break waiting }
                    throw SwctrError(.failure, "dependency failed to start: service \(dep.name) has no container")
                }
                switch d.condition {
                case .started:
                    if views.allSatisfy({ $0.isRunning || $0.status == .exited }) { break waiting }
                case .healthy:
                    if let bad = views.first(where: { $0.state.health?.status == .unhealthy || (!$0.isRunning && $0.status != .created) }) {
                        guard d.required else { break waiting }
                        throw SwctrError(.failure, "dependency failed to start: container \(bad.row.name) is \(bad.isRunning ? "unhealthy" : "not running")")
                    }
                    if views.allSatisfy({ $0.state.health?.status == .healthy }) {
                        report(" ✔ Container \(views[0].row.name)  Healthy")
                        break waiting
                    }
                    if views.contains(where: { $0.options.healthcheck == nil }) {
                        throw SwctrError(.invalidArgument, "dependency \(dep.name) has no health check: service \(s.name) cannot wait for it to be healthy")
                    }
                case .completed:
                    if let bad = views.first(where: { $0.status == .exited && $0.state.exitCode != 0 }) {
                        throw SwctrError(.failure, "service \"\(dep.name)\" didn't complete successfully: exit \(bad.state.exitCode)")
                    }
                    if views.allSatisfy({ $0.status == .exited }) { break waiting }
                }
                // A dependency's state changes once per probe or exit: polling every 25 ms keeps
                // the dependent's start close behind it (a view is one row and a state file).
                usleep(25_000)
            }
        }
    }

    /// --wait: every container of `services` running, and healthy where it has a health check.
    func waitUntilReady(_ services: [ComposeService], timeout: Double?) throws(SwctrError) {
        let deadline = timeout.map { Clock.monotonicSeconds() + $0 }
        while true {
            let views = services.flatMap { containers(service: $0.name) }
            if let bad = views.first(where: { $0.state.health?.status == .unhealthy || $0.status == .exited || $0.status == .dead }) {
                throw SwctrError(.failure, "container \(bad.row.name) is \(bad.state.health?.status == .unhealthy ? "unhealthy" : "not running")")
            }
            if views.allSatisfy({ $0.isRunning && ($0.options.healthcheck == nil || $0.state.health?.status == .healthy) }) { return }
            if let deadline, Clock.monotonicSeconds() > deadline { throw SwctrError(.transient, "timed out waiting for the project to be healthy") }
            usleep(25_000)
        }
    }

    /// Containers of this project whose service the files no longer have.
    func removeOrphans() {
        let names = Set(project.services.map(\.name) + project.inactive)
        for v in containers(oneoff: true) where !names.contains(v.options.labels[ComposeLabel.service] ?? "") {
            try? manager.stop(v.row.id)
            try? manager.remove(v.row.id, force: true, volumes: false)
            report(" ✔ Container \(v.row.name)  Removed")
        }
    }
}

/// The containers each service's converge left to start.
final class PendingStarts: @unchecked Sendable {
    private let lock = NSLock()
    private var ids: [String: [String]] = [:]
    func set(_ service: String, _ list: [String]) { lock.withLock { ids[service] = list } }
    func get(_ service: String) -> [String] { lock.withLock { ids[service] ?? [] } }
}

/// Containers an up made, for the rollback when it fails.
final class CreatedSet: @unchecked Sendable {
    private let lock = NSLock()
    private var ids: [String] = []
    func add(_ id: String) { lock.withLock { ids.append(id) } }
    var all: [String] { lock.withLock { ids } }
}

final class RecreatedBox: @unchecked Sendable {
    private let lock = NSLock()
    private var names: Set<String> = []
    func add(_ n: String) { _ = lock.withLock { names.insert(n) } }
    var all: Set<String> { lock.withLock { names } }
}
