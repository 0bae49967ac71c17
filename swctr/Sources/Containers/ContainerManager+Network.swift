import Database
import FoundationEssentials
import Glibc
import HostOS
import JSON
import Networks

/// What `network create` asks for, in Docker's terms.
public struct NetworkRequest: Sendable {
    public var name: String
    /// bridge, macvlan or ipvlan.
    public var driver = "bridge"
    public var subnet: String?
    public var gateway: String?
    public var ipRange: String?
    public var isInternal = false
    public var labels: [String: String] = [:]
    /// `-o`: com.docker.network.bridge.name for bridges; parent and macvlan_mode / ipvlan_mode.
    public var options: [String: String] = [:]
    /// Names resolve on the network (user-defined bridges; not the default one).
    public var dns = true

    public init(name: String) { self.name = name }
}

/// Networks: rows in the database, a Linux bridge each (made by the bridge plugin on first use)
/// or a macvlan/ipvlan parent; the per-container side is in +Attach.
extension ContainerManager {
    /// Docker's default network: no name resolution, created on first use.
    public static let defaultNetwork = "bridge"
    static let driverOptions = ["bridge": ["com.docker.network.bridge.name"], "macvlan": ["parent", "macvlan_mode"],
                                "ipvlan": ["parent", "ipvlan_mode"]]
    static let driverModes = ["macvlan_mode": ["bridge", "private", "vepa", "passthru"], "ipvlan_mode": ["l2", "l3", "l3s"]]

    public func networks() throws(SwctrError) -> [NetworkRecord] {
        do { return try database.networks() } catch { throw SwctrError(.failure, "\(error)") }
    }

    public func network(_ ref: String) throws(SwctrError) -> NetworkRecord {
        let all = try networks()
        if let n = all.first(where: { $0.name == ref }) ?? all.first(where: { $0.id == ref }) { return n }
        let byPrefix = ref.count >= 3 ? all.filter { $0.id.hasPrefix(ref) } : []
        if byPrefix.count == 1 { return byPrefix[0] }
        if ref == Self.defaultNetwork {
            var request = NetworkRequest(name: ref)
            request.dns = false
            // Concurrent first runs race to make it: the loser takes the winner's.
            do { return try createNetwork(request) } catch where error.code == .conflict {
                if let made = try networks().first(where: { $0.name == ref }) { return made }
                throw error
            }
        }
        throw SwctrError(.notFound, "network \(ref) not found")
    }

    /// `network create`: a subnet that overlaps no other network (and for a bridge no host route:
    /// a macvlan or ipvlan network usually is the parent's LAN).
    @discardableResult
    public func createNetwork(_ r: NetworkRequest) throws(SwctrError) -> NetworkRecord {
        let name = r.name
        guard Names.isValid(name), name != "host", name != "none" else {
            throw SwctrError(.invalidArgument, "invalid network name \(Excerpt.of(name)): only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed (host and none are reserved)")
        }
        guard let known = Self.driverOptions[r.driver] else {
            throw SwctrError(.notFound, "plugin \"\(Excerpt.of(r.driver))\" not found (swctr has the bridge, macvlan and ipvlan drivers)")
        }
        for (key, value) in r.options.sorted(by: { $0.key < $1.key }) {
            guard known.contains(key) else {
                throw SwctrError(.invalidArgument, "unknown \(r.driver) network option \(Excerpt.of(key)) (it takes \(known.joined(separator: ", ")))")
            }
            if let modes = Self.driverModes[key], !modes.contains(value) {
                throw SwctrError(.invalidArgument, "invalid \(key) \(Excerpt.of(value)): one of \(modes.joined(separator: ", "))")
            }
        }
        if !r.isBridgeDriver {
            guard let parent = r.options["parent"], !parent.isEmpty else {
                throw SwctrError(.invalidArgument, "a \(r.driver) network needs its parent interface: -o parent=IFACE")
            }
            guard !parent.contains("/"), parent != ".", parent != "..", FileIO.exists("/sys/class/net/\(parent)") else {
                throw SwctrError(.notFound, "-o parent=\(Excerpt.of(parent)): no such network interface")
            }
        }
        let existing = try networks()
        if existing.contains(where: { $0.name == name }) { throw SwctrError(.conflict, "network with name \(name) already exists") }
        let net: Subnet
        if let subnet = r.subnet {
            net = try Subnet(parsing: subnet)
            if let other = existing.first(where: { (try? Subnet(parsing: $0.subnet))?.overlaps(net) == true }) {
                throw SwctrError(.conflict, "invalid pool request: Pool overlaps with other one on this address space (network \(other.name), \(other.subnet))")
            }
            if r.isBridgeDriver, let route = Subnet.hostRoutes().first(where: { $0.overlaps(net) }) {
                throw SwctrError(.conflict, "subnet \(net) overlaps the host's route to \(route)")
            }
        } else {
            net = try Subnet.free(avoiding: existing.compactMap { try? Subnet(parsing: $0.subnet) })
        }
        var gw = Subnet.text(net.firstHost)
        if let gateway = r.gateway {
            guard let g = Subnet.address(gateway), net.contains(g), g != net.network else {
                throw SwctrError(.invalidArgument, "invalid gateway \(Excerpt.of(gateway)): not a host address in \(net)")
            }
            gw = gateway
        }
        var ipRange = ""
        if let text = r.ipRange {
            guard r.subnet != nil else { throw SwctrError(.invalidArgument, "--ip-range needs --subnet") }
            let range = try Subnet(parsing: text)
            guard range.prefix >= net.prefix, net.contains(range.network) else {
                throw SwctrError(.invalidArgument, "invalid --ip-range \(range): not inside the subnet \(net)")
            }
            ipRange = range.description
        }
        let id = Names.newID()
        var bridgeName = r.options["com.docker.network.bridge.name"] ?? ""
        if !r.isBridgeDriver {
            bridgeName = "\(r.driver):\(id.prefix(12))"
        } else if bridgeName.isEmpty {
            let used = Set(existing.map(\.bridge))
            bridgeName = (0...999).map { "swctr\($0)" }.first { !used.contains($0) && !FileIO.exists("/sys/class/net/\($0)") } ?? "swctr-x"
        } else {
            guard bridgeName.count <= 15, !bridgeName.contains("/"), !bridgeName.contains(" ") else {
                throw SwctrError(.invalidArgument, "invalid bridge name \(Excerpt.of(bridgeName)): at most 15 characters, no / or space")
            }
        }
        func json(_ pairs: [String: String]) -> String {
            var o = JSONObject()
            for (k, v) in pairs.sorted(by: { $0.key < $1.key }) { o.set(k, .string(v)) }
            return JSONValue.object(o).serialized()
        }
        // dnsname serves names from the bridge's address; a macvlan parent has no such address.
        let record = NetworkRecord(name: name, id: id, driver: r.driver, bridge: bridgeName, subnet: net.description, gateway: gw,
                                   isInternal: r.isInternal, dns: r.dns && r.isBridgeDriver, labels: json(r.labels),
                                   created: Date().timeIntervalSince1970, ipRange: ipRange,
                                   options: json(r.options.filter { $0.key != "com.docker.network.bridge.name" }))
        do { try database.insertNetwork(record) } catch let e as SwctrError { throw e } catch { throw SwctrError(.failure, "\(error)") }
        return record
    }

    /// Running containers attached to the network.
    public func networkUsers(_ name: String) -> [ContainerView] {
        ((try? list()) ?? []).filter { $0.isRunning && $0.options.attachedNetworks.contains { $0.network == name } }
    }

    /// `network rm`: refused while a running container is on it; the bridge, the plugins'
    /// address records and the name server go with it.
    public func removeNetwork(_ ref: String) throws(SwctrError) {
        let n = try network(ref)
        let users = networkUsers(n.name)
        guard users.isEmpty else {
            throw SwctrError(.conflict, "error while removing network: network \(n.name) id \(n.id) has active endpoints (\(users.map(\.row.name).joined(separator: ", ")))")
        }
        if n.isBridge {
            // The kernel takes ~50 ms to delete a bridge: it goes while the rules go.
            let deleting = FileIO.exists("/sys/class/net/\(n.bridge)") ? try? Spawn.startQuiet([Self.ipTool, "link", "delete", n.bridge]) : nil
            let last = (try? networks())?.contains { $0.isBridge && $0.name != n.name } != true
            BridgeRules.remove(n, last: last)
            if let deleting { _ = Spawn.wait(deleting) }
        }
        FileIO.removeTree("/var/lib/cni/networks/\(n.name)")
        let dnsDir = "/run/containers/cni/dnsname/\(n.name)"
        if let pid = (try? FileIO.readString(dnsDir + "/pidfile")).flatMap({ Int32($0.trimmed()) }), pid > 0,
           (try? FileIO.readString("/proc/\(pid)/comm"))?.trimmed() == "dnsmasq" {
            Glibc.kill(pid, SIGTERM)
        }
        FileIO.removeTree(dnsDir)
        do { try database.deleteNetwork(n.name) } catch { throw SwctrError(.failure, "\(error)") }
    }

    /// `network prune`: networks no running container uses (the default one stays).
    public func pruneNetworks() throws(SwctrError) -> [String] {
        var removed: [String] = []
        for n in try networks() where n.name != Self.defaultNetwork && networkUsers(n.name).isEmpty {
            try removeNetwork(n.name)
            removed.append(n.name)
        }
        return removed
    }

    /// iproute2's `ip`, for the named network namespaces (`ip netns add` makes /run/netns/NAME).
    static let ipTool = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].first { FileIO.exists($0) } ?? "ip"
}

extension NetworkRequest {
    var isBridgeDriver: Bool { driver == "bridge" }
}
