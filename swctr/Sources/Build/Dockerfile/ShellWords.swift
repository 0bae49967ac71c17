import Database

/// Variable substitution and word splitting where Docker applies them (ADD, COPY, ENV, EXPOSE,
/// FROM, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR, ARG), as BuildKit's shell lexer does:
/// `$name`, `${name}`, `${name:-word}`, `${name-word}`, `${name:+word}`, `${name+word}`,
/// `${name:?message}`; single quotes literal, double quotes substituting, the escape character
/// taking the next one literally. RUN, CMD and ENTRYPOINT are left to the shell.
public struct ShellWords: Sendable {
    public var environment: [String: String]
    public var escape: Character

    public init(environment: [String: String], escape: Character = "\\") {
        self.environment = environment
        self.escape = escape
    }

    /// The text with variables substituted and quotes removed, as one word.
    public func expand(_ text: String) throws(SwctrError) -> String {
        var lexer = Lexer(chars: Array(text), environment: environment, escape: escape)
        return try lexer.words(splitting: false).joined()
    }

    /// The text split into words at unquoted whitespace, each substituted and unquoted.
    public func words(_ text: String) throws(SwctrError) -> [String] {
        var lexer = Lexer(chars: Array(text), environment: environment, escape: escape)
        return try lexer.words(splitting: true)
    }

    /// `k=v k2="v 2"` (or the old `k v` form when `legacy` and the first word has no `=`) as
    /// ordered pairs, values substituted: ENV, LABEL and ARG.
    public func pairs(_ text: String, legacy: Bool) throws(SwctrError) -> [(key: String, value: String)] {
        let raw = Self.rawWords(text, escape: escape)
        if legacy, let first = raw.first, !first.contains("=") {
            let rest = text.trimmingSpaces.dropFirst(first.count).drop(while: \.isWhitespace)
            return [(first, try expand(String(rest)))]
        }
        var out: [(String, String)] = []
        for word in raw {
            guard let eq = word.firstIndex(of: "=") else { out.append((try expand(word), "")); continue }
            out.append((try expand(String(word[..<eq])), try expand(String(word[word.index(after: eq)...]))))
        }
        return out
    }

    /// Words split at unquoted whitespace with quotes and escapes left in place.
    static func rawWords(_ text: String, escape: Character) -> [String] {
        var words: [String] = []
        var current = ""
        var quote: Character?
        var escaped = false
        for c in text {
            if escaped { current.append(c); escaped = false; continue }
            if c == escape && quote != "'" { current.append(c); escaped = true; continue }
            if let q = quote {
                if c == q { quote = nil }
                current.append(c)
            } else if c == "\"" || c == "'" {
                quote = c
                current.append(c)
            } else if c.isWhitespace {
                if !current.isEmpty { words.append(current); current = "" }
            } else {
                current.append(c)
            }
        }
        if !current.isEmpty { words.append(current) }
        return words
    }
}

struct Lexer {
    var chars: [Character]
    var environment: [String: String]
    var escape: Character
    var i = 0

    init(chars: [Character], environment: [String: String], escape: Character) {
        self.chars = chars
        self.environment = environment
        self.escape = escape
    }

    var atEnd: Bool { i >= chars.count }

    mutating func words(splitting: Bool) throws(SwctrError) -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        while !atEnd {
            let c = chars[i]
            if splitting && c.isWhitespace {
                if inWord { words.append(current); current = ""; inWord = false }
                i += 1
                continue
            }
            // An empty unquoted expansion makes no word; quotes (even empty) and other characters do.
            if c != "$" { inWord = true }
            switch c {
            case "'":
                i += 1
                while !atEnd && chars[i] != "'" { current.append(chars[i]); i += 1 }
                guard !atEnd else { throw SwctrError(.invalidArgument, "unexpected end of statement while looking for matching single-quote") }
                i += 1
            case "\"":
                i += 1
                current += try doubleQuoted()
            case "$":
                // An unquoted value splits into words at its whitespace, as BuildKit's lexer does.
                for v in try variable() {
                    if splitting && v.isWhitespace {
                        if inWord { words.append(current); current = ""; inWord = false }
                    } else {
                        current.append(v)
                        inWord = true
                    }
                }
            case escape:
                i += 1
                if atEnd { current.append(c) } else { current.append(chars[i]); i += 1 }
            default:
                current.append(c)
                i += 1
            }
        }
        if inWord { words.append(current) }
        return words
    }

    mutating func doubleQuoted() throws(SwctrError) -> String {
        var out = ""
        while !atEnd {
            let c = chars[i]
            if c == "\"" { i += 1; return out }
            if c == "$" { out += try variable(); continue }
            if c == escape, i + 1 < chars.count, chars[i + 1] == "\"" || chars[i + 1] == "$" || chars[i + 1] == escape {
                out.append(chars[i + 1])
                i += 2
                continue
            }
            out.append(c)
            i += 1
        }
        throw SwctrError(.invalidArgument, "unexpected end of statement while looking for matching double-quote")
    }

    static func isNameChar(_ c: Character) -> Bool { c.isASCII && (c.isLetter || c.isNumber || c == "_") }

    /// At a `$`: the substituted value (a `$` not followed by a name stays).
    mutating func variable() throws(SwctrError) -> String {
        i += 1
        guard !atEnd else { return "$" }
        if chars[i] != "{" {
            var name = ""
            while !atEnd, Self.isNameChar(chars[i]) { name.append(chars[i]); i += 1 }
            return name.isEmpty ? "$" : environment[name] ?? ""
        }
        i += 1
        var name = ""
        while !atEnd, Self.isNameChar(chars[i]) { name.append(chars[i]); i += 1 }
        guard !name.isEmpty, !atEnd else { throw SwctrError(.invalidArgument, "missing ':' or '}' in substitution: ${\(name)") }
        if chars[i] == "}" { i += 1; return environment[name] ?? "" }
        var colon = false
        if chars[i] == ":" { colon = true; i += 1 }
        guard !atEnd else { throw SwctrError(.invalidArgument, "missing '}' in substitution: ${\(name)") }
        let op = chars[i]
        guard op == "-" || op == "+" || op == "?" else {
            throw SwctrError(.invalidArgument, "unsupported modifier (\(op)) in substitution: ${\(name)")
        }
        i += 1
        let word = try braceWord()
        let value = environment[name]
        let isSet = colon ? !(value ?? "").isEmpty : value != nil
        switch op {
        case "-": return isSet ? value ?? "" : word
        case "+": return isSet ? word : ""
        default:
            guard isSet else { throw SwctrError(.invalidArgument, "\(name): \(word.isEmpty ? "is not allowed to be unset" : word)") }
            return value ?? ""
        }
    }

    /// The word of `${name:-word}` up to the closing brace, itself substituted.
    mutating func braceWord() throws(SwctrError) -> String {
        var out = ""
        while !atEnd {
            let c = chars[i]
            switch c {
            case "}": i += 1; return out
            case "$": out += try variable()
            case "'":
                i += 1
                while !atEnd && chars[i] != "'" { out.append(chars[i]); i += 1 }
                i += 1
            case "\"":
                i += 1
                out += try doubleQuoted()
            case escape:
                i += 1
                if !atEnd { out.append(chars[i]); i += 1 }
            default:
                out.append(c)
                i += 1
            }
        }
        throw SwctrError(.invalidArgument, "missing '}' in substitution")
    }
}
