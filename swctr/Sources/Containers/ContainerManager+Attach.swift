import Database
import Glibc
import HostOS
import JSON
import Networks
import OCI

/// One CNI ADD a running container got, kept in its directory (network.json): DEL runs with
/// exactly the conflist, arguments and result of the ADD, and inspect shows the address. The
/// result is null while the ADD runs.
struct AttachmentRecord {
    var network: String
    var ifname: String
    var conflist: JSONObject
    var args: String
    var runtimeConfig: JSONObject
    var result: JSONValue
}

/// Per container: a named network namespace set up by the CNI plugins at start (one interface
/// per network, eth0 first), torn down (DEL, namespace removed) when the container is gone for
/// good; `network connect`/`disconnect` add and remove interfaces of a running container.
extension ContainerManager {
    public func netnsName(_ id: String) -> String { "swctr-" + String(id.prefix(12)) }
    /// `ip netns`'s file as root; rootless (no /run/netns to write) a file in the container's directory.
    public func netnsPath(_ id: String) -> String { store.rootless ? directory(id) + "/netns" : "/run/netns/" + netnsName(id) }
    func attachmentPath(_ id: String) -> String { directory(id) + "/network.json" }

    /// At start: the namespace, an ADD per network, the container's hosts and resolv.conf. A
    /// failure DELs what was added and removes the namespace.
    func attachNetwork(_ row: ContainerRow, _ options: ContainerConfig) throws(SwctrError) {
        if NetworkMode.container(options.network) != nil { return try joinContainerNetwork(row, options) }
        if options.network == NetworkMode.slirp { return try attachSlirp(row, options) }
        guard options.ownsNetworkNamespace else { return }
        detachNetwork(row)  // what a crash or a reboot left
        var options = options
        try reservePorts(row, &options)
        let ns = netnsName(row.id)
        do {
            let r = try Spawn.capture([Self.ipTool, "netns", "add", ns])
            guard r.status == .exited(0) else { throw SwctrError(.failure, "ip netns add \(ns): \(String(decoding: r.stderr, as: UTF8.self).trimmed())") }
            _ = try Spawn.capture([Self.ipTool, "-n", ns, "link", "set", "lo", "up"])
        } catch let e as SwctrError { throw e } catch { throw SwctrError(.failure, "ip netns add \(ns): \(error)") }
        var records: [AttachmentRecord] = []
        var networks: [NetworkRecord] = []
        do throws(SwctrError) {
            for (i, e) in options.attachedNetworks.enumerated() {
                let n = try network(e.network)
                // Ports are published on the first network, as Docker does.
                records.append(try addEndpoint(row, options, e, n, ifname: "eth\(i)", ports: i == 0, recorded: records))
                networks.append(n)
                saveAttachments(row.id, records)
            }
        } catch {
            detachNetwork(row)
            throw error
        }
        writeNameFiles(row, options, networks: networks, addresses: records.compactMap { Conflist.address(in: $0.result)?.ip })
    }

    /// One ADD through the network's plugins. It is recorded as pending first (after the ones in
    /// `recorded`), so a CLI killed during the ADD leaves a record the next DEL finds; a failed
    /// ADD is DELed at once (plugins may have done half).
    func addEndpoint(_ row: ContainerRow, _ options: ContainerConfig, _ e: Endpoint, _ n: NetworkRecord,
                     ifname: String, ports: Bool, recorded: [AttachmentRecord]) throws(SwctrError) -> AttachmentRecord {
        let published = ports ? (options.ports ?? []) : []
        let conflist = Conflist.of(n, ports: !published.isEmpty, mac: e.mac != nil)
        var rc = JSONObject()
        let mappings = published.map { p -> JSONValue in
            var o = JSONObject()
            o.set("hostPort", .number(String(p.hostPort)))
            o.set("containerPort", .number(String(p.containerPort)))
            o.set("protocol", .string(p.proto))
            o.set("hostIP", .string(p.hostIP))
            return .object(o)
        }
        if !mappings.isEmpty { rc.set("portMappings", .array(mappings)) }
        var aliases = JSONObject()
        aliases.set(n.name, .array(([row.name] + (e.aliases ?? [])).map { .string($0) }))
        rc.set("aliases", .object(aliases))
        // host-local takes the address asked for, tuning the MAC, both from CNI_ARGS.
        var args = "IgnoreUnknown=1;K8S_POD_NAME=\(row.name)"
        if let ip = e.ip { args += ";IP=\(ip)" }
        if let mac = e.mac { args += ";MAC=\(mac)" }
        try BridgeRules.ensureMasquerade(n)
        var record = AttachmentRecord(network: n.name, ifname: ifname, conflist: conflist, args: args, runtimeConfig: rc, result: .null)
        saveAttachments(row.id, recorded + [record])
        do { record.result = try CNI.add(conflist, attachment(row, record)) } catch {
            delEndpoint(row, record)
            saveAttachments(row.id, recorded)
            throw SwctrError(error.code, "network \(n.name): \(error.message)")
        }
        return record
    }

    func attachment(_ row: ContainerRow, _ r: AttachmentRecord) -> CNI.Attachment {
        var a = CNI.Attachment(containerID: row.id, netns: netnsPath(row.id), args: r.args, runtimeConfig: r.runtimeConfig)
        a.ifname = r.ifname
        return a
    }

    /// When the container is gone for good (and before a new start): DEL of every ADD, last
    /// first, and the namespace removed. Quiet and idempotent.
    func detachNetwork(_ row: ContainerRow) {
        for r in loadAttachments(row).reversed() { delEndpoint(row, r) }
        unlink(attachmentPath(row.id))
        if FileIO.exists(slirpPIDFile(row.id)) || store.rootless { return detachSlirp(row) }
        if FileIO.exists(netnsPath(row.id)) { _ = try? Spawn.capture([Self.ipTool, "netns", "delete", netnsName(row.id)]) }
    }

    /// DEL with the ADD's result; for an ADD a crash cut short, a result rebuilt from host-local's
    /// record of the address it gave (the firewall plugin removes its rules by that address).
    func delEndpoint(_ row: ContainerRow, _ r: AttachmentRecord) {
        let result = r.result == .null ? recoveredResult(row, r) : r.result
        try? CNI.del(r.conflist, attachment(row, r), result: result)
    }

    func recoveredResult(_ row: ContainerRow, _ r: AttachmentRecord) -> JSONValue? {
        guard let n = try? networks().first(where: { $0.name == r.network }), let subnet = try? Subnet(parsing: n.subnet) else { return nil }
        let dir = "/var/lib/cni/networks/\(r.network)"
        for file in FileIO.listDirectory(dir) where Subnet.address(file) != nil {
            let owner = ((try? FileIO.readString(dir + "/" + file)) ?? "").split(whereSeparator: \.isNewline).map { String($0).trimmed() }
            guard owner.first == row.id, owner.count < 2 || owner[1] == r.ifname else { continue }
            var ip = JSONObject()
            ip.set("version", .string("4"))
            ip.set("address", .string("\(file)/\(subnet.prefix)"))
            ip.set("gateway", .string(n.gateway))
            var result = JSONObject()
            result.set("cniVersion", .string(CNI.version))
            result.set("ips", .array([.object(ip)]))
            return .object(result)
        }
        return nil
    }

    // MARK: - connect, disconnect

    /// `network connect [--alias] [--ip] NETWORK CONTAINER`: recorded for the next start, and for
    /// a running container a new interface now.
    public func connect(_ ref: String, to networkRef: String, aliases: [String], ip: String?) throws(SwctrError) {
        let n = try network(networkRef)
        let id = try find(ref).id
        try locked(id) { () throws(SwctrError) in
            let row = try find(id)
            var options = config(of: row)
            guard options.ownsNetworkNamespace else {
                throw SwctrError(.invalidArgument, "container \(row.name) has --network \(options.network): it cannot be connected to other networks")
            }
            guard !options.attachedNetworks.contains(where: { $0.network == n.name }) else {
                throw SwctrError(.conflict, "endpoint with name \(row.name) already exists in network \(n.name)")
            }
            let endpoint = Endpoint(network: n.name, aliases: aliases.isEmpty ? nil : aliases, ip: ip)
            try validate(endpoint, on: n)
            if view(row).isRunning {
                var records = loadAttachments(row)
                let used = Set(records.map(\.ifname))
                var index = 0
                while used.contains("eth\(index)") { index += 1 }
                records.append(try addEndpoint(row, options, endpoint, n, ifname: "eth\(index)", ports: false, recorded: records))
                saveAttachments(row.id, records)
                options.endpoints = options.attachedNetworks + [endpoint]
                rewriteNameFiles(row, options, records)
            } else {
                options.endpoints = options.attachedNetworks + [endpoint]
            }
            try saveOptions(row, options)
        }
    }

    /// `network disconnect [-f] NETWORK CONTAINER`.
    public func disconnect(_ ref: String, from networkRef: String, force: Bool) throws(SwctrError) {
        let id = try find(ref).id
        let name = (try? network(networkRef).name) ?? networkRef
        try locked(id) { () throws(SwctrError) in
            let row = try find(id)
            var options = config(of: row)
            guard options.attachedNetworks.contains(where: { $0.network == name }) else {
                if force { return }
                throw SwctrError(.invalidArgument, "container \(row.name) is not connected to network \(networkRef)")
            }
            options.endpoints = options.attachedNetworks.filter { $0.network != name }
            if view(row).isRunning {
                var records = loadAttachments(row)
                for r in records where r.network == name { delEndpoint(row, r) }
                records.removeAll { $0.network == name }
                saveAttachments(row.id, records)
                rewriteNameFiles(row, options, records)
            }
            try saveOptions(row, options)
        }
    }

    /// An endpoint's `--ip`, `--mac-address` and aliases checked against its network.
    func validate(_ e: Endpoint, on n: NetworkRecord) throws(SwctrError) {
        let userDefined = n.name != Self.defaultNetwork
        if let ip = e.ip {
            guard userDefined else { throw SwctrError(.invalidArgument, "user specified IP address is supported on user defined networks only") }
            guard let address = Subnet.address(ip) else { throw SwctrError(.invalidArgument, "invalid IPv4 address: \(Excerpt.of(ip))") }
            let pool = n.ipRange.isEmpty ? n.subnet : n.ipRange
            guard let range = try? Subnet(parsing: pool), range.contains(address), address != Subnet.address(n.gateway) else {
                throw SwctrError(.invalidArgument, "Invalid address \(ip): It does not belong to any of this network's subnets (\(pool), gateway \(n.gateway))")
            }
        }
        if let mac = e.mac {
            guard MACAddress.isValid(mac) else { throw SwctrError(.invalidArgument, "invalid MAC address \(Excerpt.of(mac)): want a unicast aa:bb:cc:dd:ee:ff") }
            guard n.driver != "ipvlan" else { throw SwctrError(.invalidArgument, "--mac-address: interfaces on the ipvlan network \(n.name) share their parent's MAC") }
        }
        if !(e.aliases ?? []).isEmpty && !userDefined {
            throw SwctrError(.invalidArgument, "network-scoped alias is supported only for containers in user defined networks")
        }
    }

    func saveOptions(_ row: ContainerRow, _ options: ContainerConfig) throws(SwctrError) {
        var updated = row
        do {
            updated.config = String(decoding: try JSONValueEncoder().encode(options), as: UTF8.self)
            try database.update(updated)
        } catch { throw SwctrError(.failure, "save the container's options: \(error)") }
    }

    func rewriteNameFiles(_ row: ContainerRow, _ options: ContainerConfig, _ records: [AttachmentRecord]) {
        let networks = records.compactMap { r in try? network(r.network) }
        writeNameFiles(row, options, networks: networks, addresses: records.compactMap { Conflist.address(in: $0.result)?.ip })
    }

    // MARK: - container:ID

    /// `--network container:ID`: the other container must run; its namespace (named, or its
    /// init's) goes into this container's config for this start.
    func joinContainerNetwork(_ row: ContainerRow, _ options: ContainerConfig) throws(SwctrError) {
        guard let ref = NetworkMode.container(options.network) else { return }
        let target = try find(ref)
        let v = view(target)
        guard v.isRunning, v.state.pid > 0 else { throw SwctrError(.conflict, "cannot join network of a non running container: \(ref)") }
        let path = v.options.ownsNetworkNamespace ? netnsPath(target.id) : "/proc/\(v.state.pid)/ns/net"
        let file = directory(row.id) + "/config.json"
        do {
            var spec = try JSONValueDecoder().decode(Spec.self, from: try FileIO.read(file))
            var linux = spec.linux ?? Linux()
            linux.namespaces = (linux.namespaces ?? []).map { $0.type == "network" ? Namespace(type: "network", path: path) : $0 }
            spec.linux = linux
            try FileIO.writeAtomic(file, try JSONValueEncoder().encode(spec), mode: 0o600)
        } catch { throw SwctrError(.failure, "join the network of \(ref): \(file): \(error)") }
    }

    // MARK: - the record of ADDs

    /// The ADDs a container got; an older record (one network, no conflist) is read with the
    /// conflist made again from the network.
    func loadAttachments(_ row: ContainerRow) -> [AttachmentRecord] {
        guard let bytes = try? FileIO.read(attachmentPath(row.id)), case .object(let saved)? = try? JSONParser.parse(bytes) else { return [] }
        if case .array(let list)? = saved["endpoints"] {
            return list.compactMap { item in
                guard case .object(let o) = item, case .string(let network)? = o["network"], case .string(let ifname)? = o["ifname"],
                      case .object(let conflist)? = o["conflist"], case .string(let args)? = o["args"],
                      case .object(let rc)? = o["runtimeConfig"] else { return nil }
                let result = o["result"] ?? .null
                return AttachmentRecord(network: network, ifname: ifname, conflist: conflist, args: args, runtimeConfig: rc, result: result)
            }
        }
        guard case .string(let name)? = saved["network"], let n = try? networks().first(where: { $0.name == name }) else { return [] }
        let options = config(of: row)
        let conflist = Conflist.of(n, ports: !(options.ports ?? []).isEmpty)
        var aliases = JSONObject()
        aliases.set(n.name, .array(([row.name] + (options.networkAliases ?? [])).map { .string($0) }))
        var rc = JSONObject()
        rc.set("aliases", .object(aliases))
        return [AttachmentRecord(network: name, ifname: "eth0", conflist: conflist, args: "IgnoreUnknown=1;K8S_POD_NAME=\(row.name)",
                                 runtimeConfig: rc, result: saved["result"] ?? .object(JSONObject()))]
    }

    func saveAttachments(_ id: String, _ records: [AttachmentRecord]) {
        let list = records.map { r -> JSONValue in
            var o = JSONObject()
            o.set("network", .string(r.network))
            o.set("ifname", .string(r.ifname))
            o.set("conflist", .object(r.conflist))
            o.set("args", .string(r.args))
            o.set("runtimeConfig", .object(r.runtimeConfig))
            o.set("result", r.result)
            return .object(o)
        }
        var saved = JSONObject()
        saved.set("endpoints", .array(list))
        try? FileIO.writeAtomic(attachmentPath(id), Array(JSONValue.object(saved).serialized().utf8), mode: 0o600)
    }

    /// The address each network gave the container, with gateway and MAC (inspect, port).
    public func networkAddresses(_ id: String) -> [(network: String, ip: String, prefix: String, gateway: String, mac: String)] {
        guard let row = try? find(id) else { return [] }
        return loadAttachments(row).compactMap { r in
            Conflist.address(in: r.result).map { (r.network, $0.ip, $0.prefix, $0.gateway, $0.mac) }
        }
    }
}
