import Database
import Images
import JSON

/// Where a stage stands after each step: its layers, the image config as JSON (edited in place,
/// so fields swctr does not model survive from the base image), the cache key of the chain so
/// far, and what the Dockerfile set that is not in the config (ARGs in scope, SHELL).
struct StageState: Sendable {
    /// The cache key of the steps so far (the base image's ID at FROM).
    var key: String
    var layers: [ImageComposer.LayerDescriptor]
    /// The whole image config: architecture, os, config, history, author, created.
    var image: JSONObject
    /// ARGs declared in this stage so far, with their values (nil: declared without one).
    var args: [String: String?] = [:]
    var shell = ["/bin/sh", "-c"]
    /// A CMD of this stage (an ENTRYPOINT then keeps it; one from the base image it drops).
    var cmdSet = false

    /// The time of the latest step that made a layer (metadata steps reuse it, so a build found
    /// whole in the cache gives the same config, and the same image ID).
    var created: String {
        if case .string(let c)? = image["created"] { return c }
        return "1970-01-01T00:00:00Z"
    }

    var diffIDs: [String] { layers.map(\.diffID) }

    /// The image config's `config` member.
    var config: JSONObject {
        get { if case .object(let c)? = image["config"] { return c } else { return JSONObject() } }
        set { image.set("config", .object(newValue)) }
    }

    func strings(_ key: String) -> [String]? {
        guard case .array(let a)? = config[key] else { return nil }
        return a.compactMap { if case .string(let s) = $0 { s } else { nil } }
    }

    func string(_ key: String) -> String? {
        if case .string(let s)? = config[key] { return s }
        return nil
    }

    mutating func set(_ key: String, _ values: [String]?) {
        var c = config
        c.set(key, values.map { .array($0.map { .string($0) }) } ?? .null)
        config = c
    }

    mutating func set(_ key: String, _ value: String) {
        var c = config
        c.set(key, .string(value))
        config = c
    }

    /// `Env` as an ordered list of pairs.
    var env: [(String, String)] {
        (strings("Env") ?? []).map { kv in
            guard let eq = kv.firstIndex(of: "=") else { return (kv, "") }
            return (String(kv[..<eq]), String(kv[kv.index(after: eq)...]))
        }
    }

    mutating func setEnv(_ key: String, _ value: String) {
        var list = strings("Env") ?? []
        list.removeAll { $0 == key || $0.hasPrefix(key + "=") }
        list.append("\(key)=\(value)")
        set("Env", list)
    }

    /// What variables in an instruction see: the ARGs in scope, and ENV over them.
    var substitutionEnvironment: [String: String] {
        var out: [String: String] = [:]
        for (k, v) in args { if let v { out[k] = v } }
        for (k, v) in env { out[k] = v }
        return out
    }

    /// Adds to a map-valued config member (ExposedPorts, Volumes): {"80/tcp": {}}.
    mutating func addKeys(_ key: String, _ names: [String]) {
        var c = config
        var o = JSONObject()
        if case .object(let existing)? = c[key] { o = existing }
        for n in names { o.set(n, .object(JSONObject())) }
        c.set(key, .object(o))
        config = c
    }

    mutating func setLabel(_ key: String, _ value: String) {
        var c = config
        var o = JSONObject()
        if case .object(let existing)? = c["Labels"] { o = existing }
        o.set(key, .string(value))
        c.set("Labels", .object(o))
        config = c
    }

    /// A history entry for the step; `emptyLayer` for a step that only changed the config.
    mutating func addHistory(_ createdBy: String, emptyLayer: Bool, created: String) {
        var history: [JSONValue] = []
        if case .array(let h)? = image["history"] { history = h }
        var entry = JSONObject()
        entry.set("created", .string(created))
        entry.set("created_by", .string(createdBy))
        entry.set("comment", .string("swctr build"))
        if emptyLayer { entry.set("empty_layer", .bool(true)) }
        history.append(.object(entry))
        image.set("history", .array(history))
        image.set("created", .string(created))
    }
}
