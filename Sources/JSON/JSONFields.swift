/// Typed reads of an object's members, for documents whose shape the program owns (state files)
/// and that are read on every command: no Codable containers, so none of the runtime type
/// lookups they cost. Errors name the member's JSON path.
public struct JSONFields {
    public let object: JSONObject
    public let path: String

    public init(_ value: JSONValue, path: String = "") throws(JSONError) {
        guard case .object(let o) = value else { throw JSONError(path, "expected an object, found \(value.kindName)") }
        object = o
        self.path = path
    }

    func at(_ key: String) -> String { path.isEmpty ? key : path + "." + key }

    /// nil when the member is absent or null.
    func member(_ key: String) -> JSONValue? {
        guard let v = object[key], v != .null else { return nil }
        return v
    }

    public func string(_ key: String) throws(JSONError) -> String {
        guard let s = try optionalString(key) else { throw JSONError(at(key), "required field is missing") }
        return s
    }

    public func optionalString(_ key: String) throws(JSONError) -> String? {
        guard let v = member(key) else { return nil }
        guard case .string(let s) = v else { throw JSONError(at(key), "expected a string, found \(v.kindName)") }
        return s
    }

    public func optionalBool(_ key: String) throws(JSONError) -> Bool? {
        guard let v = member(key) else { return nil }
        guard case .bool(let b) = v else { throw JSONError(at(key), "expected a boolean, found \(v.kindName)") }
        return b
    }

    public func optionalInt64(_ key: String) throws(JSONError) -> Int64? {
        guard let v = member(key) else { return nil }
        guard case .number(let n) = v, let i = Int64(n) else { throw JSONError(at(key), "expected an integer, found \(v.kindName)") }
        return i
    }

    public func optionalUInt64(_ key: String) throws(JSONError) -> UInt64? {
        guard let v = member(key) else { return nil }
        guard case .number(let n) = v, let i = UInt64(n) else { throw JSONError(at(key), "expected a non-negative integer, found \(v.kindName)") }
        return i
    }

    public func optionalStrings(_ key: String) throws(JSONError) -> [String]? {
        guard let v = member(key) else { return nil }
        guard case .array(let items) = v else { throw JSONError(at(key), "expected an array, found \(v.kindName)") }
        var out: [String] = []
        out.reserveCapacity(items.count)
        for (i, item) in items.enumerated() {
            guard case .string(let s) = item else { throw JSONError(at(key) + "[\(i)]", "expected a string, found \(item.kindName)") }
            out.append(s)
        }
        return out
    }

    public func optionalStringMap(_ key: String) throws(JSONError) -> [String: String]? {
        guard let v = member(key) else { return nil }
        guard case .object(let o) = v else { throw JSONError(at(key), "expected an object, found \(v.kindName)") }
        var out: [String: String] = [:]
        for (k, item) in zip(o.keys, o.values) {
            guard case .string(let s) = item else { throw JSONError(at(key) + "." + Excerpt.of(k), "expected a string, found \(item.kindName)") }
            out[k] = s
        }
        return out
    }

    public func optionalObject(_ key: String) throws(JSONError) -> JSONFields? {
        guard let v = member(key) else { return nil }
        return try JSONFields(v, path: at(key))
    }

    /// An array of objects, each as fields of its own (`hooks.prestart[0]`).
    public func optionalObjects(_ key: String) throws(JSONError) -> [JSONFields]? {
        guard let v = member(key) else { return nil }
        guard case .array(let items) = v else { throw JSONError(at(key), "expected an array, found \(v.kindName)") }
        var out: [JSONFields] = []
        for (i, item) in items.enumerated() { out.append(try JSONFields(item, path: at(key) + "[\(i)]")) }
        return out
    }
}

/// Building an object member by member, leaving out the nil ones (as the Codable encoder does).
public struct JSONObjectBuilder {
    public private(set) var object = JSONObject()

    public init() {}

    public mutating func set(_ key: String, _ value: String?) { if let value { object.set(key, .string(value)) } }
    public mutating func set(_ key: String, _ value: Bool?) { if let value { object.set(key, .bool(value)) } }
    public mutating func set(_ key: String, _ value: Int64?) { if let value { object.set(key, .number(String(value))) } }
    public mutating func set(_ key: String, _ value: UInt64?) { if let value { object.set(key, .number(String(value))) } }
    public mutating func set(_ key: String, _ value: [String]?) { if let value { object.set(key, .array(value.map { .string($0) })) } }
    public mutating func set(_ key: String, _ value: [String: String]?) {
        guard let value else { return }
        var o = JSONObject()
        for (k, v) in value.sorted(by: { $0.key < $1.key }) { o.set(k, .string(v)) }
        object.set(key, .object(o))
    }
    public mutating func set(_ key: String, _ value: JSONValue?) { if let value { object.set(key, value) } }

    public var value: JSONValue { .object(object) }
}
