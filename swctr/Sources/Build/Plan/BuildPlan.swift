import JSON
import Database
import Registry

/// A Dockerfile made ready to run: the global ARGs resolved (they are what FROM lines see), the
/// target stage, and the stages it needs in the order they run — a stage the target does not
/// reach through FROM, COPY --from or RUN --mount from= is skipped, as BuildKit skips it.
public struct BuildPlan: Sendable {
    public var dockerfile: Dockerfile
    /// Global ARG values (and the predefined platform ARGs), as FROM lines and a stage's `ARG
    /// NAME` without a value see them.
    public var globalArgs: [String: String]
    /// Build args the Dockerfile declares somewhere (the rest are reported as not consumed).
    public var declaredArgs: Set<String>
    public var target: Int
    /// Indices of the stages to run, dependencies first.
    public var order: [Int]
    public var platform: Platform
    /// The Dockerfile's name in errors ("Dockerfile:7: …").
    public var file: String

    /// ARGs every build has without declaring them: the proxy settings (from --build-arg only,
    /// kept out of the cache key and the history, as Docker keeps them) …
    public static let proxyArgs: Set<String> = ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY",
                                                "ftp_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"]

    /// … and the platform ones, in global scope (a stage declares them with `ARG TARGETARCH`).
    public static func platformArgs(_ p: Platform) -> [String: String] {
        var out: [String: String] = [:]
        for prefix in ["TARGET", "BUILD"] {
            out[prefix + "PLATFORM"] = p.description
            out[prefix + "OS"] = p.os
            out[prefix + "ARCH"] = p.architecture
            out[prefix + "VARIANT"] = p.variant ?? ""
        }
        return out
    }

    public init(_ dockerfile: Dockerfile, file: String = "Dockerfile", buildArgs: [String: String], target: String?,
                platform: Platform) throws(SwctrError) {
        self.dockerfile = dockerfile
        self.file = file
        self.platform = platform
        var globals = Self.platformArgs(platform)
        var declared = Set<String>()
        for ins in dockerfile.globalArgs {
            for (name, value) in try Self.declarations(ins, file: file, escape: dockerfile.escape, environment: globals) {
                declared.insert(name)
                if let given = buildArgs[name] { globals[name] = given } else if let value { globals[name] = value } else { globals.removeValue(forKey: name) }
            }
        }
        globalArgs = globals
        for stage in dockerfile.stages {
            for ins in stage.instructions where ins.keyword == "ARG" {
                for (name, _) in try Self.declarations(ins, file: file, escape: dockerfile.escape, environment: [:], expand: false) {
                    declared.insert(name)
                }
            }
        }
        declaredArgs = declared
        if let target {
            guard let i = dockerfile.stages.firstIndex(where: { $0.name == target.lowercased() }) else {
                throw SwctrError(.invalidArgument, "target stage \"\(target)\" could not be found")
            }
            self.target = i
        } else {
            self.target = dockerfile.stages.count - 1
        }
        order = []
        var visiting = Set<Int>()
        try visit(self.target, &visiting)
    }

    /// Depth first: a stage's dependencies run before it.
    mutating func visit(_ index: Int, _ visiting: inout Set<Int>) throws(SwctrError) {
        if order.contains(index) { return }
        guard visiting.insert(index).inserted else {
            throw failure(dockerfile.stages[index].from.line, "circular dependency between build stages")
        }
        for d in try dependencies(of: index) where d != index { try visit(d, &visiting) }
        order.append(index)
    }

    /// Stages that stage `index` takes files or its base from.
    public func dependencies(of index: Int) throws(SwctrError) -> [Int] {
        let stage = dockerfile.stages[index]
        var refs = [try baseName(of: index)]
        for ins in stage.instructions {
            if ins.keyword == "COPY", let from = ins.flag("from") { refs.append(try expandGlobal(from)) }
            if ins.keyword == "RUN" {
                for m in ins.flagValues("mount") { if let from = RunMount.field("from", in: m) { refs.append(try expandGlobal(from)) } }
            }
        }
        return refs.compactMap { stageIndex($0, before: index) }
    }

    /// A stage named (case-insensitively) or numbered `ref` that comes before `index`.
    public func stageIndex(_ ref: String, before index: Int) -> Int? {
        let lower = ref.lowercased()
        if let i = dockerfile.stages[..<index].firstIndex(where: { $0.name == lower }) { return i }
        if let n = Int(ref), n >= 0, n < index { return n }
        return nil
    }

    /// The FROM value with the global ARGs substituted.
    public func baseName(of index: Int) throws(SwctrError) -> String {
        let stage = dockerfile.stages[index]
        let name = try expandGlobal(stage.baseImage, line: stage.from.line)
        guard !name.isEmpty else {
            throw failure(stage.from.line, "base name (\(stage.baseImage)) should not be blank")
        }
        return name
    }

    func expandGlobal(_ text: String, line: Int? = nil) throws(SwctrError) -> String {
        do { return try ShellWords(environment: globalArgs, escape: dockerfile.escape).expand(text) } catch {
            throw line.map { failure($0, error.message) } ?? error
        }
    }

    /// An error that names the Dockerfile and the line: "Dockerfile:7: …".
    public func failure(_ line: Int, _ message: String, code: SwctrError.Code = .invalidArgument) -> SwctrError {
        SwctrError(code, "\(file):\(line): \(message)")
    }

    /// The names and values (nil: none given) an ARG instruction declares, values substituted
    /// with `environment` (`ARG a=1 b=$a`: b sees a).
    public static func declarations(_ ins: Instruction, file: String, escape: Character, environment: [String: String],
                                    expand: Bool = true) throws(SwctrError) -> [(String, String?)] {
        var env = environment
        var out: [(String, String?)] = []
        for word in ShellWords.rawWords(ins.rawArguments, escape: escape) {
            if let eq = word.firstIndex(of: "=") {
                let name = String(word[..<eq])
                let raw = String(word[word.index(after: eq)...])
                let value = expand ? try ShellWords(environment: env, escape: escape).expand(raw) : raw
                env[name] = value
                out.append((name, value))
            } else {
                out.append((word, nil))
            }
        }
        for (name, _) in out where name.isEmpty || !name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) {
            throw SwctrError(.invalidArgument, "\(file):\(ins.line): ARG names can only contain letters, digits and _: \(Excerpt.of(name))")
        }
        return out
    }
}
