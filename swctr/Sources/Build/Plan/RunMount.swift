import Database
import JSON

/// `RUN --mount=type=cache|bind|tmpfs,target=…`: what the step's container gets mounted, and
/// never part of its layer.
public struct RunMount: Sendable, Equatable {
    public enum Kind: String, Sendable { case bind, cache, tmpfs }
    public var kind: Kind
    public var target: String
    /// bind: the path in the context (or in `from`); cache: a path inside the cache directory.
    public var source: String?
    /// bind and cache: a stage or an image the files come from.
    public var from: String?
    /// cache: its identity (default: the target).
    public var id: String?
    public var readOnly: Bool
    public var mode: UInt32?
    public var uid: UInt32?
    public var gid: UInt32?
    /// tmpfs: bytes.
    public var size: Int64?

    /// The value of `key=` in a mount's text (for the plan, which needs `from` before parsing).
    public static func field(_ key: String, in text: String) -> String? {
        for part in text.split(separator: ",") {
            let kv = part.split(separator: "=", maxSplits: 1).map(String.init)
            if kv.count == 2 && kv[0].lowercased() == key { return kv[1] }
        }
        return nil
    }

    public init(parsing text: String) throws(SwctrError) {
        var fields: [String: String] = [:]
        var flags = Set<String>()
        for part in text.split(separator: ",") {
            let kv = part.split(separator: "=", maxSplits: 1).map(String.init)
            let key = kv[0].lowercased()
            if kv.count == 1 { flags.insert(key) } else { fields[key] = kv[1] }
        }
        let known: Set<String> = ["type", "target", "dst", "destination", "source", "src", "from", "id", "sharing", "mode", "uid", "gid",
                                  "size", "ro", "readonly", "rw", "readwrite", "required"]
        for key in Set(fields.keys).union(flags) where !known.contains(key) {
            throw SwctrError(.invalidArgument, "--mount: unexpected key \(Excerpt.of(key)) in \(Excerpt.of(text))")
        }
        let type = fields["type"] ?? "bind"
        guard let kind = Kind(rawValue: type) else {
            throw SwctrError(.invalidArgument, "--mount: unsupported mount type \(Excerpt.of(type)) (swctr has bind, cache and tmpfs)")
        }
        guard let target = fields["target"] ?? fields["dst"] ?? fields["destination"], target.hasPrefix("/") || !target.isEmpty else {
            throw SwctrError(.invalidArgument, "--mount \(Excerpt.of(text)): a target is required")
        }
        self.kind = kind
        self.target = target
        source = fields["source"] ?? fields["src"]
        from = fields["from"]
        id = fields["id"]
        readOnly = kind == .bind ? !(flags.contains("rw") || flags.contains("readwrite") || fields["rw"] == "true" || fields["readwrite"] == "true")
            : flags.contains("ro") || flags.contains("readonly") || fields["ro"] == "true" || fields["readonly"] == "true"
        func number(_ key: String, radix: Int = 10) throws(SwctrError) -> UInt32? {
            guard let v = fields[key] else { return nil }
            guard let n = UInt32(v, radix: radix) else { throw SwctrError(.invalidArgument, "--mount: invalid \(key) \(Excerpt.of(v))") }
            return n
        }
        mode = try number("mode", radix: 8)
        uid = try number("uid")
        gid = try number("gid")
        if let s = fields["size"] {
            guard let n = Self.bytes(s) else { throw SwctrError(.invalidArgument, "--mount: invalid size \(Excerpt.of(s))") }
            size = n
        }
    }

    /// 64m, 1g, 4096.
    static func bytes(_ s: String) -> Int64? {
        let lower = s.lowercased()
        let units: [(String, Int64)] = [("k", 1 << 10), ("m", 1 << 20), ("g", 1 << 30)]
        for (suffix, factor) in units where lower.hasSuffix(suffix) || lower.hasSuffix(suffix + "b") {
            let digits = lower.hasSuffix("b") ? lower.dropLast(2) : lower.dropLast()
            return Int64(digits).map { $0 * factor }
        }
        return Int64(lower)
    }
}
