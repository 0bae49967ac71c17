import Containers
import Database
import Registry

/// `run`: a one-off container of a service (its dependencies up first unless --no-deps), named
/// `project-service-run-ID` and labelled oneoff, with the command and options given.
extension ComposeEngine {
    public struct RunOptions: Sendable {
        public var service: String
        public var command: [String] = []
        public var entrypoint: [String]?
        public var environment: [String] = []
        public var user: String?
        public var workdir: String?
        public var name: String?
        public var noDeps = false
        public var remove = false
        public var publishServicePorts = false
        public var tty = false
        public var interactive = false
        public init(service: String) { self.service = service }
    }

    public func createOneOff(_ o: RunOptions) async throws(SwctrError) -> ContainerRow {
        guard let s = project.service(o.service) else { throw SwctrError(.notFound, "no such service: \(o.service)") }
        if !o.noDeps && !s.dependsOn.isEmpty {
            var up = UpOptions()
            up.services = s.dependsOn.map(\.service)
            try await self.up(up)
            try waitForDependencies(s)
        } else {
            try await build([s], force: false)
            try await pull(s.build == nil ? [s] : [], force: false)
            _ = try ensureNetworks(for: [s])
            _ = try ensureVolumes(for: [s])
        }
        var service = s
        if !o.publishServicePorts { service.ports = [] }
        if !o.command.isEmpty { service.command = o.command }
        if let e = o.entrypoint { service.entrypoint = e }
        if let u = o.user { service.user = u }
        if let w = o.workdir { service.workingDir = w }
        service.restart = nil
        service.containerName = nil
        let number = (containers(service: s.name, oneoff: true).compactMap { Int($0.options.labels[ComposeLabel.number] ?? "") }.max() ?? 0) + 1
        var request = try translation.request(service, number: number, configHash: configHash(s), oneoff: true) { [self] other in
            containers(service: other).first?.row.id
        }
        request.name = o.name ?? "\(project.name)-\(s.name)-run-\(Names.newID().prefix(12))"
        request.options.env += o.environment
        request.options.tty = o.tty
        request.options.openStdin = o.interactive
        request.options.autoRemove = o.remove
        return try manager.create(request)
    }
}
