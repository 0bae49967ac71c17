import Database
import JSON

/// Dockerfile text → instructions, as BuildKit's parser reads it: parser directives at the top,
/// comments and blank lines skipped, lines joined at the escape character (comment lines inside
/// a continuation dropped), heredocs after RUN/COPY/ADD, `--flags`, and exec form when the
/// arguments are a JSON array of strings. Errors name the file and line.
public enum DockerfileParser {
    static let keywords: Set<String> = ["ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL",
                                        "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"]
    static let flagsOf: [String: Set<String>] = [
        "FROM": ["platform"], "RUN": ["mount", "network", "security"],
        "COPY": ["from", "chown", "chmod", "link", "parents", "exclude"],
        "ADD": ["chown", "chmod", "checksum", "keep-git-dir", "link", "exclude"],
        "HEALTHCHECK": ["interval", "timeout", "start-period", "start-interval", "retries"],
    ]
    static let execCapable: Set<String> = ["RUN", "CMD", "ENTRYPOINT", "SHELL", "COPY", "ADD", "VOLUME"]
    static let heredocCapable: Set<String> = ["RUN", "COPY", "ADD"]
    static let directiveNames: Set<String> = ["syntax", "escape", "check"]

    public static func parse(_ text: String, file: String = "Dockerfile") throws(SwctrError) -> Dockerfile {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.hasSuffix("\r") ? String(line.dropLast()) : String(line)
        }
        if lines.last == "" { lines.removeLast() }
        var dockerfile = Dockerfile()
        var i = 0
        while i < lines.count, let (key, value) = directive(lines[i]) {
            guard dockerfile.directives[key] == nil else { throw error(file, i + 1, "only one \(key) parser directive can be used") }
            dockerfile.directives[key] = value
            i += 1
        }
        if let e = dockerfile.directives["escape"] {
            guard e == "\\" || e == "`" else { throw error(file, 1, "invalid escape token '\(e)' does not match ` or \\") }
            dockerfile.escape = Character(e)
        }
        var reader = LineReader(lines: lines, index: i, escape: dockerfile.escape, file: file)
        while let (lineNumber, logical) = reader.nextLogicalLine() {
            let instruction = try parseInstruction(logical, line: lineNumber, reader: &reader)
            try add(instruction, to: &dockerfile, file: file)
        }
        guard !dockerfile.stages.isEmpty else {
            throw SwctrError(.invalidArgument, "\(file): no FROM instruction: the file has no build stage")
        }
        return dockerfile
    }

    /// `# key=value` at the top of the file, for the directives BuildKit knows.
    static func directive(_ line: String) -> (String, String)? {
        let t = line.trimmingSpaces
        guard t.hasPrefix("#") else { return nil }
        let body = String(t.dropFirst()).trimmingSpaces
        guard let eq = body.firstIndex(of: "=") else { return nil }
        let key = String(body[..<eq]).trimmingSpaces.lowercased()
        guard directiveNames.contains(key) else { return nil }
        return (key, String(body[body.index(after: eq)...]).trimmingSpaces)
    }

    static func error(_ file: String, _ line: Int, _ message: String) -> SwctrError {
        SwctrError(.invalidArgument, "\(file):\(line): \(message)")
    }

    static func parseInstruction(_ logical: String, line: Int, reader: inout LineReader) throws(SwctrError) -> Instruction {
        let file = reader.file
        let trimmed = logical.trimmingSpaces
        let keywordEnd = trimmed.firstIndex(where: \.isWhitespace) ?? trimmed.endIndex
        let keyword = trimmed[..<keywordEnd].uppercased()
        guard keywords.contains(keyword) else {
            throw error(file, line, "unknown instruction: \(Excerpt.of(String(trimmed[..<keywordEnd])))")
        }
        var rest = Substring(trimmed[keywordEnd...]).drop(while: \.isWhitespace)
        var flags: [InstructionFlag] = []
        if let allowed = flagsOf[keyword] {
            while rest.hasPrefix("--") {
                let end = rest.firstIndex(where: \.isWhitespace) ?? rest.endIndex
                let token = rest[rest.index(rest.startIndex, offsetBy: 2)..<end]
                guard !token.isEmpty else { break }
                let eq = token.firstIndex(of: "=")
                let name = String(token[..<(eq ?? token.endIndex)])
                guard allowed.contains(name) else { throw error(file, line, "unknown flag: --\(Excerpt.of(name)) for \(keyword)") }
                flags.append(InstructionFlag(name: name, value: eq.map { String(token[token.index(after: $0)...]) }))
                rest = rest[end...].drop(while: \.isWhitespace)
            }
        }
        let args = String(rest).trimmingSpaces
        var arguments = Arguments.shell(args)
        if execCapable.contains(keyword), args.hasPrefix("["), let list = jsonStrings(args) { arguments = .exec(list) }
        var heredocs: [Heredoc] = []
        if heredocCapable.contains(keyword), case .shell = arguments {
            for marker in heredocMarkers(args) {
                heredocs.append(try reader.heredoc(marker, line: line))
            }
        }
        let flagText = flags.map { "--\($0.name)" + ($0.value.map { "=" + $0 } ?? "") }
        let text = ([keyword] + flagText + (args.isEmpty ? [] : [args])).joined(separator: " ")
        let instruction = Instruction(keyword: keyword, line: line, flags: flags, arguments: arguments, heredocs: heredocs, text: text)
        try validate(instruction, file: file)
        return instruction
    }

    /// A JSON array of strings, or nil (then the text is shell form, as Docker falls back).
    static func jsonStrings(_ text: String) -> [String]? {
        guard case .array(let items)? = try? JSONParser.parse(Array(text.utf8)) else { return nil }
        var out: [String] = []
        for item in items {
            guard case .string(let s) = item else { return nil }
            out.append(s)
        }
        return out
    }

    /// `<<EOF`, `<<-EOF`, `<<"EOF"`, `<<'EOF'` in the order they appear (not `<<<`).
    static func heredocMarkers(_ text: String) -> [(name: String, quoted: Bool, strip: Bool)] {
        var out: [(String, Bool, Bool)] = []
        let chars = Array(text)
        var i = 0
        while i + 2 < chars.count {
            guard chars[i] == "<", chars[i + 1] == "<", chars[i + 2] != "<", i == 0 || chars[i - 1] != "<" else { i += 1; continue }
            var j = i + 2
            let strip = chars[j] == "-"
            if strip { j += 1 }
            var quote: Character?
            if j < chars.count, chars[j] == "\"" || chars[j] == "'" { quote = chars[j]; j += 1 }
            var name = ""
            while j < chars.count, chars[j].isLetter || chars[j].isNumber || chars[j] == "_" || chars[j] == "-" || chars[j] == "." {
                name.append(chars[j])
                j += 1
            }
            if let quote {
                guard j < chars.count, chars[j] == quote else { i = j; continue }
                j += 1
            }
            if !name.isEmpty { out.append((name, quote != nil, strip)) }
            i = j
        }
        return out
    }

    static func validate(_ ins: Instruction, file: String) throws(SwctrError) {
        let args = ins.rawArguments.trimmingSpaces
        let words = args.split(whereSeparator: \.isWhitespace)
        func need(_ ok: Bool, _ message: String) throws(SwctrError) {
            if !ok { throw error(file, ins.line, message) }
        }
        switch ins.keyword {
        case "FROM":
            try need(words.count == 1 || (words.count == 3 && words[1].lowercased() == "as"),
                     "FROM requires either one or three arguments (FROM IMAGE [AS NAME])")
            if words.count == 3 {
                let name = words[2].lowercased()
                try need(name.first.map { $0.isLetter } == true
                         && name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." },
                         "invalid name for build stage: \"\(words[2])\", name can't start with a number or contain symbols")
            }
        case "COPY", "ADD":
            if case .exec(let list) = ins.arguments {
                try need(list.count >= 2, "\(ins.keyword) requires at least two arguments, but only \(list.count) provided")
            } else {
                try need(words.count >= 2, "\(ins.keyword) requires at least two arguments, but only \(words.count) provided")
            }
        case "SHELL":
            guard case .exec(let list) = ins.arguments, !list.isEmpty else {
                throw error(file, ins.line, "SHELL requires the arguments to be in JSON form, such as SHELL [\"/bin/sh\", \"-c\"]")
            }
        case "HEALTHCHECK":
            let kind = words.first?.uppercased() ?? ""
            try need(kind == "NONE" || kind == "CMD", "Unknown type \"\(words.first ?? "")\" in HEALTHCHECK (try CMD)")
            try need(kind != "NONE" || words.count == 1, "HEALTHCHECK NONE takes no other arguments")
            try need(kind != "CMD" || words.count > 1, "Missing command after HEALTHCHECK CMD")
        case "ONBUILD":
            let inner = words.first?.uppercased() ?? ""
            try need(!inner.isEmpty, "ONBUILD requires at least one argument")
            try need(inner != "ONBUILD", "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")
            try need(inner != "FROM" && inner != "MAINTAINER", "\(inner) isn't allowed as an ONBUILD trigger")
            try need(keywords.contains(inner), "unknown instruction: \(Excerpt.of(String(words[0]))) in ONBUILD")
        case "CMD", "ENTRYPOINT":
            break
        case "RUN":
            if case .shell = ins.arguments { try need(!args.isEmpty, "RUN requires at least one argument") }
        default:
            try need(!args.isEmpty, "\(ins.keyword) requires at least one argument")
        }
    }

    static func add(_ ins: Instruction, to d: inout Dockerfile, file: String) throws(SwctrError) {
        if ins.keyword == "FROM" {
            let words = ins.rawArguments.split(whereSeparator: \.isWhitespace).map(String.init)
            let name = words.count == 3 ? words[2].lowercased() : nil
            if let name, d.stages.contains(where: { $0.name == name }) {
                throw error(file, ins.line, "duplicate stage name \"\(name)\"")
            }
            d.stages.append(Stage(from: ins, name: name, baseImage: words[0]))
            return
        }
        guard !d.stages.isEmpty else {
            guard ins.keyword == "ARG" else { throw error(file, ins.line, "no build stage in current context (\(ins.keyword) before FROM)") }
            d.globalArgs.append(ins)
            return
        }
        d.stages[d.stages.count - 1].instructions.append(ins)
    }
}

/// Physical lines → logical ones: skips blank and comment lines, joins continuations, and hands
/// out the lines after an instruction as heredoc bodies.
struct LineReader {
    var lines: [String]
    var index: Int
    var escape: Character
    var file: String

    /// The next instruction's line number and text, continuations joined.
    mutating func nextLogicalLine() -> (Int, String)? {
        while index < lines.count, Self.isSkippable(lines[index]) { index += 1 }
        guard index < lines.count else { return nil }
        let start = index + 1
        var logical = ""
        while index < lines.count {
            let line = lines[index]
            index += 1
            let trimmed = line.trimmingTrailingSpaces
            if trimmed.last == escape {
                logical += trimmed.dropLast()
                // Comment and blank lines inside a continuation are dropped, as BuildKit does.
                while index < lines.count, Self.isSkippable(lines[index]) { index += 1 }
                continue
            }
            logical += line
            break
        }
        return (start, logical)
    }

    static func isSkippable(_ line: String) -> Bool {
        let t = line.trimmingSpaces
        return t.isEmpty || t.hasPrefix("#")
    }

    mutating func heredoc(_ marker: (name: String, quoted: Bool, strip: Bool), line: Int) throws(SwctrError) -> Heredoc {
        var content = ""
        while index < lines.count {
            var body = lines[index]
            index += 1
            if marker.strip { body = String(body.drop { $0 == "\t" }) }
            if body == marker.name {
                return Heredoc(name: marker.name, content: content, expands: !marker.quoted, stripsTabs: marker.strip)
            }
            content += body + "\n"
        }
        throw DockerfileParser.error(file, line, "unterminated heredoc: no line \(marker.name) after it")
    }
}

extension StringProtocol {
    var trimmingSpaces: String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }

    var trimmingTrailingSpaces: String { String(String(reversed().drop(while: \.isWhitespace)).reversed()) }
}
