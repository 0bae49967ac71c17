import ArgumentParser
import Containers
import Database
import JSON

/// `network create|ls|inspect|rm|prune|connect|disconnect`: networks set up by the CNI plugins.
struct Network: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage networks.", subcommands: [NetworkCreate.self, NetworkLs.self, NetworkInspect.self, NetworkRm.self, NetworkPrune.self,
                                                   NetworkConnect.self, NetworkDisconnect.self])
}

struct NetworkCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a network.")
    @OptionGroup var global: Global
    @Option(name: [.customShort("d"), .customLong("driver")], help: "bridge (default), macvlan or ipvlan (-o parent=IFACE).") var driver = "bridge"
    @Option(help: "IPv4 subnet in CIDR form (default: a free private one).") var subnet: String?
    @Option(help: "Gateway address (default: the subnet's first).") var gateway: String?
    @Option(name: .customLong("ip-range"), help: "Give containers addresses from this part of the subnet (CIDR).") var ipRange: String?
    @Flag(help: "No route out of the network (no masquerading).") var `internal` = false
    @Option(name: .customLong("label"), help: "K=V.") var label: [String] = []
    @Option(name: [.customShort("o"), .customLong("opt")], help: "com.docker.network.bridge.name=NAME; parent=IFACE, macvlan_mode=, ipvlan_mode=.")
    var opt: [String] = []
    @Argument var name: String

    func run() async throws {
        var request = NetworkRequest(name: name)
        request.driver = driver
        request.subnet = subnet
        request.gateway = gateway
        request.ipRange = ipRange
        request.isInternal = `internal`
        request.labels = keyValues(label, flag: "--label")
        request.options = keyValues(opt, flag: "--opt")
        do { print(try global.manager(needsRuntime: false).createNetwork(request).id) } catch { fail(error) }
    }
}

struct NetworkConnect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "connect", abstract: "Connect a container to a network.")
    @OptionGroup var global: Global
    @Option(help: "Another name for the container on this network.") var alias: [String] = []
    @Option(help: "The container's IPv4 address on this network.") var ip: String?
    @Argument var network: String
    @Argument var container: String

    func run() async throws {
        do { try global.manager(needsRuntime: false).connect(container, to: network, aliases: alias, ip: ip) } catch { fail(error) }
    }
}

struct NetworkDisconnect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "disconnect", abstract: "Disconnect a container from a network.")
    @OptionGroup var global: Global
    @Flag(name: [.customShort("f"), .customLong("force")], help: "No error when it is not connected.") var force = false
    @Argument var network: String
    @Argument var container: String

    func run() async throws {
        do { try global.manager(needsRuntime: false).disconnect(container, from: network, force: force) } catch { fail(error) }
    }
}

extension ContainerManager {
    func networkDocument(_ n: NetworkRecord) -> JSONValue {
        var containers = JSONObject()
        for v in networkUsers(n.name) {
            let a = networkAddresses(v.row.id).first { $0.network == n.name }
            containers.set(v.row.id, InspectDocument.obj([
                ("Name", .string(v.row.name)), ("MacAddress", .string(a?.mac ?? "")),
                ("IPv4Address", .string(a.map { "\($0.ip)/\($0.prefix)" } ?? "")),
            ]))
        }
        return InspectDocument.obj([
            ("Name", .string(n.name)), ("Id", .string(n.id)), ("Created", .string(InspectDocument.rfc3339(n.created))),
            ("Scope", .string("local")), ("Driver", .string(n.driver)), ("EnableIPv6", .bool(false)),
            ("IPAM", InspectDocument.obj([("Driver", .string("default")), ("Config", .array([
                InspectDocument.obj([("Subnet", .string(n.subnet)), ("Gateway", .string(n.gateway))]
                                    + (n.ipRange.isEmpty ? [] : [("IPRange", .string(n.ipRange))])),
            ]))])),
            ("Internal", .bool(n.isInternal)), ("Containers", .object(containers)),
            ("Options", n.isBridge ? InspectDocument.obj([("com.docker.network.bridge.name", .string(n.bridge))])
                : (try? JSONParser.parse(Array(n.options.utf8))) ?? .object(JSONObject())),
            ("Labels", (try? JSONParser.parse(Array(n.labels.utf8))) ?? .object(JSONObject())),
        ])
    }
}

struct NetworkLs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List networks.", aliases: ["list"])
    @OptionGroup var global: Global
    @Flag(name: [.customShort("q"), .customLong("quiet")], help: "Only ids.") var quiet = false
    @Flag(name: .customLong("no-trunc"), help: "Full ids.") var noTrunc = false
    @Option(name: [.customShort("f"), .customLong("filter")], help: "name=, id=, driver=, label=K[=V].") var filter: [String] = []
    @Option(help: "A Go template ({{.Name}}), table TEMPLATE, or json.") var format: String?

    func run() async throws {
        let manager = global.manager(needsRuntime: false)
        var nets: [NetworkRecord]
        do { nets = try manager.networks() } catch { fail(error) }
        for f in filter {
            let kv = f.split(separator: "=", maxSplits: 1).map(String.init)
            let value = kv.count == 2 ? kv[1] : ""
            switch kv[0] {
            case "name": nets = nets.filter { $0.name.contains(value) }
            case "id": nets = nets.filter { $0.id.hasPrefix(value) }
            case "driver": nets = nets.filter { $0.driver == value }
            case "label":
                let want = value.split(separator: "=", maxSplits: 1).map(String.init)
                nets = nets.filter { n in
                    guard case .object(let l)? = try? JSONParser.parse(Array(n.labels.utf8)), let got = l[want[0]] else { return false }
                    return want.count == 1 || got == .string(want[1])
                }
            default: fail(SwctrError(.invalidArgument, "invalid filter '\(Excerpt.of(kv[0]))'"))
            }
        }
        let id: (NetworkRecord) -> String = { noTrunc ? $0.id : String($0.id.prefix(12)) }
        if quiet {
            for n in nets { print(id(n)) }
            return
        }
        let rows = nets.map { n in
            InspectDocument.obj([("ID", .string(id(n))), ("Name", .string(n.name)), ("Driver", .string(n.driver)), ("Scope", .string("local"))])
        }
        printFormatted(rows, format: format ?? "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}", headers: ["ID": "NETWORK ID"])
    }
}

struct NetworkInspect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Show networks as JSON.")
    @OptionGroup var global: Global
    @Option(name: [.customShort("f"), .customLong("format")], help: "A Go template.") var format: String?
    @Argument var networks: [String]

    func run() async throws {
        let manager = global.manager(needsRuntime: false)
        throw ExitCode(printInspected(networks, format: format) { ref throws(SwctrError) in manager.networkDocument(try manager.network(ref)) })
    }
}

struct NetworkRm: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove networks.", aliases: ["remove"])
    @OptionGroup var global: Global
    @Argument var networks: [String]

    func run() async throws {
        let manager = global.manager(needsRuntime: false)
        throw ExitCode(forEach(networks) { ref throws(SwctrError) in try manager.removeNetwork(ref) })
    }
}

struct NetworkPrune: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "prune", abstract: "Remove networks no running container uses.")
    @OptionGroup var global: Global
    @Flag(name: [.customShort("f"), .customLong("force")], help: "Do not ask.") var force = false

    func run() async throws {
        guard confirmPrune("  - all networks not used by at least one container", force: force) else { return }
        let removed: [String]
        do { removed = try global.manager(needsRuntime: false).pruneNetworks() } catch { fail(error) }
        if !removed.isEmpty {
            print("Deleted Networks:")
            for n in removed { print(n) }
        }
    }
}

/// `port CONTAINER [PRIVATE_PORT[/PROTO]]`: the container's published ports.
struct Port: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List a container's published ports.")
    @OptionGroup var global: Global
    @Argument var container: String
    @Argument var port: String?

    func run() async throws {
        let manager = global.manager(needsRuntime: false)
        let mappings: [String]
        do { mappings = try manager.publishedPorts(container, filter: port) } catch { fail(error) }
        for m in mappings { print(m) }
    }
}
