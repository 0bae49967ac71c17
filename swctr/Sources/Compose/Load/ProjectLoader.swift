import Database
import Glibc
import HostOS
import JSON

/// What the compose command line says about the project: `-f`, `-p`, `--project-directory`,
/// `--profile`, `--env-file`, and the environment swctr runs in.
public struct ProjectOptions: Sendable {
    public var files: [String] = []
    public var projectName: String?
    public var projectDirectory: String?
    public var profiles: [String] = []
    public var envFile: String?
    public var environment: [String: String]
    /// Services named on the command line: their profiles count as enabled.
    public var requestedServices: [String] = []
    /// Where relative -f paths and the search for a compose file start.
    public var currentDirectory: String

    public init(environment: [String: String], currentDirectory: String) {
        self.environment = environment
        self.currentDirectory = currentDirectory
    }
}

/// Files found as Docker Compose finds them, merged in order, variables interpolated (from the
/// environment over `.env`), profiles applied, and the result checked: services, their
/// dependencies, networks and volumes.
public enum ProjectLoader {
    public static let defaultNames = ["compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml"]
    static let topKeys: Set<String> = ["version", "name", "services", "networks", "volumes", "secrets", "configs"]

    public static func load(_ o: ProjectOptions) throws(SwctrError) -> ComposeProject {
        let files = try findFiles(o)
        let workingDir = o.projectDirectory.map { absolute($0, from: o.currentDirectory) } ?? parent(files[0])
        var env: [String: String] = [:]
        let envPath = o.envFile.map { absolute($0, from: o.currentDirectory) } ?? workingDir + "/.env"
        if FileIO.exists(envPath) {
            let text: String
            do { text = try FileIO.readString(envPath) } catch { throw SwctrError(.invalidArgument, "\(envPath): \(error.message)") }
            for (k, v) in try DotEnv.parse(text, file: envPath) { if let v { env[k] = v } }
        } else if o.envFile != nil {
            throw SwctrError(.notFound, "--env-file \(envPath): no such file")
        }
        for (k, v) in o.environment { env[k] = v }
        var tree: YAMLTree?
        for f in files {
            let text: String
            do { text = try FileIO.readString(f) } catch { throw SwctrError(.notFound, "\(f): \(error.message)") }
            let t = try YAMLTree.parse(text, file: f)
            tree = tree.map { $0.merged(with: t) } ?? t
        }
        var interpolation = Interpolation(environment: env)
        let root = try interpolation.apply(tree ?? .map([], .none), path: "")
        let top = Dictionary(try Fields.map(root, "", known: topKeys).map { ($0.key, $0.value) }) { $1 }
        for unsupported in ["secrets", "configs"] where top[unsupported] != nil {
            throw Fields.fail(top[unsupported] ?? root, unsupported, "not supported by swctr compose")
        }
        let named = try Fields.optionalString(top["name"], "name")
        var name = o.projectName ?? o.environment["COMPOSE_PROJECT_NAME"] ?? named ?? String(workingDir.split(separator: "/").last ?? "default")
        name = normalize(name)
        guard !name.isEmpty else { throw SwctrError(.invalidArgument, "project name \"\(name)\" must contain a letter or digit (use -p)") }

        let decoder = ServiceDecoder(workingDir: workingDir)
        var all: [ComposeService] = []
        for (key, node) in try Fields.map(top["services"] ?? .map([], .none), "services") {
            all.append(try decoder.decode(key, node))
        }
        var profiles = Set(o.profiles)
        if let p = o.environment["COMPOSE_PROFILES"] { profiles.formUnion(p.split(separator: ",").map(String.init)) }
        let requested = Set(o.requestedServices)
        let active = all.filter { $0.profiles.isEmpty || !profiles.isDisjoint(with: $0.profiles) || requested.contains($0.name) || profiles.contains("*") }
        for r in requested where !all.contains(where: { $0.name == r }) {
            throw SwctrError(.notFound, "no such service: \(r)")
        }
        var project = ComposeProject(name: name, workingDir: workingDir, files: files, services: active,
                                     inactive: all.filter { s in !active.contains { $0.name == s.name } }.map(\.name),
                                     networks: [], volumes: [])
        project.networks = try networks(top["networks"], project: name, services: active)
        project.volumes = try volumes(top["volumes"], project: name)
        project.unsetVariables = interpolation.unset
        try validate(project, all: all)
        return project
    }

    /// `-f` files (relative to the current directory), or the first default name found in the
    /// current directory or one above it; a `compose.override.yaml` beside a default one too.
    static func findFiles(_ o: ProjectOptions) throws(SwctrError) -> [String] {
        if !o.files.isEmpty {
            return try o.files.map { f throws(SwctrError) in
                let p = absolute(f, from: o.currentDirectory)
                guard FileIO.exists(p) else { throw SwctrError(.notFound, "open \(p): no such file or directory") }
                return p
            }
        }
        var dir = o.projectDirectory.map { absolute($0, from: o.currentDirectory) } ?? o.currentDirectory
        while true {
            if let found = defaultNames.first(where: { FileIO.exists(dir + "/" + $0) }) {
                var files = [dir + "/" + found]
                let stem = found.hasPrefix("compose") ? "compose" : "docker-compose"
                for ext in ["yaml", "yml"] where FileIO.exists("\(dir)/\(stem).override.\(ext)") {
                    files.append("\(dir)/\(stem).override.\(ext)")
                    break
                }
                return files
            }
            guard dir != "/" else { break }
            dir = parent(dir)
        }
        throw SwctrError(.notFound, "no configuration file provided: not found (looked for \(defaultNames.joined(separator: ", ")) here and above)")
    }

    /// Docker Compose's rule: lowercase letters, digits, `-` and `_`, starting with a letter or digit.
    public static func normalize(_ name: String) -> String {
        let kept = name.lowercased().filter { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "-" || $0 == "_" }
        return String(kept.drop { !($0.isLetter || $0.isNumber) })
    }

    static func absolute(_ path: String, from dir: String) -> String {
        ServiceDecoder(workingDir: dir).absolute(path)
    }

    static func parent(_ path: String) -> String {
        let parts = path.split(separator: "/").dropLast()
        return "/" + parts.joined(separator: "/")
    }

    static func networks(_ node: YAMLTree?, project: String, services: [ComposeService]) throws(SwctrError) -> [ComposeNetwork] {
        var out: [ComposeNetwork] = []
        for (key, v) in try Fields.map(node ?? .map([], .none), "networks") {
            let p = "networks.\(key)"
            var n = ComposeNetwork(key: key, name: "\(project)_\(key)")
            var givenName: String?
            for (k, val) in try Fields.map(v, p, known: ["name", "external", "driver", "driver_opts", "labels", "internal", "ipam", "attachable", "enable_ipv6"]) {
                switch k {
                case "name": givenName = try Fields.string(val, "\(p).name")
                case "external": (n.external, givenName) = try external(val, "\(p).external", givenName)
                case "driver": n.driver = try Fields.string(val, "\(p).driver")
                case "driver_opts": n.driverOpts = Dictionary(try Fields.pairs(val, "\(p).driver_opts").map { ($0.key, $0.value ?? "") }) { $1 }
                case "labels": n.labels = Dictionary(try Fields.pairs(val, "\(p).labels").map { ($0.key, $0.value ?? "") }) { $1 }
                case "internal": n.isInternal = try Fields.bool(val, "\(p).internal")
                case "ipam":
                    for (ik, iv) in try Fields.map(val, "\(p).ipam", known: ["driver", "config", "options"]) where ik == "config" {
                        guard case .seq(let configs, _) = iv, let first = configs.first else { continue }
                        for (ck, cv) in try Fields.map(first, "\(p).ipam.config[0]", known: ["subnet", "gateway", "ip_range", "aux_addresses"]) {
                            if ck == "subnet" { n.subnet = try Fields.string(cv, "\(p).ipam.config[0].subnet") }
                            if ck == "gateway" { n.gateway = try Fields.string(cv, "\(p).ipam.config[0].gateway") }
                            if ck == "ip_range" { n.ipRange = try Fields.string(cv, "\(p).ipam.config[0].ip_range") }
                        }
                    }
                default: break
                }
            }
            n.name = givenName ?? (n.external ? key : "\(project)_\(key)")
            out.append(n)
        }
        let usesDefault = services.contains { s in
            (s.networkMode == nil && s.networks.isEmpty) || s.networks.contains { $0.name == "default" }
        }
        if usesDefault && !out.contains(where: { $0.key == "default" }) {
            out.append(ComposeNetwork(key: "default", name: "\(project)_default"))
        }
        return out
    }

    static func volumes(_ node: YAMLTree?, project: String) throws(SwctrError) -> [ComposeVolume] {
        var out: [ComposeVolume] = []
        for (key, v) in try Fields.map(node ?? .map([], .none), "volumes") {
            let p = "volumes.\(key)"
            var vol = ComposeVolume(key: key, name: "\(project)_\(key)")
            var givenName: String?
            for (k, val) in try Fields.map(v, p, known: ["name", "external", "driver", "driver_opts", "labels"]) {
                switch k {
                case "name": givenName = try Fields.string(val, "\(p).name")
                case "external": (vol.external, givenName) = try external(val, "\(p).external", givenName)
                case "driver":
                    let d = try Fields.string(val, "\(p).driver")
                    guard d == "local" else { throw Fields.fail(val, "\(p).driver", "swctr has the local volume driver only, not \(Excerpt.of(d))") }
                case "driver_opts": vol.driverOpts = Dictionary(try Fields.pairs(val, "\(p).driver_opts").map { ($0.key, $0.value ?? "") }) { $1 }
                case "labels": vol.labels = Dictionary(try Fields.pairs(val, "\(p).labels").map { ($0.key, $0.value ?? "") }) { $1 }
                default: break
                }
            }
            vol.name = givenName ?? (vol.external ? key : "\(project)_\(key)")
            out.append(vol)
        }
        return out
    }

    /// `external: true`, or the older `external: {name: N}`: whether it is, and the name it has.
    static func external(_ node: YAMLTree, _ path: String, _ name: String?) throws(SwctrError) -> (Bool, String?) {
        guard case .map = node else { return (try Fields.bool(node, path), name) }
        return (true, try node["name"].map { n throws(SwctrError) in try Fields.string(n, "\(path).name") } ?? name)
    }

    /// Dependencies name defined services and have no cycle; networks and named volumes a
    /// service uses are declared.
    static func validate(_ p: ComposeProject, all: [ComposeService]) throws(SwctrError) {
        for s in p.services {
            for d in s.dependsOn where d.required && p.service(d.service) == nil {
                if all.contains(where: { $0.name == d.service }) {
                    throw SwctrError(.invalidArgument, "service \"\(s.name)\" depends on service \"\(d.service)\", whose profile is not enabled")
                }
                throw SwctrError(.invalidArgument, "service \"\(s.name)\" depends on undefined service \"\(d.service)\"")
            }
            for n in s.networks where !p.networks.contains(where: { $0.key == n.name }) {
                throw SwctrError(.invalidArgument, "service \"\(s.name)\" refers to undefined network \(n.name)")
            }
            for v in s.volumes where v.type == .volume && !v.source.isEmpty && !p.volumes.contains(where: { $0.key == v.source }) {
                throw SwctrError(.invalidArgument, "service \"\(s.name)\" refers to undefined volume \(v.source)")
            }
            if let mode = s.networkMode, mode.hasPrefix("service:"), p.service(String(mode.dropFirst(8))) == nil {
                throw SwctrError(.invalidArgument, "service \"\(s.name)\": network_mode \(mode) names no service")
            }
        }
        _ = try DependencyOrder.levels(p.services)
    }
}
