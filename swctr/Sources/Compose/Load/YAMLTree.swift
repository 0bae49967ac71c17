import Database
import Yams

/// A compose file as a tree of maps (keys in order), sequences and scalars, each with where it
/// was written — what merging several files, interpolation and the typed model work on, so that
/// every error can name its path (`services.web.ports[1]`) and its line.
indirect enum YAMLTree: Sendable, Equatable {
    case map([(key: String, value: YAMLTree)], Place)
    case seq([YAMLTree], Place)
    /// A scalar's text; `quoted` for a quoted one (never null, a number or a boolean).
    case scalar(String, quoted: Bool, Place)
    case null(Place)

    /// The file and line (0: made by swctr, not written).
    struct Place: Sendable, Equatable {
        var file: String
        var line: Int
        var column: Int

        static let none = Place(file: "", line: 0, column: 0)
        var text: String { line > 0 ? "\(file):\(line):\(column)" : file }
    }

    static func == (a: YAMLTree, b: YAMLTree) -> Bool {
        switch (a, b) {
        case (.map(let x, _), .map(let y, _)): x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        case (.seq(let x, _), .seq(let y, _)): x == y
        case (.scalar(let x, let q, _), .scalar(let y, let r, _)): x == y && q == r
        case (.null, .null): true
        default: false
        }
    }

    var place: Place {
        switch self {
        case .map(_, let p), .seq(_, let p), .scalar(_, _, let p), .null(let p): p
        }
    }

    /// Parses YAML text; syntax errors name the line and column.
    static func parse(_ text: String, file: String) throws(SwctrError) -> YAMLTree {
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch let e as YamlError {
            throw SwctrError(.invalidArgument, "\(file): \(describe(e))")
        } catch {
            throw SwctrError(.invalidArgument, "\(file): \(error)")
        }
        guard let node else { return .map([], Place(file: file, line: 1, column: 1)) }
        return try convert(node, file: file)
    }

    static func describe(_ e: YamlError) -> String {
        switch e {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return "line \(mark.line), column \(mark.column): \(problem)"
        case .reader(let problem, _, _, _):
            return problem
        default:
            return "\(e)".split(separator: "\n").first.map(String.init) ?? "invalid YAML"
        }
    }

    static func convert(_ node: Node, file: String) throws(SwctrError) -> YAMLTree {
        let place = Place(file: file, line: node.mark?.line ?? 0, column: node.mark?.column ?? 0)
        switch node {
        case .scalar(let s):
            if s.style == .plain && s.tag.rawValue.hasSuffix(":null") || (s.style == .plain && ["", "~", "null", "Null", "NULL"].contains(s.string)) {
                return .null(place)
            }
            return .scalar(s.string, quoted: s.style != .plain, place)
        case .sequence(let seq):
            var items: [YAMLTree] = []
            for item in seq { items.append(try convert(item, file: file)) }
            return .seq(items, place)
        case .mapping(let m):
            var pairs: [(key: String, value: YAMLTree)] = []
            var merged: [(key: String, value: YAMLTree)] = []
            for (k, v) in m {
                guard case .scalar(let ks) = k else {
                    throw SwctrError(.invalidArgument, "\(place.text): a mapping key must be a string")
                }
                let value = try convert(v, file: file)
                if ks.string == "<<" {
                    // YAML merge keys (`<<: *defaults`): the keys written here win.
                    var sources = [value]
                    if case .seq(let list, _) = value { sources = list }
                    for source in sources {
                        guard case .map(let more, _) = source else {
                            throw SwctrError(.invalidArgument, "\(value.place.text): << merges mappings only")
                        }
                        merged += more
                    }
                    continue
                }
                if pairs.contains(where: { $0.key == ks.string }) {
                    throw SwctrError(.invalidArgument, "\(file): line \(k.mark?.line ?? 0): key \(ks.string) appears twice")
                }
                pairs.append((ks.string, value))
            }
            for (k, v) in merged where !pairs.contains(where: { $0.key == k }) { pairs.append((k, v)) }
            return .map(pairs, place)
        default:
            throw SwctrError(.invalidArgument, "\(place.text): unsupported YAML node")
        }
    }

    subscript(key: String) -> YAMLTree? {
        if case .map(let pairs, _) = self { return pairs.first { $0.key == key }?.value }
        return nil
    }

    /// Merges `override` onto `self`, as Compose merges several -f files: mappings key by key,
    /// sequences appended (those that name one command or test are replaced), scalars replaced.
    func merged(with override: YAMLTree, path: [String] = []) -> YAMLTree {
        switch (self, override) {
        case (.map(var base, let p), .map(let over, _)):
            for (k, v) in over {
                if let i = base.firstIndex(where: { $0.key == k }) {
                    base[i].value = base[i].value.merged(with: v, path: path + [k])
                } else {
                    base.append((k, v))
                }
            }
            return .map(base, p)
        case (.seq(let a, let p), .seq(let b, _)):
            let replaced: Set<String> = ["command", "entrypoint", "test", "dns", "dns_search", "profiles"]
            if let last = path.last, replaced.contains(last) { return override }
            var out = a
            for item in b where !out.contains(item) { out.append(item) }
            return .seq(out, p)
        default:
            return override
        }
    }
}
