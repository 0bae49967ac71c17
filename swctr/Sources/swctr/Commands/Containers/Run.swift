import ArgumentParser
import Containers
import Database
import Glibc
import HostOS

/// `create`: records the container and prepares its bundle; prints its id.
struct Create: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create a container (it does not run until start).",
                                                    helpNames: [.long])
    @OptionGroup var global: Global
    @OptionGroup var options: ContainerOptions
    @OptionGroup var target: ImageAndCommand

    func run() async throws {
        let manager = global.manager()
        let row = await createContainer(manager, global: global, options: options, target: target)
        print(row.id)
    }
}

/// `run`: create and start; in the foreground it is attached until the container exits and
/// exits with its status, with -d it prints the id and leaves the container to its monitor.
struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run a command in a new container.", helpNames: [.long])
    @OptionGroup var global: Global
    @OptionGroup var options: ContainerOptions
    @Flag(name: [.customShort("d"), .customLong("detach")], help: "Run in the background and print the container's id.")
    var detach = false
    @Option(name: .customLong("sig-proxy"), help: "Pass received signals to the container (default true; not with -t).")
    var sigProxy = true
    @Option(name: .customLong("detach-keys"), help: "Keys that detach from the container (default ctrl-p,ctrl-q).")
    var detachKeys: String?
    @OptionGroup var target: ImageAndCommand

    func run() async throws {
        let manager = global.manager()
        if detach && !options.attach.isEmpty { fail(SwctrError(.invalidArgument, "Conflicting options: -a and -d"), runLike: true) }
        let row = await createContainer(manager, global: global, options: options, target: target)
        let config = manager.config(of: row)
        // Docker's --rm: a container that could not start goes too.
        func failStart(_ error: SwctrError) -> Never {
            if options.rm { try? manager.remove(row.id, force: true, volumes: true) }
            fail(error, runLike: true)
        }
        if detach {
            do { try manager.start(row.id) } catch { failStart(error) }
            print(row.id)
            return
        }
        attachAndWait(manager, row, interactive: options.interactive && (options.attach.isEmpty || options.attach.contains { $0.lowercased() == "stdin" }),
                      tty: options.tty, sigProxy: sigProxy, detachKeys: detachKeys, remove: options.rm,
                      stdout: config.attachStdout, stderr: config.attachStderr)
    }
}

/// Starts `row` attached to its output (and stdin), passes signals on, and exits with its
/// status (run and compose run).
func attachAndWait(_ manager: ContainerManager, _ row: ContainerRow, interactive: Bool, tty: Bool, sigProxy: Bool,
                   detachKeys: String?, remove: Bool, stdout: Bool = true, stderr: Bool = true) -> Never {
    func failStart(_ error: SwctrError) -> Never {
        if remove { try? manager.remove(row.id, force: true, volumes: true) }
        fail(error, runLike: true)
    }
    let started: StartedMonitor
    do {
        guard let s = try manager.start(row.id, attach: true) else { failStart(SwctrError(.failure, "container \(row.id) is already running")) }
        started = s
    } catch { failStart(error) }
    manager.store.release()
    var session = AttachSession(fd: started.attachFD, pending: started.pending, directory: manager.directory(row.id),
                                interactive: interactive, tty: tty, proxySignals: sigProxy)
    session.showStdout = stdout
    session.showStderr = stderr
    if let detachKeys {
        guard let keys = DetachKeys.parse(detachKeys) else { fail(SwctrError(.invalidArgument, "invalid detach keys: \(detachKeys)"), runLike: true) }
        session.detachKeys = keys
    }
    let outcome = session.run()
    close(started.attachFD)
    switch outcome {
    case .exited(let code):
        if remove { manager.waitForExit(pid: started.pid, timeoutMs: 60_000) }
        exit(code)
    case .detached:
        exit(0)
    case .lost:
        fail(SwctrError(.failure, "lost the connection to the container's monitor (swctr logs \(row.name) has its output)"), runLike: true)
    }
}

struct ImageAndCommand: ParsableArguments {
    @Argument(help: "Image name or ID.") var image: String
    @Argument(parsing: .captureForPassthrough, help: "Command and arguments (default: the image's).")
    var command: [String] = []
}

/// The image (pulled when missing, or always with --pull always), then the container.
func createContainer(_ manager: ContainerManager, global: Global, options: ContainerOptions,
                     target: ImageAndCommand) async -> ContainerRow {
    let image = target.image
    let command = target.command
    let config: ContainerConfig
    do { config = try options.config(command: command) } catch { fail(error, runLike: true) }
    if let cidfile = options.cidfile, FileIO.exists(cidfile) {
        fail(SwctrError(.conflict, "Container ID file found, make sure the other container isn't running or delete \(cidfile)"), runLike: true)
    }
    let present = ((try? manager.store.image(image)) ?? nil) != nil
    if options.pull == "always" || (!present && options.pull == "missing") {
        if !present { writeStderr("Unable to find image '\(image)' locally\n") }
        await pullToStderr(image, global: global)
    } else if !present {
        fail(SwctrError(.notFound, "No such image: \(image)"), runLike: true)
    }
    var request = CreateRequest(image: image, name: options.name, options: config)
    request.noHealthcheck = options.noHealthcheck
    request.volumesFrom = options.volumesFrom
    let row: ContainerRow
    do { row = try manager.create(request) } catch { fail(error, runLike: true) }
    if let cidfile = options.cidfile {
        do { try FileIO.writeFile(Array(row.id.utf8), to: cidfile, mode: 0o644) } catch {
            try? manager.remove(row.id, force: true, volumes: true)
            fail(SwctrError(.invalidArgument, "write the container id file \(cidfile): \(error)"), runLike: true)
        }
    }
    return row
}

/// `pull` for run and create: its progress goes to stderr, so that `id=$(swctr run -d …)` is the id.
func pullToStderr(_ image: String, global: Global) async {
    var argv = [image]
    if let r = global.rootOption { argv += ["--root", r] }
    if let a = global.authfile { argv += ["--authfile", a] }
    if let c = global.registriesConf { argv += ["--registries-conf", c] }
    let saved = dup(1)
    dup2(2, 1)
    defer {
        dup2(saved, 1)
        close(saved)
    }
    do {
        let pull = try Pull.parse(argv)
        try await pull.perform()
    } catch let error as SwctrError {
        fail(error, runLike: true)
    } catch {
        fail(SwctrError(.invalidArgument, "\(error)"), runLike: true)
    }
}
