import Database
import JSON

/// Compose's variable interpolation in values: `$VAR`, `${VAR}`, `${VAR:-default}` (unset or
/// empty), `${VAR-default}` (unset), `${VAR:?message}` / `${VAR?message}` (an error),
/// `${VAR:+other}` / `${VAR+other}`, and `$$` for a literal `$`. Defaults may hold variables
/// themselves. A variable that is not set and has no default is empty, with a warning.
struct Interpolation {
    var environment: [String: String]
    /// Variables used without a value, for the warnings.
    var unset: [String] = []

    init(environment: [String: String]) { self.environment = environment }

    mutating func apply(_ tree: YAMLTree, path: String) throws(SwctrError) -> YAMLTree {
        switch tree {
        case .scalar(let s, let quoted, let place):
            guard s.contains("$") else { return tree }
            do { return .scalar(try apply(s), quoted: quoted, place) } catch {
                throw SwctrError(.invalidArgument, "error while interpolating \(path)" + (place.line > 0 ? " (\(place.text))" : "") + ": \(error.message)")
            }
        case .map(let pairs, let place):
            var out: [(key: String, value: YAMLTree)] = []
            for (k, v) in pairs { out.append((k, try apply(v, path: path.isEmpty ? k : "\(path).\(k)"))) }
            return .map(out, place)
        case .seq(let items, let place):
            var out: [YAMLTree] = []
            for (i, v) in items.enumerated() { out.append(try apply(v, path: "\(path)[\(i)]")) }
            return .seq(out, place)
        case .null:
            return tree
        }
    }

    mutating func apply(_ text: String) throws(SwctrError) -> String {
        let chars = Array(text)
        var i = 0
        return try expand(chars, &i, until: nil)
    }

    static func isNameChar(_ c: Character) -> Bool { c.isASCII && (c.isLetter || c.isNumber || c == "_") }

    /// Expands from `i` to the end, or to an unmatched `until` (a default's closing brace).
    mutating func expand(_ chars: [Character], _ i: inout Int, until: Character?) throws(SwctrError) -> String {
        var out = ""
        var depth = 0
        while i < chars.count {
            let c = chars[i]
            if let until, c == until, depth == 0 { return out }
            if c == "{" { depth += 1 } else if c == "}" && depth > 0 { depth -= 1 }
            guard c == "$" else { out.append(c); i += 1; continue }
            i += 1
            guard i < chars.count else { out.append("$"); break }
            if chars[i] == "$" { out.append("$"); i += 1; continue }
            if chars[i] != "{" {
                var name = ""
                while i < chars.count, Self.isNameChar(chars[i]) { name.append(chars[i]); i += 1 }
                if name.isEmpty { out.append("$"); continue }
                out += value(name)
                continue
            }
            i += 1
            var name = ""
            while i < chars.count, Self.isNameChar(chars[i]) { name.append(chars[i]); i += 1 }
            guard !name.isEmpty, i < chars.count else { throw SwctrError(.invalidArgument, "invalid interpolation format: ${\(name)") }
            if chars[i] == "}" {
                i += 1
                out += value(name)
                continue
            }
            var op = String(chars[i])
            if chars[i] == ":" && i + 1 < chars.count { op += String(chars[i + 1]) }
            guard ["-", "?", "+", ":-", ":?", ":+"].contains(op) else {
                throw SwctrError(.invalidArgument, "invalid interpolation format for ${\(name)\(chars[i])…}")
            }
            i += op.count
            let word = try expand(chars, &i, until: "}")
            guard i < chars.count else { throw SwctrError(.invalidArgument, "invalid interpolation format: missing } after ${\(name)") }
            i += 1
            let v = environment[name]
            let set = op.hasPrefix(":") ? !(v ?? "").isEmpty : v != nil
            switch op.last {
            case "-": out += set ? v ?? "" : word
            case "+": out += set ? word : ""
            default:
                guard set else { throw SwctrError(.invalidArgument, "required variable \(name) is missing a value: \(word)") }
                out += v ?? ""
            }
        }
        return out
    }

    mutating func value(_ name: String) -> String {
        if let v = environment[name] { return v }
        if !unset.contains(name) { unset.append(name) }
        return ""
    }
}

/// A `.env` file (and `env_file:`): `KEY=VALUE` lines, `export` allowed, `#` comments, values in
/// single quotes literal, in double quotes with `\n` escapes; a `KEY` alone is unset.
enum DotEnv {
    static func parse(_ text: String, file: String) throws(SwctrError) -> [(String, String?)] {
        var out: [(String, String?)] = []
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = raw.strippingChars(" \t\r")
            guard !line.isEmpty, !line.hasPrefix("#") else { continue }
            if line.hasPrefix("export ") { line = String(line.dropFirst(7)).strippingChars(" \t") }
            guard let eq = line.firstIndex(of: "=") else {
                out.append((line, nil))
                continue
            }
            let key = String(line[..<eq]).strippingChars(" \t")
            guard !key.isEmpty, !key.contains(" ") else {
                throw SwctrError(.invalidArgument, "\(file):\(n + 1): invalid line \(Excerpt.of(line))")
            }
            var value = String(line[line.index(after: eq)...]).strippingChars(" \t")
            if value.count >= 2, value.hasPrefix("'"), value.hasSuffix("'") {
                value = String(value.dropFirst().dropLast())
            } else if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
                value = String(value.dropFirst().dropLast()).replacing("\\n", with: "\n").replacing("\\\"", with: "\"")
            } else if let hash = value.range(of: " #") {
                value = String(value[..<hash.lowerBound]).strippingChars(" \t")
            }
            out.append((key, value))
        }
        return out
    }
}

extension StringProtocol {
    func strippingChars(_ set: String) -> String {
        let chars = Set(set)
        return String(drop { chars.contains($0) }.reversed().drop { chars.contains($0) }.reversed())
    }
}
