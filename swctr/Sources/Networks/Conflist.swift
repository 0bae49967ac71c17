import Database
import JSON

/// The conflist of a network, made from its record each time it is used: bridge with host-local
/// addresses, portmap for `-p`, firewall (which also keeps networks apart), and dnsname (names
/// of the containers on it) on user-defined networks.
public enum Conflist {
    public static let domain = "dns.swctr"

    /// `ports` false leaves portmap out: a container publishing nothing saves two plugin runs.
    public static func of(_ n: NetworkRecord, ports: Bool = true) -> JSONObject {
        func obj(_ pairs: [(String, JSONValue)]) -> JSONValue {
            var o = JSONObject()
            for (k, v) in pairs { o.set(k, v) }
            return .object(o)
        }
        var range = [("subnet", JSONValue.string(n.subnet)), ("gateway", .string(n.gateway))]
        if n.subnet.isEmpty { range = [] }
        var plugins: [JSONValue] = [
            obj([("type", .string("bridge")), ("bridge", .string(n.bridge)), ("isGateway", .bool(true)),
                 ("ipMasq", .bool(!n.isInternal)), ("hairpinMode", .bool(true)),
                 ("ipam", obj([("type", .string("host-local")), ("routes", .array(n.isInternal ? [] : [obj([("dst", .string("0.0.0.0/0"))])])),
                               ("ranges", .array([.array([obj(range)])]))]))]),
            obj([("type", .string("portmap")), ("capabilities", obj([("portMappings", .bool(true))])), ("snat", .bool(true))]),
            // same-bridge: traffic from another bridge is dropped, so networks stay apart (Docker's isolation).
            obj([("type", .string("firewall")), ("ingressPolicy", .string("same-bridge"))]),
        ]
        if !ports { plugins.remove(at: 1) }
        if n.dns {
            plugins.append(obj([("type", .string("dnsname")), ("domainName", .string(domain)),
                                ("capabilities", obj([("aliases", .bool(true))]))]))
        }
        var list = JSONObject()
        list.set("cniVersion", .string(CNI.version))
        list.set("name", .string(n.name))
        list.set("plugins", .array(plugins))
        return list
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
