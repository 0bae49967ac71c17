/// How a JSON value becomes a string, boolean, integer or number, and what is said when it
/// cannot: one set of rules and messages for JSONValueDecoder (Codable) and JSONObjectReader
/// (member by member). `path` is only evaluated for an error.
enum JSONScalars {
    static func mismatch(_ expected: String, _ value: JSONValue, _ path: @autoclosure () -> String) -> JSONError {
        if case .null = value { return JSONError(path(), "expected \(expected), found null") }
        return JSONError(path(), "expected \(expected), got \(value.excerpt)")
    }

    /// Strings holding NUL are refused (the kernel would cut them short) unless `allowNUL`.
    static func string(_ value: JSONValue, _ path: @autoclosure () -> String, allowNUL: Bool) throws(JSONError) -> String {
        guard case .string(let s) = value else { throw mismatch("a string", value, path()) }
        if !allowNUL, s.utf8.contains(0) {
            throw JSONError(path(), "contains a NUL character (\"\(Excerpt.of(s))\")")
        }
        return s
    }

    static func bool(_ value: JSONValue, _ path: @autoclosure () -> String) throws(JSONError) -> Bool {
        guard case .bool(let b) = value else { throw mismatch("a boolean", value, path()) }
        return b
    }

    /// Read from the literal's text: nothing is rounded or wrapped.
    static func integer<T: FixedWidthInteger>(_ value: JSONValue, _ path: @autoclosure () -> String) throws(JSONError) -> T {
        let kind = T.isSigned ? "an integer" : "a non-negative integer"
        guard case .number(let text) = value else { throw mismatch(kind, value, path()) }
        if let v = T(text) { return v }
        if text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) {
            throw JSONError(path(), "expected \(kind), got \(Excerpt.of(text))")
        }
        if !T.isSigned && text.hasPrefix("-") {
            throw JSONError(path(), "expected \(kind), got \(Excerpt.of(text))")
        }
        throw JSONError(path(), "out of range (\(T.min)…\(T.max)), got \(Excerpt.of(text))")
    }

    static func double(_ value: JSONValue, _ path: @autoclosure () -> String) throws(JSONError) -> Double {
        guard case .number(let text) = value, let d = Double(text), d.isFinite else {
            throw mismatch("a number", value, path())
        }
        return d
    }
}
