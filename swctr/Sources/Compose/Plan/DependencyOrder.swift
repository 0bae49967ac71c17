import Database

/// Services by dependency level: level 0 depends on nothing, level n only on levels below it.
/// `up` starts the levels in order (each level's services in parallel), `down` and `stop` go in
/// reverse; a cycle is an error that names it.
public enum DependencyOrder {
    /// What a service needs started first: its depends_on, and the service whose network it joins.
    static func needs(_ s: ComposeService, among names: Set<String>) -> [String] {
        var out = s.dependsOn.map(\.service).filter { names.contains($0) }
        if let mode = s.networkMode, mode.hasPrefix("service:") { out.append(String(mode.dropFirst(8))) }
        return out
    }

    public static func levels(_ services: [ComposeService]) throws(SwctrError) -> [[String]] {
        let names = Set(services.map(\.name))
        var level: [String: Int] = [:]
        var visiting: [String] = []
        func visit(_ name: String) throws(SwctrError) -> Int {
            if let l = level[name] { return l }
            if let i = visiting.firstIndex(of: name) {
                throw SwctrError(.invalidArgument, "dependency cycle detected: \((visiting[i...] + [name]).joined(separator: " -> "))")
            }
            visiting.append(name)
            var l = 0
            if let s = services.first(where: { $0.name == name }) {
                for d in needs(s, among: names) { l = max(l, try visit(d) + 1) }
            }
            visiting.removeLast()
            level[name] = l
            return l
        }
        for s in services { _ = try visit(s.name) }
        let top = level.values.max() ?? -1
        guard top >= 0 else { return [] }
        return (0...top).map { l in services.map(\.name).filter { level[$0] == l } }
    }

    /// `names` and every service they depend on, transitively.
    public static func closure(_ names: [String], in services: [ComposeService]) -> [String] {
        let all = Set(services.map(\.name))
        var out: [String] = []
        var stack = names
        while let n = stack.popLast() {
            guard !out.contains(n) else { continue }
            out.append(n)
            if let s = services.first(where: { $0.name == n }) { stack += needs(s, among: all) }
        }
        return out
    }

    /// Services that depend on `name`, transitively (recreated with it when it changes).
    public static func dependents(of name: String, in services: [ComposeService]) -> [String] {
        let all = Set(services.map(\.name))
        var out: [String] = []
        var frontier = [name]
        while let n = frontier.popLast() {
            for s in services where needs(s, among: all).contains(n) && !out.contains(s.name) {
                out.append(s.name)
                frontier.append(s.name)
            }
        }
        return out
    }
}
