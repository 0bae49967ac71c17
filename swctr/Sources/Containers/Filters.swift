import Database

/// `ps --filter KEY=VALUE`, as Docker matches them: the same key given twice matches either
/// value, different keys must all match.
public struct ContainerFilter: Sendable {
    var terms: [String: [String]] = [:]

    public static let keys: Set<String> = ["status", "name", "label", "ancestor", "id", "exited", "health", "network", "volume"]

    public init(_ specs: [String]) throws(SwctrError) {
        for spec in specs {
            guard let eq = spec.firstIndex(of: "=") else {
                throw SwctrError(.invalidArgument, "bad format of filter (expected name=value)")
            }
            let key = String(spec[..<eq]).lowercased()
            guard Self.keys.contains(key) else { throw SwctrError(.invalidArgument, "invalid filter '\(key)'") }
            let value = String(spec[spec.index(after: eq)...])
            if key == "status", !["created", "restarting", "running", "removing", "paused", "exited", "dead"].contains(value) {
                throw SwctrError(.invalidArgument, "invalid filter 'status=\(value)'")
            }
            terms[key, default: []].append(value)
        }
    }

    /// Whether a status filter asks for stopped containers (so `ps` without -a shows them).
    public var namesStatus: Bool { terms["status"] != nil || terms["exited"] != nil }

    public func matches(_ v: ContainerView) -> Bool {
        for (key, values) in terms {
            // Docker: several values of one key match any of them, except labels, which must all match.
            let test = { (value: String) -> Bool in
                switch key {
                case "status": return v.stateName == value
                case "name": return v.row.name.contains(value.hasPrefix("/") ? String(value.dropFirst()) : value)
                case "id": return v.row.id.hasPrefix(value)
                case "ancestor": return v.row.image == value || v.row.imageID.hasPrefix(value) || v.row.imageID.dropFirst(7).hasPrefix(value)
                    || v.row.image.split(separator: ":").first.map(String.init) == value
                case "exited": return v.status == .exited && Int32(value) == v.state.exitCode
                case "health":
                    let status = v.state.health?.status.rawValue ?? "none"
                    return status == value
                case "network": return v.options.network == value || v.options.attachedNetworks.contains { $0.network == value }
                case "volume": return (v.options.mounts ?? []).contains { $0.source == value || $0.target == value }
                case "label":
                    if let eq = value.firstIndex(of: "=") {
                        return v.options.labels[String(value[..<eq])] == String(value[value.index(after: eq)...])
                    }
                    return v.options.labels[value] != nil
                default: return false
                }
            }
            let ok = key == "label" ? values.allSatisfy(test) : values.contains(where: test)
            if !ok { return false }
        }
        return true
    }
}
