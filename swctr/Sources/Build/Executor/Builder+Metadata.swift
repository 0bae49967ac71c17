import Database
import JSON

/// The instructions that only change the image config (or the build's own state: ARG, SHELL).
/// Each gets a history entry marked empty_layer, and moves the stage's cache key on.
extension Builder {
    func applyMetadata(_ ins: Instruction, _ state: inout StageState) throws(SwctrError) {
        let sw = try words(ins.rawArguments, state)
        var description = ins.keyword
        var history = true
        switch ins.keyword {
        case "ARG":
            history = false
            for (name, value) in try BuildPlan.declarations(ins, file: plan.file, escape: plan.dockerfile.escape,
                                                          environment: state.substitutionEnvironment) {
                let resolved = request.buildArgs[name] ?? value ?? plan.globalArgs[name]
                state.args[name] = .some(resolved)
                // Only the name: a value counts where it is used (RUN's environment, a
                // substitution), so a new value re-runs the first step that uses it, not all after.
                description += " \(name)"
            }
        case "ENV":
            for (k, v) in try sw.pairs(ins.rawArguments, legacy: true) {
                guard !k.isEmpty else { throw SwctrError(.invalidArgument, "ENV names can not be blank") }
                state.setEnv(k, v)
                description += " \(k)=\(v)"
            }
        case "LABEL":
            for (k, v) in try sw.pairs(ins.rawArguments, legacy: true) {
                guard !k.isEmpty else { throw SwctrError(.invalidArgument, "LABEL names can not be blank") }
                state.setLabel(k, v)
                description += " \(k)=\(v)"
            }
        case "MAINTAINER":
            state.image.set("author", .string(ins.rawArguments))
            description += " " + ins.rawArguments
        case "WORKDIR":
            let dir = Self.resolvePath(try sw.expand(ins.rawArguments), from: state.string("WorkingDir") ?? "/")
            state.set("WorkingDir", dir)
            description += " " + dir
        case "USER":
            let user = try sw.expand(ins.rawArguments)
            state.set("User", user)
            description += " " + user
        case "CMD", "ENTRYPOINT":
            let list = command(ins, state)
            state.set(ins.keyword == "CMD" ? "Cmd" : "Entrypoint", list)
            if ins.keyword == "CMD" { state.cmdSet = true }
            // An ENTRYPOINT drops a CMD the base image gave (one of this stage's stays).
            if ins.keyword == "ENTRYPOINT" && !state.cmdSet { state.set("Cmd", nil as [String]?) }
            description += " " + list.joined(separator: "\0")
        case "EXPOSE":
            var ports: [String] = []
            for w in try sw.words(ins.rawArguments) { ports += try Self.exposedPorts(w) }
            state.addKeys("ExposedPorts", ports)
            description += " " + ports.joined(separator: " ")
        case "VOLUME":
            var paths: [String] = []
            if case .exec(let list) = ins.arguments { paths = try list.map { p throws(SwctrError) in try sw.expand(p) } } else { paths = try sw.words(ins.rawArguments) }
            guard !paths.contains(where: \.isEmpty) else { throw SwctrError(.invalidArgument, "VOLUME specified can not be an empty string") }
            state.addKeys("Volumes", paths)
            description += " " + paths.joined(separator: " ")
        case "STOPSIGNAL":
            let signal = try sw.expand(ins.rawArguments)
            state.set("StopSignal", signal)
            description += " " + signal
        case "HEALTHCHECK":
            let check = try healthcheck(ins)
            var c = state.config
            c.set("Healthcheck", check)
            state.config = c
            description += " " + check.serialized()
        case "SHELL":
            guard case .exec(let list) = ins.arguments else { throw SwctrError(.invalidArgument, "SHELL requires the arguments to be in JSON form") }
            state.shell = list
            state.set("Shell", list)
            description += " " + list.joined(separator: "\0")
        case "ONBUILD":
            var triggers: [JSONValue] = []
            if case .array(let t)? = state.config["OnBuild"] { triggers = t }
            triggers.append(.string(ins.rawArguments))
            var c = state.config
            c.set("OnBuild", .array(triggers))
            state.config = c
            description += " " + ins.rawArguments
        default:
            throw SwctrError(.invalidArgument, "unknown instruction: \(ins.keyword)")
        }
        state.key = Self.chain(state.key, description)
        if history { state.addHistory(ins.text, emptyLayer: true, created: state.created) }
    }

    /// CMD, ENTRYPOINT: exec form as written, shell form through the stage's SHELL.
    func command(_ ins: Instruction, _ state: StageState) -> [String] {
        switch ins.arguments {
        case .exec(let list): list
        case .shell(let text): text.isEmpty ? [] : state.shell + [text]
        }
    }

    /// A path of WORKDIR, COPY or ADD: absolute, or relative to the working directory; cleaned.
    static func resolvePath(_ path: String, from workdir: String) -> String {
        let joined = path.hasPrefix("/") ? path : (workdir.hasSuffix("/") ? workdir : workdir + "/") + path
        var parts: [Substring] = []
        for p in joined.split(separator: "/") {
            if p == "." { continue }
            if p == ".." { _ = parts.popLast(); continue }
            parts.append(p)
        }
        return "/" + parts.joined(separator: "/")
    }

    /// `80`, `80/udp`, `8000-8002/tcp` → "80/tcp" keys.
    static func exposedPorts(_ word: String) throws(SwctrError) -> [String] {
        let parts = word.split(separator: "/", maxSplits: 1).map(String.init)
        let proto = parts.count > 1 ? parts[1].lowercased() : "tcp"
        guard ["tcp", "udp", "sctp"].contains(proto), let range = parts.first else {
            throw SwctrError(.invalidArgument, "invalid port in EXPOSE: \(Excerpt.of(word))")
        }
        let bounds = range.split(separator: "-", maxSplits: 1).map { Int($0) }
        guard let low = bounds.first ?? nil, (1...65535).contains(low) else { throw SwctrError(.invalidArgument, "invalid port in EXPOSE: \(Excerpt.of(word))") }
        var high = low
        if bounds.count == 2 {
            guard let h = bounds[1], h >= low, h <= 65535 else { throw SwctrError(.invalidArgument, "invalid port range in EXPOSE: \(Excerpt.of(word))") }
            high = h
        }
        return (low...high).map { "\($0)/\(proto)" }
    }

    /// HEALTHCHECK NONE | [--interval --timeout --start-period --start-interval --retries] CMD …
    /// as the image config's Healthcheck (durations in nanoseconds).
    func healthcheck(_ ins: Instruction) throws(SwctrError) -> JSONValue {
        let text = ins.rawArguments.trimmingSpaces
        var o = JSONObject()
        if text.uppercased() == "NONE" {
            o.set("Test", .array([.string("NONE")]))
            return .object(o)
        }
        let rest = String(text.dropFirst(3)).trimmingSpaces
        if rest.hasPrefix("["), let list = DockerfileParser.jsonStrings(rest) {
            o.set("Test", .array((["CMD"] + list).map { .string($0) }))
        } else {
            o.set("Test", .array([.string("CMD-SHELL"), .string(rest)]))
        }
        for (flag, key) in [("interval", "Interval"), ("timeout", "Timeout"), ("start-period", "StartPeriod"), ("start-interval", "StartInterval")] {
            guard let value = ins.flag(flag) else { continue }
            guard let ns = Self.goDuration(value) else { throw SwctrError(.invalidArgument, "HEALTHCHECK --\(flag): invalid duration \(Excerpt.of(value))") }
            o.set(key, .number(String(ns)))
        }
        if let r = ins.flag("retries") {
            guard let n = Int(r), n >= 0 else { throw SwctrError(.invalidArgument, "HEALTHCHECK --retries: invalid number \(Excerpt.of(r))") }
            o.set("Retries", .number(String(n)))
        }
        return .object(o)
    }

    /// Go's duration syntax ("30s", "1m30s", "500ms", "1.5h") in nanoseconds.
    static func goDuration(_ text: String) -> Int64? {
        let units: [(String, Double)] = [("ns", 1), ("us", 1e3), ("µs", 1e3), ("ms", 1e6), ("s", 1e9), ("m", 60e9), ("h", 3600e9)]
        var rest = Substring(text)
        var total = 0.0
        guard !rest.isEmpty else { return nil }
        if rest == "0" { return 0 }
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard !number.isEmpty, let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            guard let unit = units.sorted(by: { $0.0.count > $1.0.count }).first(where: { rest.hasPrefix($0.0) }) else { return nil }
            rest = rest.dropFirst(unit.0.count)
            total += value * unit.1
        }
        return Int64(total)
    }
}
