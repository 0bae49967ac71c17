import Database
import JSON

/// The part of Go's text/template that `--format` users write, over a JSON document:
/// `{{.State.Status}}`, `{{json .Config}}`, `{{index .Config.Labels "k"}}`, `{{range .Config.Env}}
/// {{.}}{{end}}`, `{{if .State.Running}}…{{else}}…{{end}}`, `{{len .Args}}`, and Docker's extra
/// functions `join`, `lower`, `upper`, `title`, `truncate`. Values print as Go prints them
/// (`map[k:v]`, `[a b]`, `<no value>` for a missing key).
public struct GoTemplate: Sendable {
    indirect enum Node: Sendable {
        case text(String)
        case action([String])
        case range([String], [Node], [Node])
        case conditional([String], [Node], [Node])
    }

    let nodes: [Node]

    public init(_ text: String) throws(SwctrError) {
        var tokens = try Self.tokenize(text)[...]
        nodes = try Self.parse(&tokens, until: [])
        if let extra = tokens.first { throw SwctrError(.invalidArgument, "template: unexpected \(extra)") }
    }

    public func render(_ data: JSONValue) throws(SwctrError) -> String {
        var out = ""
        try Self.render(nodes, dot: data, into: &out)
        return out
    }

    // MARK: lexing and parsing

    enum Token: CustomStringConvertible {
        case text(String)
        case action([String])
        var description: String {
            switch self {
            case .text(let t): return "text \(t)"
            case .action(let a): return "{{\(a.joined(separator: " "))}}"
            }
        }
    }

    static func tokenize(_ text: String) throws(SwctrError) -> [Token] {
        var tokens: [Token] = []
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            if open.lowerBound > rest.startIndex { tokens.append(.text(String(rest[..<open.lowerBound]))) }
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                throw SwctrError(.invalidArgument, "template: unclosed action")
            }
            tokens.append(.action(try words(String(rest[open.upperBound..<close.lowerBound]))))
            rest = rest[close.upperBound...]
        }
        if !rest.isEmpty { tokens.append(.text(String(rest))) }
        return tokens
    }

    /// Splits an action into words, keeping "quoted strings" whole.
    static func words(_ action: String) throws(SwctrError) -> [String] {
        var out: [String] = []
        var current = ""
        var quoted = false
        for c in action.drop(while: { $0 == " " || $0 == "-" }).reversed().drop(while: { $0 == " " || $0 == "-" }).reversed() {
            if c == "\"" {
                current.append(c)
                if quoted { out.append(current); current = "" }
                quoted.toggle()
            } else if c == " " && !quoted {
                if !current.isEmpty { out.append(current); current = "" }
            } else {
                current.append(c)
            }
        }
        if quoted { throw SwctrError(.invalidArgument, "template: unterminated quoted string") }
        if !current.isEmpty { out.append(current) }
        return out
    }

    static func parse(_ tokens: inout ArraySlice<Token>, until ends: Set<String>) throws(SwctrError) -> [Node] {
        var nodes: [Node] = []
        while let token = tokens.first {
            switch token {
            case .text(let t):
                tokens.removeFirst()
                nodes.append(.text(t))
            case .action(let words):
                if let w = words.first, ends.contains(w) { return nodes }
                tokens.removeFirst()
                switch words.first {
                case "range", "if":
                    let body = try parse(&tokens, until: ["else", "end"])
                    var otherwise: [Node] = []
                    if case .action(let w)? = tokens.first, w.first == "else" {
                        tokens.removeFirst()
                        otherwise = try parse(&tokens, until: ["end"])
                    }
                    guard case .action(let w)? = tokens.first, w.first == "end" else {
                        throw SwctrError(.invalidArgument, "template: missing {{end}}")
                    }
                    tokens.removeFirst()
                    let expr = Array(words.dropFirst())
                    nodes.append(words.first == "range" ? .range(expr, body, otherwise) : .conditional(expr, body, otherwise))
                case "end", "else":
                    throw SwctrError(.invalidArgument, "template: unexpected {{\(words.first ?? "")}}")
                default:
                    nodes.append(.action(words))
                }
            }
        }
        return nodes
    }

    // MARK: evaluation

    static func render(_ nodes: [Node], dot: JSONValue, into out: inout String) throws(SwctrError) {
        for node in nodes {
            switch node {
            case .text(let t): out += t
            case .action(let words): out += format(try evaluate(words, dot: dot))
            case .range(let expr, let body, let otherwise):
                let value = try evaluate(expr, dot: dot)
                var items: [JSONValue] = []
                switch value {
                case .array(let a): items = a
                case .object(let o): items = o.keys.sorted().compactMap { o[$0] }
                default: break
                }
                if items.isEmpty { try render(otherwise, dot: dot, into: &out) }
                for item in items { try render(body, dot: item, into: &out) }
            case .conditional(let expr, let body, let otherwise):
                try render(truthy(try evaluate(expr, dot: dot)) ? body : otherwise, dot: dot, into: &out)
            }
        }
    }

    static func truthy(_ v: JSONValue) -> Bool {
        switch v {
        case .null: return false
        case .bool(let b): return b
        case .number(let n): return Double(n) != 0
        case .string(let s): return !s.isEmpty
        case .array(let a): return !a.isEmpty
        case .object(let o): return o.count > 0
        }
    }

    /// A function call or a single operand.
    static func evaluate(_ words: [String], dot: JSONValue) throws(SwctrError) -> JSONValue {
        guard let head = words.first else { return dot }
        let args = try words.dropFirst().map { w throws(SwctrError) in try operand(w, dot: dot) }
        switch head {
        case "json":
            return .string(args.first?.serialized() ?? "null")
        case "index":
            guard var v = args.first else { throw SwctrError(.invalidArgument, "template: index needs arguments") }
            for key in args.dropFirst() {
                switch (v, key) {
                case (.object(let o), .string(let k)): v = o[k] ?? .null
                case (.array(let a), .number(let n)): v = Int(n).flatMap { a.indices.contains($0) ? a[$0] : nil } ?? .null
                default: v = .null
                }
            }
            return v
        case "len":
            switch args.first {
            case .array(let a)?: return .number(String(a.count))
            case .object(let o)?: return .number(String(o.count))
            case .string(let s)?: return .number(String(s.count))
            default: return .number("0")
            }
        case "join":
            guard case .array(let a)? = args.first, args.count == 2, case .string(let sep) = args[1] else { return .string("") }
            return .string(a.map(format).joined(separator: sep))
        case "lower": return .string(format(args.first ?? .null).lowercased())
        case "upper": return .string(format(args.first ?? .null).uppercased())
        case "title": return .string(format(args.first ?? .null).capitalized)
        case "truncate":
            guard args.count == 2, case .number(let n) = args[1], let k = Int(n) else { return args.first ?? .null }
            return .string(String(format(args[0]).prefix(k)))
        case "println": return .string(args.map(format).joined(separator: " ") + "\n")
        default:
            guard words.count == 1 else { throw SwctrError(.invalidArgument, "template: function \"\(head)\" not defined") }
            return try operand(head, dot: dot)
        }
    }

    static func operand(_ word: String, dot: JSONValue) throws(SwctrError) -> JSONValue {
        if word.hasPrefix("\"") && word.hasSuffix("\"") && word.count >= 2 { return .string(String(word.dropFirst().dropLast())) }
        if Int(word) != nil { return .number(word) }
        guard word.hasPrefix(".") else { throw SwctrError(.invalidArgument, "template: function \"\(word)\" not defined") }
        var v = dot
        for field in word.split(separator: ".") {
            guard case .object(let o) = v else { return .null }
            guard let next = o[String(field)] else { return .missing }
            v = next
        }
        return v
    }

    /// Go's %v for the template's values.
    static func format(_ v: JSONValue) -> String {
        switch v {
        case .null: return "<no value>"
        case .bool(let b): return b ? "true" : "false"
        case .number(let n): return n
        case .string(let s): return s
        case .array(let a): return "[" + a.map(format).joined(separator: " ") + "]"
        case .object(let o):
            if o.count == 0 { return "map[]" }
            return "map[" + o.keys.sorted().map { "\($0):\(format(o[$0] ?? .null))" }.joined(separator: " ") + "]"
        }
    }
}

extension JSONValue {
    /// A key the document lacks (Go prints `<no value>`).
    static var missing: JSONValue { .null }
}

extension String {
    var capitalized: String { split(separator: " ").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined(separator: " ") }
}
