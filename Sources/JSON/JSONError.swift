/// A problem in a JSON document, located by the JSON path of the offending field:
/// `linux.namespaces[2].type: unknown namespace type "foo"` (empty path: the document itself).
public struct JSONError: Error, CustomStringConvertible, Sendable, Equatable {
    public var path: String
    public var message: String

    public init(_ path: String, _ message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { path.isEmpty ? message : "\(path): \(message)" }
}

/// Renders a Codable coding path the way JSON paths are usually written: `a.b[2].c`.
public func jsonPath(_ keys: [any CodingKey]) -> String {
    var out = ""
    for key in keys {
        if let index = key.intValue {
            out += "[\(index)]"
        } else {
            if !out.isEmpty { out += "." }
            out += Excerpt.of(key.stringValue)  // map keys come from the input
        }
    }
    return out
}
