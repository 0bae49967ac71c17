import Glibc
import HostOS

/// Rules the plugins add once per bridge and never remove (their DEL cannot know whether other
/// containers still use the bridge): the firewall plugin's `ingressPolicy: same-bridge` rules
/// in CNI-ISOLATION-STAGE-1/2, and dnsname's INPUT rule letting DNS reach its dnsmasq. When
/// swctr removes a network it removes the rules naming that bridge, read back from
/// `iptables -S` and deleted one by one.
public enum BridgeRules {
    static let iptables = ["/usr/sbin/iptables", "/sbin/iptables", "/usr/bin/iptables"].first { FileIO.exists($0) } ?? "iptables"
    static let chains = ["INPUT", "CNI-ISOLATION-STAGE-1", "CNI-ISOLATION-STAGE-2"]

    public static func remove(bridge: String) {
        // Not while a plugin adds rules (the host-wide lock the plugins run under).
        let lock = CNI.hostLock()
        defer { if lock >= 0 { close(lock) } }
        guard let r = try? Spawn.capture([iptables, "-w", "-t", "filter", "-S"]), r.status == .exited(0) else { return }
        var deletes: [String] = []
        for line in String(decoding: r.stdout, as: UTF8.self).split(separator: "\n") {
            let words = split(String(line))
            guard words.first == "-A", words.count > 1, chains.contains(words[1]), words.contains(bridge),
                  let i = words.firstIndex(where: { $0 == "-i" || $0 == "-o" }), i + 1 < words.count, words[i + 1] == bridge else { continue }
            deletes.append("-D" + line.dropFirst(2))
        }
        restore(table: "filter", deletes)
    }

    /// Several rule changes in one `iptables-restore --noflush` (each iptables call costs ~10 ms).
    static func restore(table: String, _ lines: [String]) {
        guard !lines.isEmpty else { return }
        let input = "*\(table)\n" + lines.joined(separator: "\n") + "\nCOMMIT\n"
        _ = try? Spawn.capture([iptablesRestore, "-w", "--noflush"], stdin: Array(input.utf8))
    }

    static let iptablesRestore = ["/usr/sbin/iptables-restore", "/sbin/iptables-restore", "/usr/bin/iptables-restore"]
        .first { FileIO.exists($0) } ?? "iptables-restore"

    /// iptables-save's words: spaces separate, double quotes group (the plugin's comments).
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

extension BridgeRules {
    /// The chains the plugins make once and share (firewall's CNI-FORWARD, CNI-ADMIN and isolation
    /// stages; portmap's CNI-HOSTPORT-*). When swctr's last network goes they go too, unless
    /// anything in them is specific to some container (an address or an interface), which means
    /// another CNI user still has containers on this host.
    static let shared: [(table: String, chains: [String])] = [
        ("filter", ["CNI-FORWARD", "CNI-ADMIN", "CNI-ISOLATION-STAGE-1", "CNI-ISOLATION-STAGE-2"]),
        ("nat", ["CNI-HOSTPORT-DNAT", "CNI-HOSTPORT-MASQ", "CNI-HOSTPORT-SETMARK"]),
    ]

    public static func removeSharedChainsIfUnused() {
        let lock = CNI.hostLock()
        defer { if lock >= 0 { close(lock) } }
        for (table, chains) in shared {
            guard let r = try? Spawn.capture([iptables, "-w", "-t", table, "-S"]), r.status == .exited(0) else { continue }
            let rules = String(decoding: r.stdout, as: UTF8.self).split(separator: "\n").map { split(String($0)) }
            let inside = rules.filter { $0.first == "-A" && $0.count > 1 && chains.contains($0[1]) }
            let specific = inside.contains { w in w.contains { ["-s", "-d", "-i", "-o", "--dports", "--dport"].contains($0) } }
            let leadsOut = inside.contains { w in
                guard let j = w.firstIndex(of: "-j"), j + 1 < w.count else { return false }
                return !(chains.contains(w[j + 1]) || ["RETURN", "MASQUERADE", "MARK"].contains(w[j + 1]))
            }
            if specific || leadsOut { continue }
            // Jumps into the chains from the built-in ones first, then the chains themselves.
            let lines = String(decoding: r.stdout, as: UTF8.self).split(separator: "\n")
            var batch: [String] = []
            for (w, line) in zip(rules, lines) where w.first == "-A" && w.count > 1 && !chains.contains(w[1]) {
                if let j = w.firstIndex(of: "-j"), j + 1 < w.count, chains.contains(w[j + 1]) { batch.append("-D" + line.dropFirst(2)) }
            }
            let existing = Set(rules.filter { $0.first == "-N" && $0.count > 1 }.map { $0[1] })
            batch += chains.filter(existing.contains).map { "-F \($0)" }
            batch += chains.filter(existing.contains).map { "-X \($0)" }
            restore(table: table, batch)
        }
    }
}
