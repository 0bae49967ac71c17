import Database
import FoundationEssentials
import Glibc
import HostOS
import JSON
import Networks

/// Networks: rows in the database, a Linux bridge each (made by the bridge plugin on first use),
/// and per running container a named network namespace set up by the CNI plugins at start and
/// torn down (DEL, namespace removed) when the container is gone for good or removed.
extension ContainerManager {
    /// Docker's default network: no name resolution, created on first use.
    public static let defaultNetwork = "bridge"

    public func netnsName(_ id: String) -> String { "swctr-" + String(id.prefix(12)) }
    public func netnsPath(_ id: String) -> String { "/run/netns/" + netnsName(id) }
    func attachmentPath(_ id: String) -> String { directory(id) + "/network.json" }

    public func networks() throws(SwctrError) -> [NetworkRecord] {
        do { return try database.networks() } catch { throw SwctrError(.failure, "\(error)") }
    }

    public func network(_ ref: String) throws(SwctrError) -> NetworkRecord {
        let all = try networks()
        if let n = all.first(where: { $0.name == ref }) ?? all.first(where: { $0.id == ref }) { return n }
        let byPrefix = ref.count >= 3 ? all.filter { $0.id.hasPrefix(ref) } : []
        if byPrefix.count == 1 { return byPrefix[0] }
        if ref == Self.defaultNetwork { return try createNetwork(name: ref, dns: false) }
        throw SwctrError(.notFound, "network \(ref) not found")
    }

    /// `network create`: a subnet that overlaps no other network and no host route.
    @discardableResult
    public func createNetwork(name: String, subnet: String? = nil, gateway: String? = nil, isInternal: Bool = false,
                              labels: [String: String] = [:], bridge: String? = nil, dns: Bool = true) throws(SwctrError) -> NetworkRecord {
        guard Names.isValid(name), name != "host", name != "none" else {
            throw SwctrError(.invalidArgument, "invalid network name \(Excerpt.of(name)): only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed (host and none are reserved)")
        }
        let existing = try networks()
        if existing.contains(where: { $0.name == name }) { throw SwctrError(.conflict, "network with name \(name) already exists") }
        let taken = existing.compactMap { try? Subnet(parsing: $0.subnet) }
        let net: Subnet
        if let subnet {
            net = try Subnet(parsing: subnet)
            if let other = existing.first(where: { (try? Subnet(parsing: $0.subnet))?.overlaps(net) == true }) {
                throw SwctrError(.conflict, "invalid pool request: Pool overlaps with other one on this address space (network \(other.name), \(other.subnet))")
            }
            if let route = Subnet.hostRoutes().first(where: { $0.overlaps(net) }) {
                throw SwctrError(.conflict, "subnet \(net) overlaps the host's route to \(route)")
            }
        } else {
            net = try Subnet.free(avoiding: taken)
        }
        var gw = Subnet.text(net.firstHost)
        if let gateway {
            guard let g = Subnet.address(gateway), net.contains(g), g != net.network else {
                throw SwctrError(.invalidArgument, "invalid gateway \(Excerpt.of(gateway)): not a host address in \(net)")
            }
            gw = gateway
        }
        var bridgeName = bridge ?? ""
        if bridgeName.isEmpty {
            let used = Set(existing.map(\.bridge))
            bridgeName = (0...999).map { "swctr\($0)" }.first { !used.contains($0) && !FileIO.exists("/sys/class/net/\($0)") } ?? "swctr-x"
        }
        guard bridgeName.count <= 15, !bridgeName.contains("/"), !bridgeName.contains(" ") else {
            throw SwctrError(.invalidArgument, "invalid bridge name \(Excerpt.of(bridgeName)): at most 15 characters, no / or space")
        }
        var o = JSONObject()
        for (k, v) in labels.sorted(by: { $0.key < $1.key }) { o.set(k, .string(v)) }
        let record = NetworkRecord(name: name, id: Names.newID(), bridge: bridgeName, subnet: net.description, gateway: gw,
                                   isInternal: isInternal, dns: dns, labels: JSONValue.object(o).serialized(),
                                   created: Date().timeIntervalSince1970)
        do { try database.insertNetwork(record) } catch let e as SwctrError { throw e } catch { throw SwctrError(.failure, "\(error)") }
        return record
    }

    /// Running containers attached to the network.
    public func networkUsers(_ name: String) -> [ContainerView] {
        ((try? list()) ?? []).filter { $0.isRunning && $0.options.network == name }
    }

    /// `network rm`: refused while a running container is on it; the bridge, the plugins'
    /// address records and the name server go with it.
    public func removeNetwork(_ ref: String) throws(SwctrError) {
        let n = try network(ref)
        let users = networkUsers(n.name)
        guard users.isEmpty else {
            throw SwctrError(.conflict, "error while removing network: network \(n.name) id \(n.id) has active endpoints (\(users.map(\.row.name).joined(separator: ", ")))")
        }
        if FileIO.exists("/sys/class/net/\(n.bridge)") { _ = try? Spawn.capture([Self.ipTool, "link", "delete", n.bridge]) }
        BridgeRules.remove(bridge: n.bridge)
        FileIO.removeTree("/var/lib/cni/networks/\(n.name)")
        let dnsDir = "/run/containers/cni/dnsname/\(n.name)"
        if let pid = (try? FileIO.readString(dnsDir + "/pidfile")).flatMap({ Int32($0.trimmed()) }), pid > 0,
           (try? FileIO.readString("/proc/\(pid)/comm"))?.trimmed() == "dnsmasq" {
            Glibc.kill(pid, SIGTERM)
        }
        FileIO.removeTree(dnsDir)
        do { try database.deleteNetwork(n.name) } catch { throw SwctrError(.failure, "\(error)") }
        if (try? networks())?.isEmpty == true { BridgeRules.removeSharedChainsIfUnused() }
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

    public static func isNamedNetwork(_ network: String) -> Bool { network != "host" && network != "none" }

    // MARK: - per container

    /// At start: a network namespace, the CNI ADD, and the container's hosts and resolv.conf.
    func attachNetwork(_ row: ContainerRow, _ options: ContainerConfig) throws(SwctrError) {
        guard Self.isNamedNetwork(options.network) else { return }
        let n = try network(options.network)
        detachNetwork(row)  // what a crash or a reboot left
        var options = options
        try reservePorts(row, &options)
        let ns = netnsName(row.id)
        do {
            let r = try Spawn.capture([Self.ipTool, "netns", "add", ns])
            guard r.status == .exited(0) else { throw SwctrError(.failure, "ip netns add \(ns): \(String(decoding: r.stderr, as: UTF8.self).trimmed())") }
            _ = try Spawn.capture([Self.ipTool, "-n", ns, "link", "set", "lo", "up"])
        } catch let e as SwctrError { throw e } catch { throw SwctrError(.failure, "ip netns add \(ns): \(error)") }
        let attachment = self.attachment(row, options, n)
        let result: JSONValue
        let conflist = Conflist.of(n, ports: !(options.ports ?? []).isEmpty)
        do { result = try CNI.add(conflist, attachment) } catch {
            try? CNI.del(conflist, attachment, result: nil)
            _ = try? Spawn.capture([Self.ipTool, "netns", "delete", ns])
            throw SwctrError(error.code, "network \(n.name): \(error.message)")
        }
        var record = JSONObject()
        record.set("network", .string(n.name))
        record.set("result", result)
        try? FileIO.writeAtomic(attachmentPath(row.id), Array(JSONValue.object(record).serialized().utf8), mode: 0o600)
        writeNameFiles(row, options, network: n, address: Conflist.address(in: result)?.ip)
    }

    /// Host ports: `-p CTR` gets a free one (kept in the row, so `port` and `ps` show it); a port
    /// another container publishes, or a host process listens on, is refused naming it — the
    /// portmap plugin's DNAT rules would otherwise shadow it silently.
    func reservePorts(_ row: ContainerRow, _ options: inout ContainerConfig) throws(SwctrError) {
        guard var ports = options.ports, !ports.isEmpty else { return }
        let others = ((try? list()) ?? []).filter { $0.isRunning && $0.row.id != row.id }.flatMap { $0.options.ports ?? [] }
        for i in ports.indices {
            let p = ports[i]
            let shown = "\(p.hostIP.isEmpty ? "0.0.0.0" : p.hostIP):\(p.hostPort)"
            if p.hostPort != 0, others.contains(where: { $0.hostPort == p.hostPort && $0.proto == p.proto
                                                     && ($0.hostIP.isEmpty || p.hostIP.isEmpty || $0.hostIP == p.hostIP) }) {
                throw SwctrError(.conflict, "Bind for \(shown) failed: port is already allocated")
            }
            guard let port = Self.probePort(p.hostIP, p.hostPort, udp: p.proto == "udp") else {
                throw SwctrError(.conflict, "Bind for \(shown)/\(p.proto) failed: port is already in use on the host")
            }
            ports[i].hostPort = port
        }
        if ports != options.ports {
            options.ports = ports
            var updated = row
            if let json = try? JSONValueEncoder().encode(options) { updated.config = String(decoding: json, as: UTF8.self) }
            try? database.update(updated)
        }
    }

    /// Binds the address and port (0: any free one) and lets go; the port, or nil when taken.
    static func probePort(_ ip: String, _ port: Int, udp: Bool) -> Int? {
        let fd = socket(AF_INET, Int32(udp ? SOCK_DGRAM.rawValue : SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = (ip.isEmpty ? 0 : Subnet.address(ip) ?? 0).bigEndian
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { return nil }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    func attachment(_ row: ContainerRow, _ options: ContainerConfig, _ n: NetworkRecord) -> CNI.Attachment {
        var rc = JSONObject()
        let ports = (options.ports ?? []).map { p -> JSONValue in
            var o = JSONObject()
            o.set("hostPort", .number(String(p.hostPort)))
            o.set("containerPort", .number(String(p.containerPort)))
            o.set("protocol", .string(p.proto))
            o.set("hostIP", .string(p.hostIP))
            return .object(o)
        }
        if !ports.isEmpty { rc.set("portMappings", .array(ports)) }
        var aliases = JSONObject()
        aliases.set(n.name, .array(([row.name] + (options.networkAliases ?? [])).map { .string($0) }))
        rc.set("aliases", .object(aliases))
        return CNI.Attachment(containerID: row.id, netns: netnsPath(row.id),
                              args: "IgnoreUnknown=1;K8S_POD_NAME=\(row.name)", runtimeConfig: rc)
    }

    /// When the container is gone for good (and before a new start): DEL through the plugins
    /// with the ADD result, and the namespace removed. Quiet and idempotent.
    func detachNetwork(_ row: ContainerRow) {
        let options = config(of: row)
        if let bytes = try? FileIO.read(attachmentPath(row.id)), case .object(let saved)? = try? JSONParser.parse(bytes),
           case .string(let name)? = saved["network"], let n = try? networks().first(where: { $0.name == name }) {
            try? CNI.del(Conflist.of(n, ports: !(options.ports ?? []).isEmpty), attachment(row, options, n), result: saved["result"])
        }
        unlink(attachmentPath(row.id))
        if FileIO.exists(netnsPath(row.id)) { _ = try? Spawn.capture([Self.ipTool, "netns", "delete", netnsName(row.id)]) }
    }

    /// The address the container got on its network, with the gateway and MAC (inspect, port).
    public func networkAddress(_ id: String) -> (ip: String, prefix: String, gateway: String, mac: String)? {
        guard let bytes = try? FileIO.read(attachmentPath(id)), case .object(let saved)? = try? JSONParser.parse(bytes),
              let result = saved["result"] else { return nil }
        return Conflist.address(in: result)
    }

    /// /etc/hosts, /etc/hostname and /etc/resolv.conf, as Docker writes them, rewritten in place
    /// (they are bind mounts of the container).
    func writeNameFiles(_ row: ContainerRow, _ options: ContainerConfig, network: NetworkRecord?, address: String?) {
        let dir = directory(row.id)
        let hostname = options.hostname ?? String(row.id.prefix(12))
        let hosts = Self.hostsFile(hostname: hostname, address: address, extra: options.addHosts ?? [], gateway: network?.gateway)
        let resolv = Self.resolvConf(options, network: network, host: (try? FileIO.readString("/etc/resolv.conf")) ?? "")
        try? FileIO.writeFile(Array(hosts.utf8), to: dir + "/hosts", mode: 0o644)
        try? FileIO.writeFile(Array((hostname + "\n").utf8), to: dir + "/hostname", mode: 0o644)
        try? FileIO.writeFile(Array(resolv.utf8), to: dir + "/resolv.conf", mode: 0o644)
    }
}

extension ContainerManager {
    /// /etc/hosts as Docker writes it: localhost, `--add-host NAME:IP` (host-gateway: the
    /// network's gateway), and the container's own address and name.
    public static func hostsFile(hostname: String, address: String?, extra: [String], gateway: String?) -> String {
        var hosts = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n"
            + "ff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n"
        for entry in extra {
            guard let colon = entry.firstIndex(of: ":") else { continue }
            var ip = String(entry[entry.index(after: colon)...])
            if ip == "host-gateway" { ip = gateway ?? "" }
            if !ip.isEmpty { hosts += "\(ip)\t\(entry[..<colon])\n" }
        }
        if let address { hosts += "\(address)\t\(hostname)\n" }
        return hosts
    }

    /// /etc/resolv.conf: on a network with names, its dnsmasq first (it forwards the rest to the
    /// host's resolvers); else the host's resolvers without loopback ones (unreachable from the
    /// container's namespace). `--dns`, `--dns-search` and `--dns-option` replace or add theirs.
    public static func resolvConf(_ options: ContainerConfig, network: NetworkRecord?, host: String) -> String {
        var servers: [String] = []
        var search: [String] = []
        var opts: [String] = []
        for line in host.split(separator: "\n") {
            let f = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard let key = f.first else { continue }
            switch key {
            case "nameserver" where f.count > 1 && !f[1].hasPrefix("127.") && f[1] != "::1": servers.append(f[1])
            case "search", "domain": search = Array(f.dropFirst())
            case "options": opts += f.dropFirst()
            default: break
            }
        }
        if let dns = options.dns, !dns.isEmpty { servers = dns }
        if let s = options.dnsSearch, !s.isEmpty { search = s }
        if let o = options.dnsOptions, !o.isEmpty { opts = o }
        if let network, network.dns {
            servers = [network.gateway] + (options.dns ?? [])
            search = [Conflist.domain] + (options.dnsSearch ?? [])
        }
        var out = search.isEmpty ? "" : "search \(search.joined(separator: " "))\n"
        for s in servers { out += "nameserver \(s)\n" }
        if !opts.isEmpty { out += "options \(opts.joined(separator: " "))\n" }
        return out
    }

    /// `port`: "80/tcp -> 127.0.0.1:18080" lines (only the mapping's host side with a filter).
    public func publishedPorts(_ ref: String, filter: String?) throws(SwctrError) -> [String] {
        let row = try find(ref)
        let ports = config(of: row).ports ?? []
        let wanted = filter.map { $0.contains("/") ? $0 : $0 + "/tcp" }
        let lines = ports.filter { wanted == nil || "\($0.containerPort)/\($0.proto)" == wanted }.map { p in
            (filter == nil ? "\(p.containerPort)/\(p.proto) -> " : "") + "\(p.hostIP.isEmpty ? "0.0.0.0" : p.hostIP):\(p.hostPort)"
        }
        if let filter, lines.isEmpty {
            throw SwctrError(.notFound, "No public port '\(wanted ?? filter)' published for \(ref)")
        }
        return lines
    }

    /// `ps`'s PORTS column: "127.0.0.1:18080->80/tcp, 0.0.0.0:53->53/udp".
    public static func portsColumn(_ options: ContainerConfig) -> String {
        (options.ports ?? []).map { "\($0.hostIP.isEmpty ? "0.0.0.0" : $0.hostIP):\($0.hostPort)->\($0.containerPort)/\($0.proto)" }
            .joined(separator: ", ")
    }
}
