import Database
import HostOS
import JSON
import Networks

/// The files a container on a network gets over the image's: hosts, hostname, resolv.conf.
extension ContainerManager {
    /// /etc/hosts, /etc/hostname and /etc/resolv.conf, as Docker writes them, rewritten in place
    /// (they are bind mounts of the container).
    func writeNameFiles(_ row: ContainerRow, _ options: ContainerConfig, networks: [NetworkRecord], addresses: [String]) {
        let dir = directory(row.id)
        let hostname = options.hostname ?? String(row.id.prefix(12))
        let hosts = Self.hostsFile(hostname: hostname, addresses: addresses, extra: options.addHosts ?? [], gateway: networks.first?.gateway)
        let resolv = Self.resolvConf(options, networks: networks, host: (try? FileIO.readString("/etc/resolv.conf")) ?? "")
        try? FileIO.writeFile(Array(hosts.utf8), to: dir + "/hosts", mode: 0o644)
        try? FileIO.writeFile(Array((hostname + "\n").utf8), to: dir + "/hostname", mode: 0o644)
        try? FileIO.writeFile(Array(resolv.utf8), to: dir + "/resolv.conf", mode: 0o644)
    }

    /// /etc/hosts as Docker writes it: localhost, `--add-host NAME:IP` (host-gateway: the
    /// network's gateway), and the container's own name at each of its addresses.
    public static func hostsFile(hostname: String, addresses: [String], extra: [String], gateway: String?) -> String {
        var hosts = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n"
            + "ff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n"
        for entry in extra {
            guard let colon = entry.firstIndex(of: ":") else { continue }
            var ip = String(entry[entry.index(after: colon)...])
            if ip == "host-gateway" { ip = gateway ?? "" }
            if !ip.isEmpty { hosts += "\(ip)\t\(entry[..<colon])\n" }
        }
        for address in addresses { hosts += "\(address)\t\(hostname)\n" }
        return hosts
    }

    /// /etc/resolv.conf: on networks with names, their dnsmasqs first (they forward the rest to
    /// the host's resolvers; the first answers, so names resolve on the first such network); else the host's resolvers without loopback ones (unreachable from the
    /// container's namespace). `--dns`, `--dns-search` and `--dns-option` replace or add theirs.
    public static func resolvConf(_ options: ContainerConfig, networks: [NetworkRecord], host: String) -> String {
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
        let named = networks.filter(\.dns)
        if !named.isEmpty {
            servers = named.map(\.gateway) + (options.dns ?? [])
            search = [Conflist.domain] + (options.dnsSearch ?? [])
        }
        var out = search.isEmpty ? "" : "search \(search.joined(separator: " "))\n"
        for s in servers { out += "nameserver \(s)\n" }
        if !opts.isEmpty { out += "options \(opts.joined(separator: " "))\n" }
        return out
    }
}
