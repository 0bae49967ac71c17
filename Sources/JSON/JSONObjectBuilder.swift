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
