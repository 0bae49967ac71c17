import Database
import JSON

/// Reading typed values out of a YAML tree, each error naming the value's path and line:
/// `compose.yaml:12:5: services.web.ports[1]: …`.
struct Fields {
    static func fail(_ node: YAMLTree, _ path: String, _ message: String) -> SwctrError {
        let at = node.place.line > 0 ? "\(node.place.text): " : ""
        return SwctrError(.invalidArgument, "\(at)\(path): \(message)")
    }

    /// The members of a mapping; every key must be one of `known` (or an `x-` extension).
    static func map(_ node: YAMLTree, _ path: String, known: Set<String>? = nil) throws(SwctrError) -> [(key: String, value: YAMLTree)] {
        switch node {
        case .null: return []
        case .map(let pairs, _):
            if let known {
                for (k, v) in pairs where !known.contains(k) && !k.hasPrefix("x-") {
                    throw fail(v, path.isEmpty ? k : "\(path).\(k)", "unknown key")
                }
            }
            return pairs.filter { !$0.key.hasPrefix("x-") }
        default: throw fail(node, path, "must be a mapping")
        }
    }

    static func string(_ node: YAMLTree, _ path: String) throws(SwctrError) -> String {
        if case .scalar(let s, _, _) = node { return s }
        throw fail(node, path, "must be a string")
    }

    static func optionalString(_ node: YAMLTree?, _ path: String) throws(SwctrError) -> String? {
        guard let node else { return nil }
        if case .null = node { return nil }
        return try string(node, path)
    }

    static func bool(_ node: YAMLTree, _ path: String) throws(SwctrError) -> Bool {
        let s = try string(node, path).lowercased()
        if ["true", "yes", "on"].contains(s) { return true }
        if ["false", "no", "off"].contains(s) { return false }
        throw fail(node, path, "must be true or false, not \(Excerpt.of(s))")
    }

    static func int(_ node: YAMLTree, _ path: String) throws(SwctrError) -> Int {
        let s = try string(node, path)
        guard let n = Int(s) else { throw fail(node, path, "must be a whole number, not \(Excerpt.of(s))") }
        return n
    }

    /// A sequence of scalars (a lone scalar counts as one).
    static func list(_ node: YAMLTree, _ path: String) throws(SwctrError) -> [String] {
        switch node {
        case .null: return []
        case .scalar(let s, _, _): return [s]
        case .seq(let items, _):
            var out: [String] = []
            for (i, item) in items.enumerated() { out.append(try string(item, "\(path)[\(i)]")) }
            return out
        default: throw fail(node, path, "must be a list of strings")
        }
    }

    /// `command:` and the like: a list as written, or a string split as a shell splits words.
    static func command(_ node: YAMLTree, _ path: String) throws(SwctrError) -> [String]? {
        switch node {
        case .null: return nil
        case .scalar(let s, _, _): return try shellSplit(s, node: node, path: path)
        default: return try list(node, path)
        }
    }

    /// A mapping of scalars (values may be null) or a list of `K=V` (or `K`) strings.
    static func pairs(_ node: YAMLTree, _ path: String, separator: Character = "=") throws(SwctrError) -> [(key: String, value: String?)] {
        switch node {
        case .null: return []
        case .map(let pairs, _):
            var out: [(key: String, value: String?)] = []
            for (k, v) in pairs {
                if case .null = v { out.append((k, nil)) } else { out.append((k, try string(v, "\(path).\(k)"))) }
            }
            return out
        case .seq:
            return try list(node, path).map { item in
                guard let i = item.firstIndex(of: separator) else { return (item, nil) }
                return (String(item[..<i]), String(item[item.index(after: i)...]))
            }
        default: throw fail(node, path, "must be a mapping or a list")
        }
    }

    /// Words split at unquoted blanks; quotes and backslashes as a POSIX shell reads them; no
    /// variables (interpolation already ran).
    static func shellSplit(_ text: String, node: YAMLTree, path: String) throws(SwctrError) -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        var chars = text.makeIterator()
        while let c = chars.next() {
            if let q = quote {
                if c == q { quote = nil } else if c == "\\" && q == "\"", let n = chars.next() {
                    if n != "\"" && n != "\\" && n != "$" { current.append("\\") }
                    current.append(n)
                } else { current.append(c) }
                continue
            }
            switch c {
            case "'", "\"": quote = c; inWord = true
            case "\\": if let n = chars.next() { current.append(n); inWord = true }
            case " ", "\t", "\n":
                if inWord { words.append(current); current = ""; inWord = false }
            default: current.append(c); inWord = true
            }
        }
        if quote != nil { throw fail(node, path, "unterminated quote in \(Excerpt.of(text))") }
        if inWord { words.append(current) }
        return words
    }

    /// "1m30s", "10s", "500ms" (and a bare number of seconds) as nanoseconds.
    static func duration(_ node: YAMLTree, _ path: String) throws(SwctrError) -> Int64 {
        let s = try string(node, path)
        if let secs = Double(s) { return Int64(secs * 1e9) }
        var total = 0.0
        var rest = Substring(s)
        let units: [(String, Double)] = [("ms", 1e6), ("us", 1e3), ("ns", 1), ("h", 3600e9), ("m", 60e9), ("s", 1e9)]
        while !rest.isEmpty {
            let num = rest.prefix { $0.isNumber || $0 == "." }
            guard let v = Double(num), let unit = units.first(where: { rest.dropFirst(num.count).hasPrefix($0.0) }) else {
                throw fail(node, path, "invalid duration \(Excerpt.of(s)) (want e.g. 30s, 1m30s, 500ms)")
            }
            total += v * unit.1
            rest = rest.dropFirst(num.count + unit.0.count)
        }
        return Int64(total)
    }
}
