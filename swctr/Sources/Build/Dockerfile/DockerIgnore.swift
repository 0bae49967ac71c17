/// `.dockerignore` with Docker's matching: one pattern a line (`#` comments), paths relative to
/// the context root (a leading `/` dropped, `.` and `..` cleaned), `*`, `?` and `[a-z]` within a
/// path segment, `**` across any number of segments, `!` re-including what an earlier pattern
/// excluded; the last matching pattern decides, and a pattern matching a directory covers all
/// beneath it.
public struct DockerIgnore: Sendable, Equatable {
    struct Pattern: Sendable, Equatable {
        var segments: [String]
        var exclusion: Bool
    }

    var patterns: [Pattern] = []

    public init(_ text: String) {
        for raw in text.split(separator: "\n", omittingEmptySubsequences: true) {
            var line = raw.trimmingSpaces
            guard !line.isEmpty, !line.hasPrefix("#") else { continue }
            var exclusion = false
            if line.hasPrefix("!") {
                exclusion = true
                line = String(line.dropFirst()).trimmingSpaces
            }
            let segments = Self.clean(line)
            if !segments.isEmpty { patterns.append(Pattern(segments: segments, exclusion: exclusion)) }
        }
    }

    public var isEmpty: Bool { patterns.isEmpty }

    /// Whether `path` (relative to the context, "/"-separated) is left out of the build context.
    public func excludes(_ path: String) -> Bool {
        let parts = Self.clean(path)
        guard !parts.isEmpty else { return false }
        var excluded = false
        for p in patterns {
            // The path itself or one of its parents matching counts (a pattern naming a directory).
            let hit = (1...parts.count).contains { Self.match(p.segments[...], parts[..<$0]) }
            if hit { excluded = !p.exclusion }
        }
        return excluded
    }

    /// Whether an exclusion pattern could re-include something under `directory`: then a walk
    /// must look inside an excluded directory instead of skipping it.
    public func mayReinclude(under directory: String) -> Bool {
        let parts = Self.clean(directory)
        return patterns.contains { p in
            p.exclusion && (p.segments.contains("**") || p.segments.count > parts.count
                            && zip(p.segments, parts).allSatisfy { Self.segmentMatches($0.0, $0.1) })
        }
    }

    static func clean(_ path: String) -> [String] {
        var out: [String] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch part {
            case ".": continue
            case "..": if !out.isEmpty { out.removeLast() }
            default: out.append(String(part))
            }
        }
        return out
    }

    static func match(_ pattern: ArraySlice<String>, _ path: ArraySlice<String>) -> Bool {
        guard let first = pattern.first else { return path.isEmpty }
        if first == "**" {
            let rest = pattern.dropFirst()
            for k in 0...path.count where match(rest, path.dropFirst(k)) { return true }
            return false
        }
        guard let head = path.first, segmentMatches(first, head) else { return false }
        return match(pattern.dropFirst(), path.dropFirst())
    }

    /// One segment against one glob segment: `*`, `?`, `[...]` (with `^`/`!` negation and
    /// ranges) and `\` escapes.
    static func segmentMatches(_ pattern: String, _ name: String) -> Bool {
        glob(Array(pattern)[...], Array(name)[...])
    }

    static func glob(_ p: ArraySlice<Character>, _ s: ArraySlice<Character>) -> Bool {
        guard let c = p.first else { return s.isEmpty }
        switch c {
        case "*":
            let rest = p.dropFirst()
            for k in 0...s.count where glob(rest, s.dropFirst(k)) { return true }
            return false
        case "?":
            return !s.isEmpty && glob(p.dropFirst(), s.dropFirst())
        case "[":
            guard let ch = s.first, let close = p.dropFirst().firstIndex(of: "]") else { return s.first == "[" && glob(p.dropFirst(), s.dropFirst()) }
            var set = p[p.index(after: p.startIndex)..<close]
            var negate = false
            if let f = set.first, f == "^" || f == "!" { negate = true; set = set.dropFirst() }
            var hit = false
            let items = Array(set)
            var k = 0
            while k < items.count {
                if k + 2 < items.count, items[k + 1] == "-" {
                    if items[k] <= ch && ch <= items[k + 2] { hit = true }
                    k += 3
                } else {
                    if items[k] == ch { hit = true }
                    k += 1
                }
            }
            return hit != negate && glob(p[p.index(after: close)...], s.dropFirst())
        case "\\":
            let next = p.dropFirst()
            guard let literal = next.first else { return s.first == "\\" && s.count == 1 }
            return s.first == literal && glob(next.dropFirst(), s.dropFirst())
        default:
            return s.first == c && glob(p.dropFirst(), s.dropFirst())
        }
    }
}
