import Containers
import Database
import Images

/// `down`, `stop`, `start`, `restart`, `rm`: containers stop in reverse dependency order, the
/// containers of one level side by side (each may wait its stop timeout).
extension ComposeEngine {
    public struct DownOptions: Sendable {
        public var volumes = false
        /// "local" (images built for services without an image name) or "all".
        public var removeImages: String?
        public var removeOrphans = false
        public var timeout: Int?
        public init() {}
    }

    public func down(_ o: DownOptions) throws(SwctrError) {
        let names = Set(project.services.map(\.name) + project.inactive)
        var all = containers(oneoff: true)
        let orphans = all.filter { !names.contains($0.options.labels[ComposeLabel.service] ?? "") }
        if !o.removeOrphans {
            all.removeAll { v in orphans.contains { $0.row.id == v.row.id } }
            if !orphans.isEmpty {
                report("Found orphan containers (\(orphans.map(\.row.name).joined(separator: ", "))) for this project. Run down --remove-orphans to remove them.")
            }
        }
        try stopAndRemove(all, timeout: o.timeout, remove: true, volumes: o.volumes)
        removeNetworks()
        if o.volumes { removeVolumes() }
        if let which = o.removeImages {
            guard which == "local" || which == "all" else { throw SwctrError(.invalidArgument, "--rmi takes local or all, not \(which)") }
            for s in project.services where which == "all" || s.image == nil {
                let name = translation.imageName(s)
                guard (try? manager.store.image(name)) != nil else { continue }
                do {
                    try manager.store.exclusively { try manager.store.remove(name) }
                    report(" ✔ Image \(name)  Removed")
                } catch { report(" ✘ Image \(name)  \(error)") }
            }
        }
    }

    /// Stops `views` level by level from the top (orphans first), in parallel within a level;
    /// with `remove` removes them too.
    func stopAndRemove(_ views: [ContainerView], timeout: Int?, remove: Bool, volumes: Bool = false) throws(SwctrError) {
        let order = (try? DependencyOrder.levels(project.services)) ?? []
        func level(_ v: ContainerView) -> Int {
            let svc = v.options.labels[ComposeLabel.service] ?? ""
            return order.firstIndex { $0.contains(svc) } ?? order.count
        }
        let groups = Dictionary(grouping: views, by: level)
        let errors = ErrorBox()
        for l in groups.keys.sorted(by: >) {
            Self.parallel((groups[l] ?? []).filter(\.isRunning)) { [manager, report] v in
                do throws(SwctrError) {
                    report(" ⠿ Container \(v.row.name)  Stopping")
                    try manager.stop(v.row.id, timeout: timeout)
                    report(" ✔ Container \(v.row.name)  Stopped")
                } catch { errors.add(error) }
            }
        }
        if let e = errors.first { throw e }
        guard remove else { return }
        // Once all have stopped, the order no longer matters: they go side by side.
        Self.parallel(views) { [manager, report] v in
            do throws(SwctrError) {
                try manager.remove(v.row.id, force: true, volumes: volumes)
                report(" ✔ Container \(v.row.name)  Removed")
            } catch { errors.add(error) }
        }
        if let e = errors.first { throw e }
    }

    public func stop(_ services: [String], timeout: Int?) throws(SwctrError) {
        let chosen = Set(try selected(services).map(\.name))
        try stopAndRemove(containers().filter { chosen.contains($0.options.labels[ComposeLabel.service] ?? "") }, timeout: timeout, remove: false)
    }

    /// `start`: existing containers, in dependency order.
    public func start(_ services: [String]) throws(SwctrError) {
        for level in try levels(try selected(services)) {
            for s in level {
                try waitForDependencies(s)
                for v in containers(service: s.name) where !v.isRunning {
                    try manager.start(v.row.id)
                    report(" ✔ Container \(v.row.name)  Started")
                }
            }
        }
    }

    public func restart(_ services: [String], timeout: Int?) throws(SwctrError) {
        try stop(services, timeout: timeout)
        try start(services)
    }

    /// `rm`: stopped containers of the services (running ones with `stop`).
    public func removeContainers(_ services: [String], stopFirst: Bool, volumes: Bool) throws(SwctrError) -> [String] {
        let chosen = Set(try selected(services).map(\.name))
        let views = containers(oneoff: true).filter { chosen.contains($0.options.labels[ComposeLabel.service] ?? "") && (stopFirst || !$0.isRunning) }
        try stopAndRemove(views, timeout: nil, remove: true, volumes: volumes)
        return views.map(\.row.name)
    }

    /// `kill`, `pause`, `unpause` on each container of the services.
    public func each(_ services: [String], _ body: (ContainerView) throws(SwctrError) -> Void) throws(SwctrError) {
        let chosen = Set(try selected(services).map(\.name))
        for v in containers() where chosen.contains(v.options.labels[ComposeLabel.service] ?? "") { try body(v) }
    }
}
