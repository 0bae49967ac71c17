import Build
import Containers
import Database
import Foundation
import HostOS
import Images
import Registry

/// Runs a compose project through the container manager: the project's networks, volumes,
/// images and containers, found again by Compose's labels. One file per verb group (+Up,
/// +Down, +Logs, …).
public final class ComposeEngine: @unchecked Sendable {
    public let manager: ContainerManager
    public let project: ComposeProject
    let translation: ServiceTranslation
    let fetch: ImageFetcher
    /// A progress line for the user (" ✔ Container p-web-1  Started").
    let report: @Sendable (String) -> Void

    public init(manager: ContainerManager, project: ComposeProject, environment: [String: String], fetch: @escaping ImageFetcher,
                report: @escaping @Sendable (String) -> Void = { _ in }) {
        self.manager = manager
        self.project = project
        self.translation = ServiceTranslation(project: project, environment: environment)
        self.fetch = fetch
        self.report = report
    }

    /// The project's containers (one-off `run` containers only when asked), by service and number.
    public func containers(service: String? = nil, oneoff: Bool = false) -> [ContainerView] {
        let all = (try? manager.list()) ?? []
        return all.filter { v in
            v.options.labels[ComposeLabel.project] == project.name
                && (service == nil || v.options.labels[ComposeLabel.service] == service)
                && (oneoff || v.options.labels[ComposeLabel.oneoff] != "True")
        }.sorted {
            let a = ($0.options.labels[ComposeLabel.service] ?? "", Int($0.options.labels[ComposeLabel.number] ?? "") ?? 0)
            let b = ($1.options.labels[ComposeLabel.service] ?? "", Int($1.options.labels[ComposeLabel.number] ?? "") ?? 0)
            return a < b
        }
    }

    /// Services named on the command line (all when none), checked.
    func selected(_ names: [String]) throws(SwctrError) -> [ComposeService] {
        if names.isEmpty { return project.services }
        return try names.map { n throws(SwctrError) in
            guard let s = project.service(n) else { throw SwctrError(.notFound, "no such service: \(n)") }
            return s
        }
    }

    /// Dependency levels of `services` (a subset keeps the project's order).
    func levels(_ services: [ComposeService]) throws(SwctrError) -> [[ComposeService]] {
        let names = Set(services.map(\.name))
        return try DependencyOrder.levels(project.services).map { level in
            level.filter { names.contains($0) }.compactMap { project.service($0) }
        }.filter { !$0.isEmpty }
    }

    /// Runs `body` for every item at once on threads of their own (a stop waits up to its
    /// timeout; a thread pool as small as this machine's core count would queue them).
    static func parallel<T: Sendable>(_ items: [T], _ body: @escaping @Sendable (T) -> Void) {
        guard items.count > 1 else {
            for item in items { body(item) }
            return
        }
        let group = DispatchGroup()
        for item in items {
            group.enter()
            Thread.detachNewThread {
                body(item)
                group.leave()
            }
        }
        group.wait()
    }
}

/// Errors of parallel work, gathered (the first one is reported).
final class ErrorBox: @unchecked Sendable {
    private let lock = NSLock()
    private var errors: [SwctrError] = []

    func add(_ e: SwctrError) { lock.withLock { errors.append(e) } }
    var first: SwctrError? { lock.withLock { errors.first } }
}
