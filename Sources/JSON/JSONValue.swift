/// A parsed JSON document, as strict as config.json deserves: every string is valid UTF-8, no
/// object has a key twice, and numbers keep their literal text so that an integer field can say
/// exactly what was wrong with `1.5`, `-1` or `18446744073709551616` instead of rounding it.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// The number's literal text, already checked against JSON's number grammar.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// "a string", "an object", … for error messages.
    var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    /// A short, one-line rendering of the value for error messages (never the whole of a
    /// 60 KB string).
    var excerpt: String {
        switch self {
        case .null: "null"
        case .bool(let b): b ? "true" : "false"
        case .number(let n): Excerpt.of(n)
        case .string(let s): "\"" + Excerpt.of(s) + "\""
        case .array(let a): a.isEmpty ? "[]" : "an array"
        case .object(let o): o.count == 0 ? "{}" : "an object"
        }
    }
}

/// An object's members in document order, with an index for lookup by key.
public struct JSONObject: Sendable, Equatable {
    public private(set) var keys: [String] = []
    public private(set) var values: [JSONValue] = []
    private var index: [String: Int] = [:]

    public init() {}

    public var count: Int { keys.count }

    public subscript(key: String) -> JSONValue? {
        index[key].map { values[$0] }
    }

    mutating func replace(_ key: String, _ value: JSONValue) {
        if let i = index[key] { values[i] = value }
    }

    /// Adds a member; false (and nothing added) if the key is already there.
    mutating func insert(_ key: String, _ value: JSONValue) -> Bool {
        if index[key] != nil { return false }
        index[key] = keys.count
        keys.append(key)
        values.append(value)
        return true
    }
}

/// Values quoted in error messages: at most a few dozen characters, control characters escaped,
/// so that an error stays one short line whatever the input held.
public enum Excerpt {
    public static let limit = 48

    /// A whole error message as one line: control characters escaped, at most `limit` characters.
    public static func line(_ message: String, limit: Int = 900) -> String {
        guard message.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f })
                || message.count > limit else { return message }
        var out = ""
        var count = 0
        for scalar in message.unicodeScalars {
            if count >= limit { return out + "…" }
            if scalar.value < 0x20 || scalar.value == 0x7f {
                out += scalar == "\n" ? "\\n" : scalar == "\t" ? "\\t" : "\\u" + String(scalar.value, radix: 16)
            } else {
                out.unicodeScalars.append(scalar)
            }
            count += 1
        }
        return out
    }

    public static func of(_ text: String, limit: Int = Excerpt.limit) -> String {
        var out = ""
        var count = 0
        for scalar in text.unicodeScalars {
            if count >= limit { return out + "…" }
            JSONValue.appendEscaped(scalar, to: &out)
            count += 1
        }
        return out
    }
}

extension JSONValue {
    /// One scalar as it appears inside a JSON string: quotes, backslashes and control
    /// characters (DEL too, so an excerpt shows it) escaped.
    static func appendEscaped(_ scalar: Unicode.Scalar, to out: inout String) {
        switch scalar {
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7f {
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
}
