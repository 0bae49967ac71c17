import ArgumentParser
import Compose
import Containers
import Database
import Glibc

/// `exec [-d] [-T] [-e K=V] [-u U] [-w D] [--index N] SERVICE CMD…`: a process in a running
/// container of the service (a terminal when stdin is one, unless -T).
struct ComposeExec: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "exec", abstract: "Run a command in a running service container.")
    @OptionGroup var global: Global
    @OptionGroup var compose: ComposeOptions
    @Flag(name: [.customShort("d"), .customLong("detach")], help: "Run in the background.") var detach = false
    @Flag(name: [.customShort("T"), .customLong("no-TTY")], help: "No terminal (default: one when stdin is a terminal).") var noTTY = false
    @Option(name: [.customShort("e"), .customLong("env")], help: "K=V.") var env: [String] = []
    @Option(name: [.customShort("u"), .customLong("user")], help: "user[:group].") var user: String?
    @Option(name: [.customShort("w"), .customLong("workdir")], help: "Working directory.") var workdir: String?
    @Option(help: "Which replica (default 1).") var index = 1
    @Flag(help: "All capabilities.") var privileged = false
    @Argument var service: String
    @Argument(parsing: .captureForPassthrough) var command: [String] = []

    func run() async throws {
        let engine = compose.engine(global, services: [service])
        guard let v = engine.containers(service: service).first(where: { $0.options.labels[ComposeLabel.number] == String(index) }),
              v.isRunning else {
            fail(SwctrError(.conflict, "service \"\(service)\" is not running"), runLike: true)
        }
        engine.manager.store.release()
        var request = ExecRequest(command: command)
        let tty = !noTTY && !detach && isatty(0) == 1
        request.tty = tty
        request.interactive = !detach
        request.detach = detach
        request.env = env
        request.user = user
        request.workdir = workdir
        request.privileged = privileged
        let status: Int32
        do { status = try engine.manager.exec(v.row.id, request) } catch { fail(error, runLike: true) }
        throw ExitCode(status)
    }
}

/// `run [--rm] [-d] [--no-deps] [-e] [-u] [-w] [--entrypoint] [--name] [--service-ports] [-T]
/// SERVICE [CMD…]`: a one-off container of the service.
struct ComposeRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run a one-off command on a service.")
    @OptionGroup var global: Global
    @OptionGroup var compose: ComposeOptions
    @Flag(name: [.customShort("d"), .customLong("detach")], help: "Run in the background and print the container's id.") var detach = false
    @Flag(help: "Remove the container when it exits.") var rm = false
    @Flag(name: .customLong("no-deps"), help: "Do not start the service's dependencies.") var noDeps = false
    @Option(name: [.customShort("e"), .customLong("env")], help: "K=V.") var env: [String] = []
    @Option(name: [.customShort("u"), .customLong("user")], help: "user[:group].") var user: String?
    @Option(name: [.customShort("w"), .customLong("workdir")], help: "Working directory.") var workdir: String?
    @Option(help: "Override the image's entrypoint.") var entrypoint: String?
    @Option(help: "The container's name.") var name: String?
    @Flag(name: .customLong("service-ports"), help: "Publish the service's ports.") var servicePorts = false
    @Flag(name: [.customShort("T"), .customLong("no-TTY")], help: "No terminal.") var noTTY = false
    @Argument var service: String
    @Argument(parsing: .captureForPassthrough) var command: [String] = []

    func run() async throws {
        let engine = compose.engine(global, services: [service])
        var o = ComposeEngine.RunOptions(service: service)
        o.command = command
        o.entrypoint = entrypoint.map { $0.isEmpty ? [] : [$0] }
        o.environment = env
        o.user = user
        o.workdir = workdir
        o.name = name
        o.noDeps = noDeps
        o.remove = rm && detach
        o.publishServicePorts = servicePorts
        o.tty = !noTTY && !detach && isatty(0) == 1
        o.interactive = !detach
        let row: ContainerRow
        do { row = try await engine.createOneOff(o) } catch { fail(error, runLike: true) }
        if detach {
            do { try engine.manager.start(row.id) } catch { fail(error, runLike: true) }
            print(row.id)
            return
        }
        attachAndWait(engine.manager, row, interactive: o.interactive, tty: o.tty, sigProxy: true, detachKeys: nil, remove: rm)
    }
}

/// `build [--no-cache] [--pull] [SERVICE…]`.
struct ComposeBuild: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "build", abstract: "Build the services' images.")
    @OptionGroup var global: Global
    @OptionGroup var compose: ComposeOptions
    @Flag(name: .customLong("no-cache"), help: "Run every step.") var noCache = false
    @Flag(help: "Pull base images even when the store has them.") var pull = false
    @Argument var services: [String] = []

    func run() async throws {
        let engine = compose.engine(global, services: services)
        var o = ComposeEngine.BuildOptions()
        o.noCache = noCache
        o.pull = pull
        do { try await engine.build(engine.project.services.filter { services.isEmpty || services.contains($0.name) }, force: true, options: o) } catch {
            fail(error)
        }
    }
}

/// `pull [SERVICE…]`.
struct ComposePull: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pull", abstract: "Pull the services' images.")
    @OptionGroup var global: Global
    @OptionGroup var compose: ComposeOptions
    @Argument var services: [String] = []

    func run() async throws {
        let engine = compose.engine(global, services: services)
        do { try await engine.pull(engine.project.services.filter { services.isEmpty || services.contains($0.name) }, force: true) } catch { fail(error) }
    }
}
