import Database
import Glibc
import HostOS

/// Firewall rules swctr keeps per bridge network itself, and the removal of what the plugins
/// leave behind.
///
/// Masquerade is one rule per network (`-s SUBNET ! -o BRIDGE -j MASQUERADE` in nat POSTROUTING,
/// as Docker has it) instead of the bridge plugin's `ipMasq`, which makes a chain and a jump per
/// container and so costs five firewall commits at each start and each removal.
///
/// The plugins add rules once per bridge and never remove them (their DEL cannot know whether
/// other containers still use the bridge): the firewall plugin's `ingressPolicy: same-bridge`
/// rules in CNI-ISOLATION-STAGE-1/2, and dnsname's INPUT rule letting DNS reach its dnsmasq.
/// When swctr removes a network it removes the rules naming that bridge, and with the last
/// network the chains the plugins share, all from one `iptables-save` in one `iptables-restore`.
public enum BridgeRules {
    static let iptables = ["/usr/sbin/iptables", "/sbin/iptables", "/usr/bin/iptables"].first { FileIO.exists($0) } ?? "iptables"
    static let iptablesSave = ["/usr/sbin/iptables-save", "/sbin/iptables-save", "/usr/bin/iptables-save"]
        .first { FileIO.exists($0) } ?? "iptables-save"
    static let iptablesRestore = ["/usr/sbin/iptables-restore", "/sbin/iptables-restore", "/usr/bin/iptables-restore"]
        .first { FileIO.exists($0) } ?? "iptables-restore"
    static let bridgeChains = ["INPUT", "CNI-ISOLATION-STAGE-1", "CNI-ISOLATION-STAGE-2"]

    /// The network's masquerade rule: traffic from its subnet leaving by another interface.
    /// Multicast stays unmasqueraded, as with the bridge plugin's own rule.
    static func masquerade(_ n: NetworkRecord) -> [String] {
        ["POSTROUTING", "-s", n.subnet, "!", "-d", "224.0.0.0/4", "!", "-o", n.bridge, "-j", "MASQUERADE"]
    }

    /// Makes the network's masquerade rule unless it is there (a reboot or a flush takes it away
    /// with the bridge, so every attach checks; the check is a read, ~1 ms). Internal networks
    /// have none.
    public static func ensureMasquerade(_ n: NetworkRecord) throws(SwctrError) {
        guard n.isBridge, !n.isInternal else { return }
        let lock = CNI.hostLock()
        defer { if lock >= 0 { close(lock) } }
        let rule = masquerade(n)
        if let r = try? Spawn.capture([iptables, "-w", "-t", "nat", "-C"] + rule), r.status == .exited(0) { return }
        let r: (status: Spawn.Status, stdout: [UInt8], stderr: [UInt8])
        do throws(SystemError) { r = try Spawn.capture([iptables, "-w", "-t", "nat", "-A"] + rule) } catch {
            throw SwctrError(.failure, "network \(n.name): add its masquerade rule: \(error.message)")
        }
        guard r.status == .exited(0) else {
            throw SwctrError(.failure, "network \(n.name): add its masquerade rule: \(String(decoding: r.stderr, as: UTF8.self).trimmed())")
        }
    }

    /// Removes the network's rules; with `last` (no bridge network of swctr's left) also the
    /// plugins' shared chains when nothing else uses them.
    public static func remove(_ n: NetworkRecord, last: Bool) {
        // Not while a plugin adds rules (the host-wide lock the plugins run under).
        let lock = CNI.hostLock()
        defer { if lock >= 0 { close(lock) } }
        guard let r = try? Spawn.capture([iptablesSave]), r.status == .exited(0) else { return }
        restore(removal(of: n, last: last, dump: String(decoding: r.stdout, as: UTF8.self)))
    }

    /// What `remove` changes, from `iptables-save`'s output: per table, the deletions in order.
    public static func removal(of n: NetworkRecord, last: Bool, dump text: String) -> [(table: String, lines: [String])] {
        let dump = RuleDump(text)
        let filter = dump.rules("filter").filter { rule in
            bridgeChains.contains(rule.words[1]) && rule.value(after: ["-i", "-o"]) == n.bridge
        }
        let nat = dump.rules("nat").filter { rule in
            rule.words[1] == "POSTROUTING" && rule.value(after: ["-o"]) == n.bridge && rule.value(after: ["-j"]) == "MASQUERADE"
        }
        var lines = ["filter": filter.map(\.delete), "nat": nat.map(\.delete)]
        if last {
            let gone = Set((filter + nat).map(\.line))
            for (table, chains) in shared {
                let remaining = dump.rules(table).filter { !gone.contains($0.line) }
                let drop = sharedChainRemoval(remaining, chains: chains, existing: dump.chains(table))
                lines[table, default: []] += drop.deletes.map(\.delete) + drop.chainLines
            }
        }
        return [("filter", lines["filter"] ?? []), ("nat", lines["nat"] ?? [])]
    }

    /// Several tables' rule changes in one `iptables-restore --noflush` (each firewall commit
    /// costs 10–20 ms with nf_tables).
    static func restore(_ tables: [(table: String, lines: [String])]) {
        let input = tables.filter { !$0.lines.isEmpty }.map { "*\($0.table)\n" + $0.lines.joined(separator: "\n") + "\nCOMMIT\n" }.joined()
        guard !input.isEmpty else { return }
        _ = try? Spawn.capture([iptablesRestore, "-w", "--noflush"], stdin: Array(input.utf8))
    }
}

extension BridgeRules {
    /// The chains the plugins make once and share (firewall's CNI-FORWARD, CNI-ADMIN and isolation
    /// stages; portmap's CNI-HOSTPORT-*). When swctr's last network goes they go too, unless
    /// anything in them is specific to some container (an address or an interface), which means
    /// another CNI user still has containers on this host.
    static let shared: [(table: String, chains: [String])] = [
        ("filter", ["CNI-FORWARD", "CNI-ADMIN", "CNI-ISOLATION-STAGE-1", "CNI-ISOLATION-STAGE-2"]),
        ("nat", ["CNI-HOSTPORT-DNAT", "CNI-HOSTPORT-MASQ", "CNI-HOSTPORT-SETMARK"]),
    ]

    /// For one table: the jumps into the chains from other chains, then the chains flushed and
    /// deleted; nothing when a rule in them is container-specific or leads elsewhere.
    static func sharedChainRemoval(_ rules: [RuleDump.Rule], chains: [String], existing: Set<String>)
        -> (deletes: [RuleDump.Rule], chainLines: [String]) {
        let inside = rules.filter { chains.contains($0.words[1]) }
        let specific = inside.contains { r in r.words.contains { ["-s", "-d", "-i", "-o", "--dports", "--dport"].contains($0) } }
        let leadsOut = inside.contains { r in
            guard let target = r.value(after: ["-j"]) else { return false }
            return !(chains.contains(target) || ["RETURN", "MASQUERADE", "MARK"].contains(target))
        }
        if specific || leadsOut { return ([], []) }
        let jumps = rules.filter { r in !chains.contains(r.words[1]) && r.value(after: ["-j"]).map(chains.contains) == true }
        let present = chains.filter(existing.contains)
        return (jumps, present.map { "-F \($0)" } + present.map { "-X \($0)" })
    }
}

/// `iptables-save`'s output by table: the rules (`-A CHAIN …`, split into words) and the chains.
struct RuleDump {
    struct Rule {
        var line: String
        var words: [String]
        /// The same rule as a deletion for iptables-restore.
        var delete: String { "-D" + line.dropFirst(2) }

        /// The word after the first of `flags` (`-o` → the interface).
        func value(after flags: [String]) -> String? {
            guard let i = words.firstIndex(where: flags.contains), i + 1 < words.count else { return nil }
            return words[i + 1]
        }
    }

    private var tables: [String: (rules: [Rule], chains: Set<String>)] = [:]

    init(_ text: String) {
        var table = ""
        for line in text.split(separator: "\n").map(String.init) {
            if line.hasPrefix("*") {
                table = String(line.dropFirst())
            } else if line.hasPrefix(":"), let name = line.dropFirst().split(separator: " ").first {
                tables[table, default: ([], [])].chains.insert(String(name))
            } else if line.hasPrefix("-A ") {
                let words = Self.split(line)
                if words.count > 1 { tables[table, default: ([], [])].rules.append(Rule(line: line, words: words)) }
            }
        }
    }

    func rules(_ table: String) -> [Rule] { tables[table]?.rules ?? [] }
    func chains(_ table: String) -> Set<String> { tables[table]?.chains ?? [] }

    /// iptables-save's words: spaces separate, double quotes group (the plugins' comments).
    static func split(_ line: String) -> [String] {
        var words: [String] = []
        var current = ""
        var quoted = false
        var escaped = false
        for c in line {
            if escaped { current.append(c); escaped = false; continue }
            if c == "\\" && quoted { escaped = true; continue }
            if c == "\"" { quoted.toggle(); continue }
            if c == " " && !quoted {
                if !current.isEmpty { words.append(current) }
                current = ""
                continue
            }
            current.append(c)
        }
        if !current.isEmpty { words.append(current) }
        return words
    }
}
