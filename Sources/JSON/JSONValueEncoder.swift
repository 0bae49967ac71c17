/// Encodes `Encodable` types to JSON without Foundation (for small, long-lived processes such as
/// swctr's container monitor). Keys come out in the order the type encodes them; `nil` optionals
/// are left out, as Foundation's encoder does.
public struct JSONValueEncoder {
    public init() {}

    public func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        Array(try encodeValue(value).serialized().utf8)
    }

    public func encodeValue<T: Encodable>(_ value: T) throws -> JSONValue {
        let box = ValueBox()
        try value.encode(to: ValueEncoder(box: box, codingPath: []))
        return box.value ?? .null
    }
}

extension JSONValue {
    /// Compact JSON text.
    public func serialized() -> String {
        var out = ""
        write(to: &out)
        return out
    }

    /// JSON text indented by `indent` spaces per level, as `docker inspect` prints it.
    public func serialized(indent: Int) -> String {
        var out = ""
        write(to: &out, indent: indent, level: 0)
        return out
    }

    private func write(to out: inout String, indent: Int, level: Int) {
        let pad = String(repeating: " ", count: indent * (level + 1))
        let close = String(repeating: " ", count: indent * level)
        switch self {
        case .array(let items) where !items.isEmpty:
            out += "[\n"
            for (i, item) in items.enumerated() {
                out += pad
                item.write(to: &out, indent: indent, level: level + 1)
                out += i == items.count - 1 ? "\n" : ",\n"
            }
            out += close + "]"
        case .object(let object) where !object.keys.isEmpty:
            out += "{\n"
            for (i, key) in object.keys.enumerated() {
                out += pad
                JSONValue.quote(key, into: &out)
                out += ": "
                object.values[i].write(to: &out, indent: indent, level: level + 1)
                out += i == object.keys.count - 1 ? "\n" : ",\n"
            }
            out += close + "}"
        default:
            write(to: &out)
        }
    }

    private func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += n
        case .string(let s): JSONValue.quote(s, into: &out)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                item.write(to: &out)
            }
            out += "]"
        case .object(let object):
            out += "{"
            for (i, key) in object.keys.enumerated() {
                if i > 0 { out += "," }
                JSONValue.quote(key, into: &out)
                out += ":"
                object.values[i].write(to: &out)
            }
            out += "}"
        }
    }

    static func quote(_ s: String, into out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars { appendEscaped(scalar, to: &out) }
        out += "\""
    }
}

extension JSONObject {
    /// Sets a member, replacing an existing one in place.
    public mutating func set(_ key: String, _ value: JSONValue) {
        if !insert(key, value) { replace(key, value) }
    }
}

/// Where an encoder's result goes: containers write into the box they were given.
private final class ValueBox {
    var value: JSONValue?
}

private struct ValueEncoder: Encoder {
    let box: ValueBox
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let object = ObjectBox()
        box.value = .object(JSONObject())
        return KeyedEncodingContainer(KeyedContainer<Key>(object: object, parent: box, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        box.value = .array([])
        return UnkeyedContainer(array: ArrayBox(), parent: box, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleContainer(box: box, codingPath: codingPath)
    }
}

private final class ObjectBox { var object = JSONObject() }
private final class ArrayBox { var items: [JSONValue] = [] }

private enum Encode {
    static func value<T: Encodable>(_ v: T, _ path: [any CodingKey]) throws -> JSONValue {
        let box = ValueBox()
        try v.encode(to: ValueEncoder(box: box, codingPath: path))
        return box.value ?? .null
    }

    static func number(_ d: Double) -> JSONValue {
        guard d.isFinite else { return .null }
        if d == d.rounded(), abs(d) < 1e15 { return .number(String(Int64(d))) }
        return .number("\(d)")
    }
}

private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let object: ObjectBox
    let parent: ValueBox
    let codingPath: [any CodingKey]

    private func put(_ key: Key, _ value: JSONValue) {
        object.object.set(key.stringValue, value)
        parent.value = .object(object.object)
    }

    mutating func encodeNil(forKey key: Key) throws { put(key, .null) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { put(key, .bool(value)) }
    mutating func encode(_ value: String, forKey key: Key) throws { put(key, .string(value)) }
    mutating func encode(_ value: Double, forKey key: Key) throws { put(key, Encode.number(value)) }
    mutating func encode(_ value: Float, forKey key: Key) throws { put(key, Encode.number(Double(value))) }
    mutating func encode(_ value: Int, forKey key: Key) throws { put(key, .number(String(value))) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { put(key, .number(String(value))) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { put(key, .number(String(value))) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { put(key, .number(String(value))) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { put(key, .number(String(value))) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { put(key, .number(String(value))) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { put(key, .number(String(value))) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { put(key, .number(String(value))) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { put(key, .number(String(value))) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { put(key, .number(String(value))) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        put(key, try Encode.value(value, codingPath + [key]))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let box = ValueBox()
        let nested = ValueEncoder(box: box, codingPath: codingPath + [key]).container(keyedBy: keyType)
        put(key, .object(JSONObject()))
        return nested
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        ValueEncoder(box: ValueBox(), codingPath: codingPath + [key]).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder { ValueEncoder(box: ValueBox(), codingPath: codingPath) }
    mutating func superEncoder(forKey key: Key) -> any Encoder { ValueEncoder(box: ValueBox(), codingPath: codingPath + [key]) }
}

private struct UnkeyedContainer: UnkeyedEncodingContainer {
    let array: ArrayBox
    let parent: ValueBox
    let codingPath: [any CodingKey]
    var count: Int { array.items.count }

    private func put(_ value: JSONValue) {
        array.items.append(value)
        parent.value = .array(array.items)
    }

    mutating func encodeNil() throws { put(.null) }
    mutating func encode(_ value: Bool) throws { put(.bool(value)) }
    mutating func encode(_ value: String) throws { put(.string(value)) }
    mutating func encode(_ value: Double) throws { put(Encode.number(value)) }
    mutating func encode(_ value: Float) throws { put(Encode.number(Double(value))) }
    mutating func encode(_ value: Int) throws { put(.number(String(value))) }
    mutating func encode(_ value: Int8) throws { put(.number(String(value))) }
    mutating func encode(_ value: Int16) throws { put(.number(String(value))) }
    mutating func encode(_ value: Int32) throws { put(.number(String(value))) }
    mutating func encode(_ value: Int64) throws { put(.number(String(value))) }
    mutating func encode(_ value: UInt) throws { put(.number(String(value))) }
    mutating func encode(_ value: UInt8) throws { put(.number(String(value))) }
    mutating func encode(_ value: UInt16) throws { put(.number(String(value))) }
    mutating func encode(_ value: UInt32) throws { put(.number(String(value))) }
    mutating func encode(_ value: UInt64) throws { put(.number(String(value))) }
    mutating func encode<T: Encodable>(_ value: T) throws { put(try Encode.value(value, codingPath)) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        ValueEncoder(box: ValueBox(), codingPath: codingPath).container(keyedBy: keyType)
    }
    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        ValueEncoder(box: ValueBox(), codingPath: codingPath).unkeyedContainer()
    }
    mutating func superEncoder() -> any Encoder { ValueEncoder(box: ValueBox(), codingPath: codingPath) }
}

private struct SingleContainer: SingleValueEncodingContainer {
    let box: ValueBox
    let codingPath: [any CodingKey]

    mutating func encodeNil() throws { box.value = .null }
    mutating func encode(_ value: Bool) throws { box.value = .bool(value) }
    mutating func encode(_ value: String) throws { box.value = .string(value) }
    mutating func encode(_ value: Double) throws { box.value = Encode.number(value) }
    mutating func encode(_ value: Float) throws { box.value = Encode.number(Double(value)) }
    mutating func encode(_ value: Int) throws { box.value = .number(String(value)) }
    mutating func encode(_ value: Int8) throws { box.value = .number(String(value)) }
    mutating func encode(_ value: Int16) throws { box.value = .number(String(value)) }
    mutating func encode(_ value: Int32) throws { box.value = .number(String(value)) }
    mutating func encode(_ value: Int64) throws { box.value = .number(String(value)) }
    mutating func encode(_ value: UInt) throws { box.value = .number(String(value)) }
    mutating func encode(_ value: UInt8) throws { box.value = .number(String(value)) }
    mutating func encode(_ value: UInt16) throws { box.value = .number(String(value)) }
    mutating func encode(_ value: UInt32) throws { box.value = .number(String(value)) }
    mutating func encode(_ value: UInt64) throws { box.value = .number(String(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws { box.value = try Encode.value(value, codingPath) }
}
