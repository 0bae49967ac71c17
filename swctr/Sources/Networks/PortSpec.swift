import Database
import JSON

/// `-p [IP:][HOSTPORT:]CTRPORT[/tcp|/udp]`, ranges included: one entry per port.
public struct PortMapping: Codable, Sendable, Equatable {
    public var hostIP: String
    /// 0: an ephemeral port, chosen when the container starts.
    public var hostPort: Int
    public var containerPort: Int
    public var proto: String

    public init(hostIP: String = "", hostPort: Int, containerPort: Int, proto: String = "tcp") {
        self.hostIP = hostIP
        self.hostPort = hostPort
        self.containerPort = containerPort
        self.proto = proto
    }

    public static func parse(_ text: String) throws(SwctrError) -> [PortMapping] {
        func bad(_ why: String) -> SwctrError { SwctrError(.invalidArgument, "invalid port specification \(Excerpt.of(text)): \(why)") }
        var spec = Substring(text)
        var proto = "tcp"
        if let slash = spec.lastIndex(of: "/") {
            proto = String(spec[spec.index(after: slash)...]).lowercased()
            spec = spec[..<slash]
            guard proto == "tcp" || proto == "udp" || proto == "sctp" else { throw bad("protocol must be tcp, udp or sctp") }
        }
        let parts = spec.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard (1...3).contains(parts.count) else { throw bad("want [IP:][HOSTPORT:]CTRPORT") }
        let ip = parts.count == 3 ? parts[0] : ""
        if !ip.isEmpty { guard Subnet.address(ip) != nil else { throw bad("\(ip) is not an IPv4 address") } }
        let host = parts.count >= 2 ? parts[parts.count - 2] : ""
        let ctr = parts[parts.count - 1]
        func range(_ s: String, allowEmpty: Bool) throws(SwctrError) -> ClosedRange<Int>? {
            if s.isEmpty {
                if allowEmpty { return nil }
                throw bad("no container port")
            }
            let ends = s.split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
            guard (1...2).contains(ends.count), let lo = ends[0], let hi = ends.last ?? nil,
                  (1...65535).contains(lo), (1...65535).contains(hi), lo <= hi else { throw bad("\(s) is not a port or port range") }
            return lo...hi
        }
        guard let ctrPorts = try range(ctr, allowEmpty: false) else { throw bad("no container port") }
        let hostPorts = try range(host, allowEmpty: true)
        if let hostPorts, hostPorts.count != ctrPorts.count, hostPorts.count != 1 {
            throw bad("the host and container port ranges differ in size")
        }
        return ctrPorts.enumerated().map { i, c in
            let h = hostPorts.map { $0.count == 1 && ctrPorts.count > 1 ? $0.lowerBound : $0.lowerBound + i } ?? 0
            return PortMapping(hostIP: ip, hostPort: h, containerPort: c, proto: proto)
        }
    }
}
