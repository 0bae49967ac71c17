import Database
import Glibc
import HostOS
import JSON
import Networks

/// Published ports: host ports reserved at start, and what `port` and `ps` show.
extension ContainerManager {
    /// Host ports: `-p CTR` gets a free one (kept in the row, so `port` and `ps` show it); a port
    /// another container publishes, or a host process listens on, is refused naming it — the
    /// portmap plugin's DNAT rules would otherwise shadow it silently.
    func reservePorts(_ row: ContainerRow, _ options: inout ContainerConfig) throws(SwctrError) {
        guard var ports = options.ports, !ports.isEmpty else { return }
        let others = ((try? list()) ?? []).filter { $0.isRunning && $0.row.id != row.id }.flatMap { $0.options.ports ?? [] }
        // Rootless, the host side is the user's own socket: privileged ports are out of reach.
        let lowest = store.rootless ? Self.unprivilegedPortStart : 0
        for i in ports.indices {
            let p = ports[i]
            let shown = "\(p.hostIP.isEmpty ? "0.0.0.0" : p.hostIP):\(p.hostPort)"
            if p.hostPort != 0, others.contains(where: { $0.hostPort == p.hostPort && $0.proto == p.proto
                                                     && ($0.hostIP.isEmpty || p.hostIP.isEmpty || $0.hostIP == p.hostIP) }) {
                throw SwctrError(.conflict, "Bind for \(shown) failed: port is already allocated")
            }
            if p.hostPort != 0, p.hostPort < lowest {
                throw SwctrError(.invalidArgument, "Bind for \(shown)/\(p.proto) failed: rootless, host ports below \(lowest) are privileged (net.ipv4.ip_unprivileged_port_start)")
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

    static var unprivilegedPortStart: Int {
        Int(((try? FileIO.readString("/proc/sys/net/ipv4/ip_unprivileged_port_start")) ?? "1024").trimmed()) ?? 1024
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
