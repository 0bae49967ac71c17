/// A strict RFC 8259 parser. Besides the grammar it refuses what a lenient parser would let two
/// readers of one config disagree on: a key given twice in one object (Go and jq take the last,
/// others the first), invalid UTF-8 and lone surrogates, and nesting deeper than any config needs.
/// Errors name where: the JSON path for duplicates and bad strings, line and column for syntax.
public struct JSONParser {
    public static let maxDepth = 200

    private let bytes: [UInt8]
    private var pos = 0
    private var path: [PathComponent] = []

    private enum PathComponent {
        case key(String)
        case index(Int)
    }

    private init(_ bytes: [UInt8]) { self.bytes = bytes }

    public static func parse(_ bytes: [UInt8]) throws(JSONError) -> JSONValue {
        var parser = JSONParser(bytes)
        parser.skipWhitespace()
        let value = try parser.parseValue()
        parser.skipWhitespace()
        if parser.pos != bytes.count { throw parser.syntax("unexpected data after the top-level value") }
        return value
    }

    // MARK: values

    private mutating func parseValue() throws(JSONError) -> JSONValue {
        guard pos < bytes.count else { throw syntax("unexpected end of input") }
        switch bytes[pos] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw syntax("unexpected character \(describe(bytes[pos]))")
        }
    }

    private mutating func parseObject() throws(JSONError) -> JSONValue {
        if path.count >= Self.maxDepth { throw JSONError(renderPath(), "nested deeper than \(Self.maxDepth) levels") }
        pos += 1
        var object = JSONObject()
        skipWhitespace()
        if peek(UInt8(ascii: "}")) { pos += 1; return .object(object) }
        while true {
            guard peek(UInt8(ascii: "\"")) else { throw syntax("expected a string key") }
            let key = try parseString()
            skipWhitespace()
            guard peek(UInt8(ascii: ":")) else { throw syntax("expected ':' after key \"\(Excerpt.of(key))\"") }
            pos += 1
            skipWhitespace()
            path.append(.key(key))
            let value = try parseValue()
            path.removeLast()
            if !object.insert(key, value) {
                throw JSONError(renderPath(), "duplicate key \"\(Excerpt.of(key))\"")
            }
            skipWhitespace()
            guard pos < bytes.count else { throw syntax("unexpected end of input in an object") }
            if bytes[pos] == UInt8(ascii: ",") { pos += 1; skipWhitespace(); continue }
            if bytes[pos] == UInt8(ascii: "}") { pos += 1; return .object(object) }
            throw syntax("expected ',' or '}' in an object")
        }
    }

    private mutating func parseArray() throws(JSONError) -> JSONValue {
        if path.count >= Self.maxDepth { throw JSONError(renderPath(), "nested deeper than \(Self.maxDepth) levels") }
        pos += 1
        var items: [JSONValue] = []
        skipWhitespace()
        if peek(UInt8(ascii: "]")) { pos += 1; return .array(items) }
        while true {
            path.append(.index(items.count))
            items.append(try parseValue())
            path.removeLast()
            skipWhitespace()
            guard pos < bytes.count else { throw syntax("unexpected end of input in an array") }
            if bytes[pos] == UInt8(ascii: ",") { pos += 1; skipWhitespace(); continue }
            if bytes[pos] == UInt8(ascii: "]") { pos += 1; return .array(items) }
            throw syntax("expected ',' or ']' in an array")
        }
    }

    private mutating func literal(_ word: String) throws(JSONError) {
        let w = Array(word.utf8)
        let n = w.count
        guard pos + n <= bytes.count, (0..<n).allSatisfy({ bytes[pos + $0] == w[$0] }) else {
            throw syntax("invalid literal")
        }
        pos += n
    }

    private mutating func parseNumber() throws(JSONError) -> String {
        let start = pos
        if peek(UInt8(ascii: "-")) { pos += 1 }
        guard pos < bytes.count, isDigit(bytes[pos]) else { throw syntax("invalid number") }
        if bytes[pos] == UInt8(ascii: "0") {
            pos += 1
        } else {
            while pos < bytes.count, isDigit(bytes[pos]) { pos += 1 }
        }
        if peek(UInt8(ascii: ".")) {
            pos += 1
            guard pos < bytes.count, isDigit(bytes[pos]) else { throw syntax("invalid number: digits must follow '.'") }
            while pos < bytes.count, isDigit(bytes[pos]) { pos += 1 }
        }
        if peek(UInt8(ascii: "e")) || peek(UInt8(ascii: "E")) {
            pos += 1
            if peek(UInt8(ascii: "+")) || peek(UInt8(ascii: "-")) { pos += 1 }
            guard pos < bytes.count, isDigit(bytes[pos]) else { throw syntax("invalid number: digits must follow the exponent") }
            while pos < bytes.count, isDigit(bytes[pos]) { pos += 1 }
        }
        if pos < bytes.count, isDigit(bytes[pos]) { throw syntax("invalid number: leading zero") }
        return String(decoding: bytes[start..<pos], as: UTF8.self)
    }

    // MARK: strings

    private mutating func parseString() throws(JSONError) -> String {
        pos += 1
        let start = pos
        // Fast path: plain ASCII without escapes is copied in one go.
        while pos < bytes.count {
            let b = bytes[pos]
            if b == UInt8(ascii: "\"") {
                pos += 1
                return String(decoding: bytes[start..<(pos - 1)], as: UTF8.self)
            }
            if b == UInt8(ascii: "\\") || b < 0x20 || b >= 0x80 { break }
            pos += 1
        }
        var out = Array(bytes[start..<pos])
        while true {
            guard pos < bytes.count else { throw syntax("unterminated string") }
            let b = bytes[pos]
            switch b {
            case UInt8(ascii: "\""):
                pos += 1
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                pos += 1
                try parseEscape(into: &out)
            case 0..<0x20:
                throw syntax("control character \(describe(b)) in a string (escape it)")
            case 0x80...:
                let n = try utf8SequenceLength(at: pos)
                out.append(contentsOf: bytes[pos..<(pos + n)])
                pos += n
            default:
                out.append(b)
                pos += 1
            }
        }
    }

    private mutating func parseEscape(into out: inout [UInt8]) throws(JSONError) {
        guard pos < bytes.count else { throw syntax("unterminated escape") }
        let c = bytes[pos]
        pos += 1
        switch c {
        case UInt8(ascii: "\""): out.append(0x22)
        case UInt8(ascii: "\\"): out.append(0x5c)
        case UInt8(ascii: "/"): out.append(0x2f)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0c)
        case UInt8(ascii: "n"): out.append(0x0a)
        case UInt8(ascii: "r"): out.append(0x0d)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try hex4()
            if (0xD800...0xDBFF).contains(scalar) {
                guard peek(UInt8(ascii: "\\")), pos + 1 < bytes.count, bytes[pos + 1] == UInt8(ascii: "u") else {
                    throw syntax("lone surrogate \\u\(String(scalar, radix: 16)) in a string")
                }
                pos += 2
                let low = try hex4()
                guard (0xDC00...0xDFFF).contains(low) else { throw syntax("invalid surrogate pair in a string") }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(scalar) {
                throw syntax("lone surrogate \\u\(String(scalar, radix: 16)) in a string")
            }
            guard let u = Unicode.Scalar(scalar) else { throw syntax("invalid \\u escape") }
            out.append(contentsOf: Array(String(Character(u)).utf8))
        default:
            throw syntax("invalid escape \\\(describe(c))")
        }
    }

    private mutating func hex4() throws(JSONError) -> UInt32 {
        guard pos + 4 <= bytes.count else { throw syntax("truncated \\u escape") }
        var v: UInt32 = 0
        for i in 0..<4 {
            let b = bytes[pos + i]
            let d: UInt32
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(b - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(b - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(b - UInt8(ascii: "A") + 10)
            default: throw syntax("invalid \\u escape")
            }
            v = v << 4 | d
        }
        pos += 4
        return v
    }

    /// Length of the well-formed UTF-8 sequence at `i` (Unicode 15, table 3-7: no overlong
    /// forms, no surrogates, nothing above U+10FFFF).
    private func utf8SequenceLength(at i: Int) throws(JSONError) -> Int {
        let b0 = bytes[i]
        func cont(_ k: Int, _ range: ClosedRange<UInt8> = 0x80...0xBF) -> Bool {
            i + k < bytes.count && range.contains(bytes[i + k])
        }
        let ok: Bool
        let n: Int
        switch b0 {
        case 0xC2...0xDF: n = 2; ok = cont(1)
        case 0xE0: n = 3; ok = cont(1, 0xA0...0xBF) && cont(2)
        case 0xE1...0xEC, 0xEE...0xEF: n = 3; ok = cont(1) && cont(2)
        case 0xED: n = 3; ok = cont(1, 0x80...0x9F) && cont(2)
        case 0xF0: n = 4; ok = cont(1, 0x90...0xBF) && cont(2) && cont(3)
        case 0xF1...0xF3: n = 4; ok = cont(1) && cont(2) && cont(3)
        case 0xF4: n = 4; ok = cont(1, 0x80...0x8F) && cont(2) && cont(3)
        default: n = 1; ok = false
        }
        if !ok {
            let where_ = renderPath()
            let (line, column) = location(of: i)
            throw JSONError(where_, "invalid UTF-8 at line \(line), column \(column)")
        }
        return n
    }

    // MARK: helpers

    private mutating func skipWhitespace() {
        while pos < bytes.count {
            switch bytes[pos] {
            case 0x20, 0x09, 0x0a, 0x0d: pos += 1
            default: return
            }
        }
    }

    private func peek(_ b: UInt8) -> Bool { pos < bytes.count && bytes[pos] == b }
    private func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

    private func describe(_ b: UInt8) -> String {
        (0x21...0x7e).contains(b) ? "'\(Character(Unicode.Scalar(b)))'" : "0x" + String(b, radix: 16)
    }

    private func location(of offset: Int) -> (Int, Int) {
        var line = 1, column = 1
        for b in bytes[0..<min(offset, bytes.count)] {
            if b == 0x0a { line += 1; column = 1 } else if b & 0xC0 != 0x80 { column += 1 }
        }
        return (line, column)
    }

    private func syntax(_ message: String) -> JSONError {
        let (line, column) = location(of: pos)
        let inside = path.isEmpty ? "" : " (in \(renderPath()))"
        return JSONError("", "invalid JSON at line \(line), column \(column)\(inside): \(message)")
    }

    private func renderPath() -> String {
        var out = ""
        for c in path {
            switch c {
            case .index(let i): out += "[\(i)]"
            case .key(let k): out += (out.isEmpty ? "" : ".") + Excerpt.of(k)  // a key may hold a newline
            }
        }
        return out
    }
}
