import JSON

extension Spec {
    /// Decodes config.json bytes with the strict parser (duplicate keys, invalid UTF-8 and NUL in
    /// strings refused); every failure names the field.
    /// Member by member (Spec+JSON.swift), not through Codable: a create's cost.
    public static func decode(_ bytes: [UInt8]) throws(SpecError) -> Spec {
        try Spec(json: JSONObjectReader(JSONParser.parse(bytes)))
    }

    /// Decodes and validates: the config the runtime will act on.
    public static func load(_ bytes: [UInt8]) throws(SpecError) -> Spec {
        let spec = try decode(bytes)
        try spec.validate()
        return spec
    }
}

extension SpecError {
    /// A decoder failure as the JSON path of the field and what was wrong with it.
    public init(decodingError: DecodingError) {
        switch decodingError {
        case .typeMismatch(let type, let ctx):
            self.init(jsonPath(ctx.codingPath), "expected \(Self.jsonTypeName(type))")
        case .valueNotFound(let type, let ctx):
            self.init(jsonPath(ctx.codingPath), "expected \(Self.jsonTypeName(type)), found null")
        case .keyNotFound(let key, let ctx):
            self.init(jsonPath(ctx.codingPath + [key]), "required field is missing")
        case .dataCorrupted(let ctx):
            let detail = (ctx.underlyingError.map { "\($0)" }) ?? ctx.debugDescription
            if ctx.codingPath.isEmpty {
                self.init("", "invalid JSON: \(detail)")
            } else {
                self.init(jsonPath(ctx.codingPath), "invalid value: \(ctx.debugDescription)")
            }
        @unknown default:
            self.init("", "invalid config: \(decodingError)")
        }
    }

    private static func jsonTypeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Bool.Type: return "a boolean"
        case is Int.Type, is Int32.Type, is Int64.Type: return "an integer"
        case is UInt.Type, is UInt16.Type, is UInt32.Type, is UInt64.Type: return "a non-negative integer"
        case is [Any].Type: return "an array"
        case is Dictionary<String, Any>.Type: return "an object"
        default:
            let name = "\(type)"
            if name.hasPrefix("Array") { return "an array" }
            if name.hasPrefix("Dictionary") { return "an object" }
            return "an object (\(name))"
        }
    }
}

extension Process {
    /// A process document (`exec --process`): decoded and validated, errors under `process.`.
    public static func load(_ bytes: [UInt8]) throws(SpecError) -> Process {
        let value: JSONValue
        do { value = try JSONParser.parse(bytes) } catch { throw JSONError(error.path.isEmpty ? "process" : "process." + error.path, error.message) }
        let process = try Process(json: JSONObjectReader(value, at: "process"))
        try process.validate(at: "process")
        return process
    }
}
