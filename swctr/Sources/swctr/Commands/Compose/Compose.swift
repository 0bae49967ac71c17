import ArgumentParser
import Compose
import Containers
import Database
import Foundation
import Glibc
import HostOS

/// `compose`: multi-container applications from compose files (Docker Compose v2's verbs).
struct ComposeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compose", abstract: "Define and run multi-container applications.",
        subcommands: [ComposeUp.self, ComposeDown.self, ComposePs.self, ComposeLogs.self, ComposeBuild.self, ComposePull.self,
                      ComposeExec.self, ComposeRun.self, ComposeStart.self, ComposeStop.self, ComposeRestart.self, ComposeRm.self,
                      ComposeKill.self, ComposeConfig.self, ComposeImages.self, ComposeTop.self, ComposePort.self])

    /// Options Docker Compose takes before the verb (`compose -f a.yml -p x up`): moved
    /// behind it, where each verb reads them.
    static let valueOptions: Set<String> = ["-f", "--file", "-p", "--project-name", "--project-directory", "--profile", "--env-file"]
}

/// The project options every compose verb takes.
struct ComposeOptions: ParsableArguments {
    // -f and -p go before the verb (`compose -f a.yml up`) and arrive here spelled long:
    // after the verb, -f is a verb's own (logs -f, rm -f).
    @Option(name: .customLong("file"), help: "Compose file (repeatable; before the verb also -f; default: compose.yaml or docker-compose.yml here or above).")
    var file: [String] = []
    @Option(name: .customLong("project-name"), help: "Project name (before the verb also -p; default: COMPOSE_PROJECT_NAME, name:, or the directory's name).")
    var projectName: String?
    @Option(name: .customLong("project-directory"), help: "The project's directory (default: the first file's).") var projectDirectory: String?
    @Option(name: .customLong("profile"), help: "Enable a profile (repeatable).") var profile: [String] = []
    @Option(name: .customLong("env-file"), help: "Variables for interpolation (default: .env in the project's directory).") var envFile: String?

    static var environment: [String: String] {
        var out: [String: String] = [:]
        var p = environ
        while let entry = p.pointee {
            let kv = String(cString: entry)
            if let eq = kv.firstIndex(of: "=") { out[String(kv[..<eq])] = String(kv[kv.index(after: eq)...]) }
            p += 1
        }
        return out
    }

    static var currentDirectory: String {
        var buf = [CChar](repeating: 0, count: 4096)
        return getcwd(&buf, buf.count) != nil ? String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "/"
    }

    func project(services: [String] = []) throws(SwctrError) -> ComposeProject {
        var o = ProjectOptions(environment: Self.environment, currentDirectory: Self.currentDirectory)
        o.files = file
        o.projectName = projectName
        o.projectDirectory = projectDirectory
        o.profiles = profile
        o.envFile = envFile
        o.requestedServices = services
        let p = try ProjectLoader.load(o)
        for v in p.unsetVariables { writeStderr("WARN[0000] The \"\(v)\" variable is not set. Defaulting to a blank string.\n") }
        return p
    }

    /// The engine over this store; progress lines go to stderr.
    func engine(_ global: Global, services: [String] = [], needsRuntime: Bool = true) -> ComposeEngine {
        let p: ComposeProject
        do { p = try project(services: services) } catch { fail(error) }
        let manager = global.manager(needsRuntime: needsRuntime)
        return ComposeEngine(manager: manager, project: p, environment: Self.environment, fetch: global.imageFetcher(manager.store),
                             report: { writeStderr($0 + "\n") })
    }
}

/// `up [-d] [--build] [--no-build] [--force-recreate] [--no-recreate] [--no-deps] [--scale S=N]
/// [--remove-orphans] [--wait] [SERVICE...]`.
struct ComposeUp: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "up", abstract: "Create and start the project's containers.")
    @OptionGroup var global: Global
    @OptionGroup var compose: ComposeOptions
    @Flag(name: [.customShort("d"), .customLong("detach")], help: "Leave the containers running in the background.") var detach = false
    @Flag(help: "Build images before starting.") var build = false
    @Flag(name: .customLong("no-build"), help: "Do not build missing images.") var noBuild = false
    @Flag(name: .customLong("force-recreate"), help: "Recreate every container.") var forceRecreate = false
    @Flag(name: .customLong("no-recreate"), help: "Leave existing containers as they are.") var noRecreate = false
    @Flag(name: .customLong("no-deps"), help: "Do not start the services' dependencies.") var noDeps = false
    @Option(help: "SERVICE=NUM replicas (repeatable).") var scale: [String] = []
    @Flag(name: .customLong("remove-orphans"), help: "Remove containers of services the files no longer have.") var removeOrphans = false
    @Flag(help: "Wait for the services to be running and healthy (implies -d).") var wait = false
    @Option(name: .customLong("wait-timeout"), help: "Seconds --wait waits at most.") var waitTimeout: Double?
    @Option(name: [.customShort("t"), .customLong("timeout")], help: "Stop timeout (seconds) when attached and stopped.") var timeout: Int?
    @Argument var services: [String] = []

    func run() async throws {
        let engine = compose.engine(global, services: services)
        var o = ComposeEngine.UpOptions()
        o.services = services
        o.build = build
        o.noBuild = noBuild
        o.forceRecreate = forceRecreate
        o.noRecreate = noRecreate
        o.noDeps = noDeps
        o.removeOrphans = removeOrphans
        o.wait = wait
        o.waitTimeout = waitTimeout
        for s in scale {
            guard let eq = s.firstIndex(of: "="), let n = Int(s[s.index(after: eq)...]), n >= 0 else {
                fail("invalid --scale \(s): want SERVICE=NUM")
            }
            o.scale[String(s[..<eq])] = n
        }
        do { try await engine.up(o) } catch { fail(error) }
        if detach || wait { return }
        // Attached: the containers' output until they all stop; Ctrl-C stops them.
        let pipe = try? SignalPipe.install([SIGINT, SIGTERM])
        let stopper = Thread { [engine] in
            guard let pipe else { return }
            var p = pollfd(fd: pipe, events: Int16(POLLIN), revents: 0)
            while poll(&p, 1, -1) < 0 && errno == EINTR {}
            guard SignalPipe.read(pipe) != nil else { return }
            writeStderr("Gracefully stopping... (press Ctrl+C again to force)\n")
            try? engine.stop(services, timeout: timeout)
        }
        stopper.start()
        var lo = ComposeEngine.LogOptions()
        lo.services = services
        lo.follow = true
        lo.color = isatty(1) == 1
        do { try engine.logs(lo) } catch { fail(error) }
    }
}

/// `down [-v] [--rmi local|all] [--remove-orphans] [-t N]`.
struct ComposeDown: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "down", abstract: "Stop and remove the project's containers and networks.")
    @OptionGroup var global: Global
    @OptionGroup var compose: ComposeOptions
    @Flag(name: [.customShort("v"), .customLong("volumes")], help: "Remove named volumes and anonymous ones too.") var volumes = false
    @Option(help: "Remove images: local (those built without a name) or all.") var rmi: String?
    @Flag(name: .customLong("remove-orphans"), help: "Remove containers of services the files no longer have.") var removeOrphans = false
    @Option(name: [.customShort("t"), .customLong("timeout")], help: "Stop timeout in seconds.") var timeout: Int?

    func run() async throws {
        let engine = compose.engine(global)
        var o = ComposeEngine.DownOptions()
        o.volumes = volumes
        o.removeImages = rmi
        o.removeOrphans = removeOrphans
        o.timeout = timeout
        do { try engine.down(o) } catch { fail(error) }
    }
}
