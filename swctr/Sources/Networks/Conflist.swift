import Database
import JSON

/// The conflist of a network, made from its record for each attachment. A bridge: bridge with
/// host-local addresses (masquerade is one rule per network, BridgeRules'), portmap for `-p`, firewall (which also keeps networks apart), dnsname
/// (names of the containers on it) on user-defined networks. macvlan and ipvlan: that plugin on
/// the parent with host-local addresses. tuning sets `--mac-address`.
public enum Conflist {
    public static let domain = "dns.swctr"

    /// `ports` false leaves portmap out: a container publishing nothing saves two plugin runs.
    public static func of(_ n: NetworkRecord, ports: Bool = true, mac: Bool = false) -> JSONObject {
        var plugins: [JSONValue]
        let options = driverOptions(n)
        switch n.driver {
        case "macvlan", "ipvlan":
            let modeKey = n.driver + "_mode"
            plugins = [obj([("type", .string(n.driver)), ("master", .string(options["parent"] ?? "")),
                            ("mode", .string(options[modeKey] ?? (n.driver == "macvlan" ? "bridge" : "l2"))), ("ipam", ipam(n))])]
        default:
            plugins = [
                obj([("type", .string("bridge")), ("bridge", .string(n.bridge)), ("isGateway", .bool(true)),
                     ("ipMasq", .bool(false)), ("hairpinMode", .bool(true)), ("ipam", ipam(n))]),
            ]
            if ports {
                plugins.append(obj([("type", .string("portmap")), ("capabilities", obj([("portMappings", .bool(true))])), ("snat", .bool(true))]))
            }
            // same-bridge: traffic from another bridge is dropped, so networks stay apart (Docker's isolation).
            plugins.append(obj([("type", .string("firewall")), ("ingressPolicy", .string("same-bridge"))]))
            if n.dns {
                plugins.append(obj([("type", .string("dnsname")), ("domainName", .string(domain)),
                                    ("capabilities", obj([("aliases", .bool(true))]))]))
            }
        }
        // Right after the interface's plugin, so the result the others see has the new MAC.
        if mac { plugins.insert(obj([("type", .string("tuning"))]), at: 1) }
        var list = JSONObject()
        list.set("cniVersion", .string(CNI.version))
        list.set("name", .string(n.name))
        list.set("plugins", .array(plugins))
        return list
    }

    /// host-local over the subnet (or `--ip-range` of it), with a default route unless internal.
    static func ipam(_ n: NetworkRecord) -> JSONValue {
        var range: [(String, JSONValue)] = [("subnet", .string(n.subnet)), ("gateway", .string(n.gateway))]
        if let r = try? Subnet(parsing: n.ipRange) {
            range += [("rangeStart", .string(Subnet.text(r.firstHost))), ("rangeEnd", .string(Subnet.text(r.lastHost)))]
        }
        let routes: [JSONValue] = n.isInternal ? [] : [obj([("dst", .string("0.0.0.0/0"))])]
        return obj([("type", .string("host-local")), ("routes", .array(routes)), ("ranges", .array([.array([obj(range)])]))])
    }

    static func driverOptions(_ n: NetworkRecord) -> [String: String] {
        guard case .object(let o)? = try? JSONParser.parse(Array(n.options.utf8)) else { return [:] }
        var out: [String: String] = [:]
        for (k, v) in zip(o.keys, o.values) { if case .string(let s) = v { out[k] = s } }
        return out
    }

    static func obj(_ pairs: [(String, JSONValue)]) -> JSONValue {
        var o = JSONObject()
        for (k, v) in pairs { o.set(k, v) }
        return .object(o)
    }

    /// The container's address and gateway from an ADD result (CNI 0.4.0: ips[].address "10.89.0.2/24").
    public static func address(in result: JSONValue) -> (ip: String, prefix: String, gateway: String, mac: String)? {
        guard case .object(let r) = result, case .array(let ips)? = r["ips"],
              case .object(let first)? = ips.first, case .string(let cidr)? = first["address"] else { return nil }
        let parts = cidr.split(separator: "/").map(String.init)
        var gateway = ""
        if case .string(let g)? = first["gateway"] { gateway = g }
        var mac = ""
        if case .array(let ifaces)? = r["interfaces"] {
            for case .object(let i) in ifaces {
                if case .string(let sandbox)? = i["sandbox"], !sandbox.isEmpty, case .string(let m)? = i["mac"] { mac = m }
            }
        }
        return (parts[0], parts.count > 1 ? parts[1] : "", gateway, mac)
    }
}
