import ArgumentParser
import Containers
import Database
import Images
import JSON

/// `volume create|ls|inspect|rm|prune`: named volumes in the store, Docker's output.
struct Volume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage volumes.", subcommands: [VolumeCreate.self, VolumeLs.self, VolumeInspect.self, VolumeRm.self, VolumePrune.self])
}

/// K=V pairs of --label and -o.
func keyValues(_ items: [String], flag: String) -> [String: String] {
    var out: [String: String] = [:]
    for item in items {
        let kv = item.split(separator: "=", maxSplits: 1).map(String.init)
        guard let key = kv.first, !key.isEmpty else { fail(SwctrError(.invalidArgument, "\(flag) \(Excerpt.of(item)): want KEY=VALUE")) }
        out[key] = kv.count == 2 ? kv[1] : ""
    }
    return out
}

struct VolumeCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a volume.")
    @OptionGroup var global: Global
    @Option(name: [.customShort("d"), .customLong("driver")], help: "Only local.") var driver = "local"
    @Option(name: .customLong("label"), help: "K=V.") var label: [String] = []
    @Option(name: [.customShort("o"), .customLong("opt")], help: "type=, device=, o= (a mount made when a container starts).")
    var opt: [String] = []
    @Argument var name: String?

    func run() async throws {
        guard driver == "local" else { fail(SwctrError(.invalidArgument, "error looking up volume plugin \(driver): plugin \"\(driver)\" not found")) }
        do {
            let (v, _) = try global.manager(needsRuntime: false).createVolume(name: name, labels: keyValues(label, flag: "--label"),
                                                                           options: keyValues(opt, flag: "--opt"))
            print(v.name)
        } catch { fail(error) }
    }
}

extension ContainerManager {
    /// A volume as `volume inspect` shows it.
    func volumeDocument(_ v: VolumeRecord) -> JSONValue {
        func parsed(_ text: String) -> JSONValue { (try? JSONParser.parse(Array(text.utf8))) ?? .object(JSONObject()) }
        return InspectDocument.obj([
            ("CreatedAt", .string(InspectDocument.rfc3339(v.created))), ("Driver", .string(v.driver)),
            ("Labels", parsed(v.labels)), ("Mountpoint", .string(volumeData(v.name))), ("Name", .string(v.name)),
            ("Options", parsed(v.options)), ("Scope", .string("local")),
        ])
    }
}

struct VolumeLs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List volumes.", aliases: ["list"])
    @OptionGroup var global: Global
    @Flag(name: [.customShort("q"), .customLong("quiet")], help: "Only names.") var quiet = false
    @Option(name: [.customShort("f"), .customLong("filter")], help: "dangling=true|false, name=, label=K[=V].") var filter: [String] = []
    @Option(help: "A Go template ({{.Name}}), table TEMPLATE, or json.") var format: String?

    func run() async throws {
        let manager = global.manager(needsRuntime: false)
        var volumes: [VolumeRecord]
        do { volumes = try manager.volumes() } catch { fail(error) }
        for f in filter {
            let kv = f.split(separator: "=", maxSplits: 1).map(String.init)
            let value = kv.count == 2 ? kv[1] : ""
            switch kv[0] {
            case "dangling":
                guard ["true", "false", "1", "0"].contains(value) else { fail(SwctrError(.invalidArgument, "invalid filter 'dangling=\(value)'")) }
                let dangling = value == "true" || value == "1"
                volumes = volumes.filter { manager.volumeUsers($0.name).isEmpty == dangling }
            case "name": volumes = volumes.filter { $0.name.contains(value) }
            case "label":
                let want = value.split(separator: "=", maxSplits: 1).map(String.init)
                volumes = volumes.filter { v in
                    guard case .object(let labels)? = try? JSONParser.parse(Array(v.labels.utf8)), let got = labels[want[0]] else { return false }
                    return want.count == 1 || got == .string(want[1])
                }
            default: fail(SwctrError(.invalidArgument, "invalid filter '\(Excerpt.of(kv[0]))'"))
            }
        }
        if quiet {
            for v in volumes { print(v.name) }
            return
        }
        let rows = volumes.map { v in
            InspectDocument.obj([("Driver", .string(v.driver)), ("Name", .string(v.name)), ("Scope", .string("local")),
                                 ("Mountpoint", .string(manager.volumeData(v.name))), ("Labels", .string(v.labels == "{}" ? "" : v.labels))])
        }
        printFormatted(rows, format: format ?? "table {{.Driver}}\t{{.Name}}", headers: ["Name": "VOLUME NAME"])
    }
}

struct VolumeInspect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Show volumes as JSON.")
    @OptionGroup var global: Global
    @Option(name: [.customShort("f"), .customLong("format")], help: "A Go template.") var format: String?
    @Argument var names: [String]

    func run() async throws {
        let manager = global.manager(needsRuntime: false)
        throw ExitCode(printInspected(names, format: format) { name throws(SwctrError) in manager.volumeDocument(try manager.volume(name)) })
    }
}

struct VolumeRm: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove volumes.", aliases: ["remove"])
    @OptionGroup var global: Global
    @Flag(name: [.customShort("f"), .customLong("force")], help: "Even when a container uses it.") var force = false
    @Argument var names: [String]

    func run() async throws {
        let manager = global.manager(needsRuntime: false)
        throw ExitCode(forEach(names) { name throws(SwctrError) in try manager.removeVolume(name, force: force) })
    }
}

struct VolumePrune: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "prune", abstract: "Remove unused anonymous volumes (all unused with -a).")
    @OptionGroup var global: Global
    @Flag(name: [.customShort("a"), .customLong("all")], help: "Named volumes too.") var all = false
    @Flag(name: [.customShort("f"), .customLong("force")], help: "Do not ask.") var force = false

    func run() async throws {
        guard confirmPrune(all ? "  - all volumes not used by at least one container" : "  - all anonymous volumes not used by at least one container",
                           force: force) else { return }
        let removed: [(String, Int64)]
        do { removed = try global.manager(needsRuntime: false).pruneVolumes(all: all) } catch { fail(error) }
        if !removed.isEmpty {
            print("Deleted Volumes:")
            for (name, _) in removed { print(name) }
            print()
        }
        print("Total reclaimed space: \(StatsLine.decimalSize(UInt64(max(0, removed.reduce(0) { $0 + $1.1 }))))")
    }
}
