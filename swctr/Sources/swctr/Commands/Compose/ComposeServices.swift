import ArgumentParser
import Compose
import Containers
import Database
import FoundationEssentials
import Glibc
import JSON
import Yams

/// `ps [-a] [-q] [--services] [--format]`: the project's containers, Compose's columns.
struct ComposePs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ps", abstract: "List the project's containers.")
    @OptionGroup var global: Global
    @OptionGroup var compose: ComposeOptions
    @Flag(name: [.customShort("a"), .customLong("all")], help: "Stopped containers too.") var all = false
    @Flag(name: [.customShort("q"), .customLong("quiet")], help: "Only ids.") var quiet = false
    @Flag(help: "Only the services' names.") var services = false
    @Option(help: "table (default), json, or a Go template.") var format: String?
    @Argument var names: [String] = []

    func run() async throws {
        let engine = compose.engine(global, services: names, needsRuntime: false)
        if services {
            for s in engine.project.services where names.isEmpty || names.contains(s.name) { print(s.name) }
            return
        }
        var views = engine.containers()
        if !names.isEmpty { views = views.filter { names.contains($0.options.labels[ComposeLabel.service] ?? "") } }
        if !all { views = views.filter(\.isRunning) }
        if quiet {
            for v in views { print(v.row.id) }
            return
        }
        let now = Date().timeIntervalSince1970
        let rows = views.map { v -> JSONValue in
            guard case .object(var o) = InspectDocument.psRow(v, now: now, truncate: true) else { return .null }
            o.set("Service", .string(v.options.labels[ComposeLabel.service] ?? ""))
            o.set("Name", .string(v.row.name))
            return .object(o)
        }
        printFormatted(rows, format: format ?? "table {{.Name}}\t{{.Image}}\t{{.Command}}\t{{.Service}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}",
                       headers: ["RunningFor": "CREATED"])
    }
}

/// `logs [-f] [--tail N] [-t] [--no-color] [--no-log-prefix] [SERVICE...]`.
struct ComposeLogs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logs", abstract: "Show the output of the project's containers.")
    @OptionGroup var global: Global
    @OptionGroup var compose: ComposeOptions
    @Flag(name: [.customShort("f"), .customLong("follow")], help: "Keep following until the containers stop.") var follow = false
    @Option(name: [.customShort("n"), .customLong("tail")], help: "Only the last N lines of each container (default all).") var tail = "all"
    @Flag(name: [.customShort("t"), .customLong("timestamps")], help: "Prefix each line with its time.") var timestamps = false
    @Flag(name: .customLong("no-color"), help: "No colours.") var noColor = false
    @Flag(name: .customLong("no-log-prefix"), help: "No container name before each line.") var noPrefix = false
    @Argument var services: [String] = []

    func run() async throws {
        let engine = compose.engine(global, services: services, needsRuntime: false)
        engine.manager.store.release()
        var o = ComposeEngine.LogOptions()
        o.services = services
        o.follow = follow
        if tail != "all" {
            guard let n = Int(tail) else { fail("invalid value for --tail: \(tail) (a number or all)") }
            o.tail = n
        }
        o.timestamps = timestamps
        o.color = !noColor && isatty(1) == 1
        o.prefix = !noPrefix
        do { try engine.logs(o) } catch { fail(error) }
    }
}

struct ComposeStart: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "start", abstract: "Start the services' existing containers.")
    @OptionGroup var global: Global
    @OptionGroup var compose: ComposeOptions
    @Argument var services: [String] = []

    func run() async throws {
        do { try compose.engine(global, services: services).start(services) } catch { fail(error) }
    }
}

struct ComposeStop: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stop", abstract: "Stop the services' containers.")
    @OptionGroup var global: Global
    @OptionGroup var compose: ComposeOptions
    @Option(name: [.customShort("t"), .customLong("timeout")], help: "Seconds before SIGKILL.") var timeout: Int?
    @Argument var services: [String] = []

    func run() async throws {
        do { try compose.engine(global, services: services).stop(services, timeout: timeout) } catch { fail(error) }
    }
}

struct ComposeRestart: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "restart", abstract: "Restart the services' containers.")
    @OptionGroup var global: Global
    @OptionGroup var compose: ComposeOptions
    @Option(name: [.customShort("t"), .customLong("timeout")], help: "Seconds before SIGKILL.") var timeout: Int?
    @Argument var services: [String] = []

    func run() async throws {
        do { try compose.engine(global, services: services).restart(services, timeout: timeout) } catch { fail(error) }
    }
}

struct ComposeRm: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove the services' stopped containers.")
    @OptionGroup var global: Global
    @OptionGroup var compose: ComposeOptions
    @Flag(name: [.customShort("f"), .customLong("force")], help: "Do not ask.") var force = false
    @Flag(name: [.customShort("s"), .customLong("stop")], help: "Stop running containers first.") var stop = false
    @Flag(name: [.customShort("v"), .customLong("volumes")], help: "Remove their anonymous volumes.") var volumes = false
    @Argument var services: [String] = []

    func run() async throws {
        do { _ = try compose.engine(global, services: services).removeContainers(services, stopFirst: stop, volumes: volumes) } catch { fail(error) }
    }
}

struct ComposeKill: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "kill", abstract: "Signal the services' containers.")
    @OptionGroup var global: Global
    @OptionGroup var compose: ComposeOptions
    @Option(name: [.customShort("s"), .customLong("signal")], help: "The signal (default SIGKILL).") var signal = "SIGKILL"
    @Argument var services: [String] = []

    func run() async throws {
        let engine = compose.engine(global, services: services)
        do {
            let sig = try OptionParsing.signal(signal)
            try engine.each(services) { v throws(SwctrError) in try engine.manager.kill(v.row.id, signal: sig) }
        } catch { fail(error) }
    }
}

struct ComposeTop: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "top", abstract: "Show the processes of the services' containers.")
    @OptionGroup var global: Global
    @OptionGroup var compose: ComposeOptions
    @Argument var services: [String] = []

    func run() async throws {
        let engine = compose.engine(global, services: services)
        do {
            try engine.each(services) { v throws(SwctrError) in
                print(v.row.name)
                print(try engine.manager.top(v.row.id), terminator: "\n")
            }
        } catch { fail(error) }
    }
}

/// `port [--index N] [--protocol P] SERVICE PORT`: the host address a container port is published on.
struct ComposePort: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "port", abstract: "Print the host address of a published port.")
    @OptionGroup var global: Global
    @OptionGroup var compose: ComposeOptions
    @Option(help: "Which replica (default 1).") var index = 1
    @Option(help: "tcp or udp.") var `protocol` = "tcp"
    @Argument var service: String
    @Argument var port: String

    func run() async throws {
        let engine = compose.engine(global, services: [service], needsRuntime: false)
        guard let v = engine.containers(service: service).first(where: { $0.options.labels[ComposeLabel.number] == String(index) }) else {
            fail("no container found for \(service)_\(index)")
        }
        do {
            for line in try engine.manager.publishedPorts(v.row.id, filter: "\(port)/\(`protocol`)") { print(line) }
        } catch { fail(error) }
    }
}

/// `images`: the images the project's containers run.
struct ComposeImages: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "images", abstract: "List the images the project's containers use.")
    @OptionGroup var global: Global
    @OptionGroup var compose: ComposeOptions
    @Flag(name: [.customShort("q"), .customLong("quiet")], help: "Only image IDs.") var quiet = false
    @Argument var services: [String] = []

    func run() async throws {
        let engine = compose.engine(global, services: services, needsRuntime: false)
        var lines = [["CONTAINER", "REPOSITORY", "TAG", "IMAGE ID", "SIZE"]]
        for v in engine.containers() where services.isEmpty || services.contains(v.options.labels[ComposeLabel.service] ?? "") {
            guard let r = try? engine.manager.imageRecord(of: v.row) else { continue }
            let id = String(r.id.dropFirst(7).prefix(12))
            if quiet { print(id); continue }
            let name = r.name.hasPrefix("sha256:") ? "<none>:<none>" : r.name
            let colon = name.lastIndex(of: ":").map { name[$0...].contains("/") ? nil : $0 } ?? nil
            let repo = colon.map { String(name[..<$0]) } ?? name
            let tag = colon.map { String(name[name.index(after: $0)...]) } ?? "latest"
            lines.append([v.row.name, repo, tag, id, StatsLine.decimalSize(UInt64(max(0, r.size)))])
        }
        if !quiet { printColumns(lines) }
    }
}

/// `config [--services] [--volumes] [-q]`: the project as swctr reads it (files merged,
/// variables interpolated), or only checked with -q.
struct ComposeConfig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "config", abstract: "Check the compose files and print the normalised model.")
    @OptionGroup var global: Global
    @OptionGroup var compose: ComposeOptions
    @Flag(name: [.customShort("q"), .customLong("quiet")], help: "Only check.") var quiet = false
    @Flag(help: "Only the services' names.") var services = false
    @Flag(help: "Only the volumes' names.") var volumes = false

    func run() async throws {
        let p: ComposeProject
        do { p = try compose.project() } catch { fail(error) }
        if quiet { return }
        if services { for s in p.services { print(s.name) }; return }
        if volumes { for v in p.volumes { print(v.key) }; return }
        do { print(try Yams.dump(object: ComposeModel.document(p), sortKeys: true), terminator: "") } catch { fail("\(error)") }
    }
}
