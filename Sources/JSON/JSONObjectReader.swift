/// Reads a JSON object member by member into a program's own types, with JSONValueDecoder's
/// rules and messages (`process.user.uid: expected a non-negative integer, got -1`) but none of
/// Codable's generic containers: a type decoded this way costs no runtime metadata or
/// conformance lookups, which dominate a short-lived command (config.json on every create,
/// state.json on every command).
/// A member that is absent or null is nil for the optional reads; the required reads say
/// "required field is missing" for an absent one and "found null" for a null one.
public struct JSONObjectReader {
    let object: JSONObject
    /// The object's JSON path ("" for the document).
    public let path: String
    /// Strings below here may hold NUL (the top-level keys in `nulAllowedUnder`).
    let allowNUL: Bool
    let nulAllowedUnder: Set<String>

    /// The document's top-level object; strings under `nulAllowedUnder` keys (annotations, which
    /// never reach a syscall) may hold NUL, as with JSONValueDecoder.
    public init(_ value: JSONValue, nulAllowedUnder: Set<String> = ["annotations"]) throws(JSONError) {
        try self.init(value, path: "", allowNUL: false, nulAllowedUnder: nulAllowedUnder)
    }

    /// A document that stands for the member at `path` of a larger one (`exec --process`'s file
    /// is `process`): errors are located there.
    public init(_ value: JSONValue, at path: String) throws(JSONError) {
        try self.init(value, path: path, allowNUL: false, nulAllowedUnder: [])
    }

    init(_ value: JSONValue, path: String, allowNUL: Bool, nulAllowedUnder: Set<String>) throws(JSONError) {
        guard case .object(let o) = value else { throw JSONScalars.mismatch("an object", value, path) }
        object = o
        self.path = path
        self.allowNUL = allowNUL
        self.nulAllowedUnder = nulAllowedUnder
    }

    private func at(_ key: String) -> String { path.isEmpty ? Excerpt.of(key) : path + "." + Excerpt.of(key) }
    private func nulAllowed(_ key: String) -> Bool { allowNUL || (path.isEmpty && nulAllowedUnder.contains(key)) }

    private func present(_ key: String) -> JSONValue? {
        guard let v = object[key] else { return nil }
        if case .null = v { return nil }
        return v
    }

    private func required(_ key: String) throws(JSONError) -> JSONValue {
        guard let v = object[key] else { throw JSONError(at(key), "required field is missing") }
        return v
    }

    private func reader(_ value: JSONValue, path: String, key: String) throws(JSONError) -> JSONObjectReader {
        try JSONObjectReader(value, path: path, allowNUL: nulAllowed(key), nulAllowedUnder: nulAllowedUnder)
    }

    private func items(_ value: JSONValue, _ key: String) throws(JSONError) -> [JSONValue] {
        guard case .array(let items) = value else { throw JSONScalars.mismatch("an array", value, at(key)) }
        return items
    }

    // MARK: scalars

    public func string(_ key: String) throws(JSONError) -> String {
        try JSONScalars.string(required(key), at(key), allowNUL: nulAllowed(key))
    }

    public func optionalString(_ key: String) throws(JSONError) -> String? {
        guard let v = present(key) else { return nil }
        return try JSONScalars.string(v, at(key), allowNUL: nulAllowed(key))
    }

    public func optionalBool(_ key: String) throws(JSONError) -> Bool? {
        guard let v = present(key) else { return nil }
        return try JSONScalars.bool(v, at(key))
    }

    public func bool(_ key: String) throws(JSONError) -> Bool {
        try JSONScalars.bool(required(key), at(key))
    }

    public func integer<T: FixedWidthInteger>(_ key: String, as type: T.Type = T.self) throws(JSONError) -> T {
        try JSONScalars.integer(required(key), at(key))
    }

    public func optionalInteger<T: FixedWidthInteger>(_ key: String, as type: T.Type = T.self) throws(JSONError) -> T? {
        guard let v = present(key) else { return nil }
        return try JSONScalars.integer(v, at(key)) as T
    }

    // MARK: arrays and maps

    public func optionalStrings(_ key: String) throws(JSONError) -> [String]? {
        guard let v = present(key) else { return nil }
        let list = try items(v, key)
        var out: [String] = []
        out.reserveCapacity(list.count)
        for (i, item) in list.enumerated() {
            out.append(try JSONScalars.string(item, at(key) + "[\(i)]", allowNUL: nulAllowed(key)))
        }
        return out
    }

    /// Required: absent is "required field is missing".
    public func strings(_ key: String) throws(JSONError) -> [String] {
        guard object[key] != nil else { throw JSONError(at(key), "required field is missing") }
        guard let list = try optionalStrings(key) else { throw JSONScalars.mismatch("an array", .null, at(key)) }
        return list
    }

    public func optionalIntegers<T: FixedWidthInteger>(_ key: String, as type: T.Type = T.self) throws(JSONError) -> [T]? {
        guard let v = present(key) else { return nil }
        let list = try items(v, key)
        var out: [T] = []
        out.reserveCapacity(list.count)
        for (i, item) in list.enumerated() { out.append(try JSONScalars.integer(item, at(key) + "[\(i)]")) }
        return out
    }

    public func optionalStringMap(_ key: String) throws(JSONError) -> [String: String]? {
        guard let v = present(key) else { return nil }
        let map = try reader(v, path: at(key), key: key)
        var out: [String: String] = [:]
        out.reserveCapacity(map.object.count)
        for (k, item) in zip(map.object.keys, map.object.values) {
            out[k] = try JSONScalars.string(item, map.at(k), allowNUL: map.allowNUL)
        }
        return out
    }

    // MARK: nested objects

    public func optionalObject(_ key: String) throws(JSONError) -> JSONObjectReader? {
        guard let v = present(key) else { return nil }
        return try reader(v, path: at(key), key: key)
    }

    /// An array of objects, each read by `make` (`hooks.prestart[0]`).
    public func optionalObjects<T>(_ key: String, _ make: (JSONObjectReader) throws(JSONError) -> T) throws(JSONError) -> [T]? {
        guard let v = present(key) else { return nil }
        let list = try items(v, key)
        var out: [T] = []
        out.reserveCapacity(list.count)
        for (i, item) in list.enumerated() { out.append(try make(reader(item, path: at(key) + "[\(i)]", key: key))) }
        return out
    }

    /// An object whose members are objects of one shape, each read by `make` (`linux.timeOffsets`).
    public func optionalObjectMap<T>(_ key: String, _ make: (JSONObjectReader) throws(JSONError) -> T) throws(JSONError) -> [String: T]? {
        guard let v = present(key) else { return nil }
        let map = try reader(v, path: at(key), key: key)
        var out: [String: T] = [:]
        for (k, item) in zip(map.object.keys, map.object.values) {
            out[k] = try make(map.reader(item, path: map.at(k), key: k))
        }
        return out
    }
}
