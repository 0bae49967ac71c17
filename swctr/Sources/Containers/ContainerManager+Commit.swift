import Database
import Glibc
import HostOS
import Images
import JSON

/// `commit [-m] [-a] [-c INSTRUCTION]... [-p] CONTAINER [NAME[:TAG]]`.
public struct CommitRequest: Sendable {
    public var name: String?
    public var message: String?
    public var author: String?
    /// Dockerfile instructions applied to the new image's config (CMD, ENTRYPOINT, ENV, …).
    public var changes: [String] = []
    /// Pause a running container while its files are read (Docker's default).
    public var pause = true

    public init(name: String? = nil) { self.name = name }
}

extension ContainerManager {
    /// The container's upper directory as a new layer on its image, with the container's
    /// settings (env, command, working directory, user, labels) as the new image's config.
    public func commit(_ ref: String, _ request: CommitRequest) throws(SwctrError) -> ImageRecord {
        let row = try find(ref)
        let base = try imageRecord(of: row)
        var config = try Self.commitConfig(base: base, options: config(of: row))
        for change in request.changes { try Self.apply(change, to: &config) }
        let v = view(row)
        // Rootless without a delegated cgroup there is no freezer: committed running, as podman
        // does by default.
        let pause = request.pause && v.status == .running && canPause
        if pause {
            do { try runtime.pause(row.id) } catch { throw Self.translate(error) }
        }
        defer { if pause { try? runtime.resume(row.id) } }
        let layer = try ImageComposer.layer(from: directory(row.id) + "/upper", store: store)
        let options = self.config(of: row)
        let command = (options.entrypoint ?? []) + (options.cmd ?? [])
        let description = ImageComposer.Description(config: .object(config), createdBy: command.joined(separator: " "),
                                                    comment: request.message, author: request.author)
        return try ImageComposer.compose(base: base, layer: layer, description, name: request.name, store: store)
    }

    /// The base image's `config` with what the container ran with laid over it.
    static func commitConfig(base: ImageRecord, options: ContainerConfig) throws(SwctrError) -> JSONObject {
        var config = JSONObject()
        if case .object(let top)? = try? JSONParser.parse(Array(base.config.utf8)), case .object(let c)? = top["config"] { config = c }
        func strings(_ a: [String]) -> JSONValue { .array(a.map { .string($0) }) }
        var env: [String] = []
        if case .array(let e)? = config["Env"] { env = e.compactMap { if case .string(let s) = $0 { s } else { nil } } }
        for kv in options.env {
            let key = kv.split(separator: "=", maxSplits: 1).first.map(String.init) ?? kv
            env.removeAll { $0 == key || $0.hasPrefix(key + "=") }
            env.append(kv)
        }
        config.set("Env", strings(env))
        if let cmd = options.cmd { config.set("Cmd", strings(cmd)) }
        if let entrypoint = options.entrypoint { config.set("Entrypoint", strings(entrypoint)) }
        if let dir = options.workingDir { config.set("WorkingDir", .string(dir)) }
        if let user = options.user { config.set("User", .string(user)) }
        if let signal = options.stopSignal { config.set("StopSignal", .string(signal)) }
        if !options.labels.isEmpty {
            var labels = JSONObject()
            if case .object(let l)? = config["Labels"] { labels = l }
            for (k, v) in options.labels.sorted(by: { $0.key < $1.key }) { labels.set(k, .string(v)) }
            config.set("Labels", .object(labels))
        }
        return config
    }

    /// One `--change` instruction (Docker accepts CMD, ENTRYPOINT, ENV, EXPOSE, LABEL,
    /// ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR).
    public static func apply(_ change: String, to config: inout JSONObject) throws(SwctrError) {
        let trimmed = change.trimmed()
        let keyword = String(trimmed.prefix { $0 != " " && $0 != "\t" }).uppercased()
        let rest = String(trimmed.dropFirst(keyword.count)).trimmed()
        func list() -> JSONValue {
            if rest.hasPrefix("["), case .array(let a)? = try? JSONParser.parse(Array(rest.utf8)),
               a.allSatisfy({ if case .string = $0 { true } else { false } }) {
                return .array(a)
            }
            return .array(["/bin/sh", "-c", rest].map { .string($0) })
        }
        func pairs() throws(SwctrError) -> [(String, String)] {
            let words = rest.split(separator: " ").map(String.init)
            if words.count == 2 && !words[0].contains("=") { return [(words[0], words[1])] }
            return try words.map { w throws(SwctrError) in
                guard let eq = w.firstIndex(of: "=") else { throw SwctrError(.invalidArgument, "--change \(Excerpt.of(change)): want KEY=VALUE") }
                return (String(w[..<eq]), String(w[w.index(after: eq)...]).trimmingQuotes())
            }
        }
        func add(_ key: String, _ items: [String]) {
            var o = JSONObject()
            if case .object(let existing)? = config[key] { o = existing }
            for item in items { o.set(item, .object(JSONObject())) }
            config.set(key, .object(o))
        }
        switch keyword {
        case "CMD": config.set("Cmd", list())
        case "ENTRYPOINT": config.set("Entrypoint", list())
        case "WORKDIR": config.set("WorkingDir", .string(rest))
        case "USER": config.set("User", .string(rest))
        case "STOPSIGNAL": config.set("StopSignal", .string(rest))
        case "ENV":
            var env: [JSONValue] = []
            if case .array(let e)? = config["Env"] { env = e }
            for (k, v) in try pairs() {
                env.removeAll { if case .string(let s) = $0 { s.hasPrefix(k + "=") } else { false } }
                env.append(.string("\(k)=\(v)"))
            }
            config.set("Env", .array(env))
        case "LABEL":
            var labels = JSONObject()
            if case .object(let l)? = config["Labels"] { labels = l }
            for (k, v) in try pairs() { labels.set(k.trimmingQuotes(), .string(v)) }
            config.set("Labels", .object(labels))
        case "EXPOSE": add("ExposedPorts", rest.split(separator: " ").map { $0.contains("/") ? String($0) : "\($0)/tcp" })
        case "VOLUME":
            if case .array(let a) = list(), rest.hasPrefix("[") {
                add("Volumes", a.compactMap { if case .string(let s) = $0 { s } else { nil } })
            } else {
                add("Volumes", rest.split(separator: " ").map(String.init))
            }
        case "ONBUILD":
            var triggers: [JSONValue] = []
            if case .array(let t)? = config["OnBuild"] { triggers = t }
            config.set("OnBuild", .array(triggers + [.string(rest)]))
        default:
            throw SwctrError(.invalidArgument, "--change \(Excerpt.of(change)): \(keyword) is not an instruction commit can apply")
        }
    }
}

extension String {
    /// Without one pair of surrounding double quotes.
    func trimmingQuotes() -> String {
        count >= 2 && hasPrefix("\"") && hasSuffix("\"") ? String(dropFirst().dropLast()) : self
    }
}

extension ContainerManager {
    /// The runtime can pause this store's containers: as root, or rootless with a cgroup v1
    /// freezer or cgroup v2 the user may write (a delegated hierarchy).
    var canPause: Bool {
        !store.rootless || access("/sys/fs/cgroup/freezer", W_OK) == 0 || access("/sys/fs/cgroup/cgroup.subtree_control", W_OK) == 0
    }
}
