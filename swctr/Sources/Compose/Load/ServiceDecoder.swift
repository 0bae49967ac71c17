import Glibc
import Database
import JSON

/// One service's mapping → ComposeService, every key checked: an unknown one is an error naming
/// its path (`services.web.portz`); relative paths are made absolute against the project's
/// directory.
struct ServiceDecoder {
    let workingDir: String

    static let keys: Set<String> = [
        "image", "build", "command", "entrypoint", "environment", "env_file", "ports", "expose", "volumes", "tmpfs",
        "networks", "network_mode", "depends_on", "healthcheck", "restart", "deploy", "scale", "container_name", "hostname",
        "user", "working_dir", "labels", "profiles", "stop_signal", "stop_grace_period", "cap_add", "cap_drop", "read_only",
        "privileged", "security_opt", "ulimits", "mem_limit", "cpus", "init", "extra_hosts", "dns", "pull_policy",
        "stdin_open", "tty", "cgroup_parent",
    ]

    func decode(_ name: String, _ node: YAMLTree) throws(SwctrError) -> ComposeService {
        let path = "services.\(name)"
        var s = ComposeService(name: name)
        for (key, value) in try Fields.map(node, path, known: Self.keys) {
            let p = "\(path).\(key)"
            switch key {
            case "image": s.image = try Fields.optionalString(value, p)
            case "build": s.build = try build(value, p)
            case "command": s.command = try Fields.command(value, p)
            case "entrypoint": s.entrypoint = try Fields.command(value, p)
            case "environment": s.environment = try Fields.pairs(value, p)
            case "env_file":
                if case .seq(let items, _) = value {
                    for (i, item) in items.enumerated() {
                        if case .map = item, let f = item["path"] {
                            s.envFiles.append(absolute(try Fields.string(f, "\(p)[\(i)].path")))
                        } else {
                            s.envFiles.append(absolute(try Fields.string(item, "\(p)[\(i)]")))
                        }
                    }
                } else {
                    s.envFiles = try Fields.list(value, p).map(absolute)
                }
            case "ports": s.ports = try ports(value, p)
            case "expose": s.expose = try Fields.list(value, p)
            case "volumes": s.volumes = try volumes(value, p)
            case "tmpfs": s.tmpfs = try Fields.list(value, p)
            case "networks": s.networks = try networks(value, p)
            case "network_mode": s.networkMode = try Fields.optionalString(value, p)
            case "depends_on": s.dependsOn = try dependsOn(value, p)
            case "healthcheck": s.healthcheck = try healthcheck(value, p)
            case "restart": s.restart = try Fields.optionalString(value, p)
            case "deploy": try deploy(value, p, &s)
            case "scale": s.replicas = try Fields.int(value, p)
            case "container_name": s.containerName = try Fields.optionalString(value, p)
            case "hostname": s.hostname = try Fields.optionalString(value, p)
            case "user": s.user = try Fields.optionalString(value, p)
            case "working_dir": s.workingDir = try Fields.optionalString(value, p)
            case "labels": s.labels = try Fields.pairs(value, p).map { ($0.key, $0.value ?? "") }
            case "profiles": s.profiles = try Fields.list(value, p)
            case "stop_signal": s.stopSignal = try Fields.optionalString(value, p)
            case "stop_grace_period": s.stopGracePeriod = Int((try Fields.duration(value, p) + 999_999_999) / 1_000_000_000)
            case "cap_add": s.capAdd = try Fields.list(value, p)
            case "cap_drop": s.capDrop = try Fields.list(value, p)
            case "read_only": s.readOnly = try Fields.bool(value, p)
            case "privileged": s.privileged = try Fields.bool(value, p)
            case "security_opt": s.securityOpt = try Fields.list(value, p)
            case "ulimits": s.ulimits = try ulimits(value, p)
            case "mem_limit": s.memLimit = try Fields.optionalString(value, p)
            case "cpus": s.cpus = try Fields.optionalString(value, p)
            case "init": s.initProcess = try Fields.bool(value, p)
            case "extra_hosts":
                s.extraHosts = try Fields.pairs(value, p, separator: ":").map { pair in pair.value.map { "\(pair.key):\($0)" } ?? pair.key }
            case "dns": s.dns = try Fields.list(value, p)
            case "pull_policy": s.pullPolicy = try Fields.optionalString(value, p)
            case "cgroup_parent": s.cgroupParent = try Fields.optionalString(value, p)
            default: break  // stdin_open, tty: accepted; a detached service has no terminal
            }
        }
        guard s.image != nil || s.build != nil else {
            throw Fields.fail(node, path, "has neither an image nor a build context specified")
        }
        if let r = s.restart, !["no", "always", "unless-stopped", "on-failure"].contains(r.split(separator: ":").first.map(String.init) ?? "") {
            throw Fields.fail(node, "\(path).restart", "invalid restart policy \(Excerpt.of(r)) (no, always, on-failure[:N], unless-stopped)")
        }
        guard s.replicas >= 0 else { throw Fields.fail(node, "\(path).deploy.replicas", "must not be negative") }
        return s
    }

    func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        if path == "~" || path.hasPrefix("~/") { return (getenvString("HOME") ?? "/root") + path.dropFirst() }
        var parts = workingDir.split(separator: "/").map(String.init)
        for comp in path.split(separator: "/") {
            if comp == "." { continue }
            if comp == ".." { _ = parts.popLast() } else { parts.append(String(comp)) }
        }
        return "/" + parts.joined(separator: "/")
    }

    func build(_ node: YAMLTree, _ p: String) throws(SwctrError) -> ComposeBuild {
        if case .scalar(let ctx, _, _) = node { return ComposeBuild(context: absolute(ctx)) }
        var b = ComposeBuild(context: workingDir)
        for (k, v) in try Fields.map(node, p, known: ["context", "dockerfile", "args", "target", "labels", "network", "cache_from", "pull"]) {
            switch k {
            case "context": b.context = absolute(try Fields.string(v, "\(p).context"))
            case "dockerfile": b.dockerfile = try Fields.string(v, "\(p).dockerfile")
            case "args": b.args = try Fields.pairs(v, "\(p).args")
            case "target": b.target = try Fields.string(v, "\(p).target")
            case "labels": b.labels = Dictionary(try Fields.pairs(v, "\(p).labels").map { ($0.key, $0.value ?? "") }) { $1 }
            default: break
            }
        }
        return b
    }

    /// Short (`"127.0.0.1:8080:80/udp"`, `"80"`) and long syntax, as Docker's `-p` spellings.
    func ports(_ node: YAMLTree, _ p: String) throws(SwctrError) -> [String] {
        guard case .seq(let items, _) = node else {
            if case .null = node { return [] }
            throw Fields.fail(node, p, "must be a list")
        }
        var out: [String] = []
        for (i, item) in items.enumerated() {
            let ip = "\(p)[\(i)]"
            if case .map = item {
                var target = "", published = "", hostIP = "", proto = "tcp"
                for (k, v) in try Fields.map(item, ip, known: ["target", "published", "host_ip", "protocol", "mode", "name", "app_protocol"]) {
                    switch k {
                    case "target": target = try Fields.string(v, "\(ip).target")
                    case "published": published = try Fields.string(v, "\(ip).published")
                    case "host_ip": hostIP = try Fields.string(v, "\(ip).host_ip")
                    case "protocol": proto = try Fields.string(v, "\(ip).protocol")
                    default: break
                    }
                }
                guard !target.isEmpty else { throw Fields.fail(item, ip, "a port needs its target") }
                out.append((hostIP.isEmpty ? "" : hostIP + ":") + (published.isEmpty && hostIP.isEmpty ? "" : published + ":") + target + "/" + proto)
            } else {
                out.append(try Fields.string(item, ip))
            }
        }
        return out
    }

    /// Short (`data:/var/lib/db:ro`, `./src:/app`, `/cache`) and long syntax.
    func volumes(_ node: YAMLTree, _ p: String) throws(SwctrError) -> [ServiceVolume] {
        guard case .seq(let items, _) = node else {
            if case .null = node { return [] }
            throw Fields.fail(node, p, "must be a list")
        }
        var out: [ServiceVolume] = []
        for (i, item) in items.enumerated() {
            let ip = "\(p)[\(i)]"
            if case .map = item {
                var type = "volume", source = "", target = ""
                var v = ServiceVolume(type: .volume, source: "", target: "")
                for (k, val) in try Fields.map(item, ip, known: ["type", "source", "target", "read_only", "volume", "bind", "tmpfs", "consistency"]) {
                    switch k {
                    case "type": type = try Fields.string(val, "\(ip).type")
                    case "source": source = try Fields.string(val, "\(ip).source")
                    case "target": target = try Fields.string(val, "\(ip).target")
                    case "read_only": v.readOnly = try Fields.bool(val, "\(ip).read_only")
                    case "volume":
                        if let n = try Fields.map(val, "\(ip).volume", known: ["nocopy", "subpath"]).first(where: { $0.key == "nocopy" }) {
                            v.noCopy = try Fields.bool(n.value, "\(ip).volume.nocopy")
                        }
                    case "bind":
                        for (bk, bv) in try Fields.map(val, "\(ip).bind", known: ["propagation", "create_host_path", "selinux"]) {
                            if bk == "propagation" { v.propagation = try Fields.string(bv, "\(ip).bind.propagation") }
                            if bk == "create_host_path" { v.createHostPath = try Fields.bool(bv, "\(ip).bind.create_host_path") }
                        }
                    case "tmpfs":
                        if let sz = try Fields.map(val, "\(ip).tmpfs", known: ["size", "mode"]).first(where: { $0.key == "size" }) {
                            v.tmpfsSize = try Fields.string(sz.value, "\(ip).tmpfs.size")
                        }
                    default: break
                    }
                }
                guard let kind = ServiceVolume.Kind(rawValue: type) else {
                    throw Fields.fail(item, "\(ip).type", "unsupported volume type \(Excerpt.of(type)) (volume, bind, tmpfs)")
                }
                guard target.hasPrefix("/") else { throw Fields.fail(item, "\(ip).target", "must be an absolute path") }
                v.type = kind
                v.target = target
                v.source = kind == .bind ? absolute(source) : source
                if kind == .bind && source.isEmpty { throw Fields.fail(item, ip, "a bind needs its source") }
                out.append(v)
                continue
            }
            let text = try Fields.string(item, ip)
            let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard (1...3).contains(parts.count), !parts.contains(where: \.isEmpty) else {
                throw Fields.fail(item, ip, "invalid volume specification \(Excerpt.of(text))")
            }
            if parts.count == 1 {
                guard text.hasPrefix("/") else { throw Fields.fail(item, ip, "invalid volume specification \(Excerpt.of(text)): mount path must be absolute") }
                out.append(ServiceVolume(type: .volume, source: "", target: text))
                continue
            }
            guard parts[1].hasPrefix("/") else { throw Fields.fail(item, ip, "\(Excerpt.of(parts[1])): mount path must be absolute") }
            let isPath = parts[0].hasPrefix("/") || parts[0].hasPrefix(".") || parts[0].hasPrefix("~")
            var v = ServiceVolume(type: isPath ? .bind : .volume, source: isPath ? absolute(parts[0]) : parts[0], target: parts[1])
            if parts.count == 3 {
                for opt in parts[2].split(separator: ",") {
                    switch opt {
                    case "ro": v.readOnly = true
                    case "rw": v.readOnly = false
                    case "nocopy": v.noCopy = true
                    case "z", "Z": break
                    case "shared", "rshared", "slave", "rslave", "private", "rprivate": v.propagation = String(opt)
                    default: throw Fields.fail(item, ip, "unknown volume option \(Excerpt.of(String(opt)))")
                    }
                }
            }
            out.append(v)
        }
        return out
    }

    func networks(_ node: YAMLTree, _ p: String) throws(SwctrError) -> [ServiceNetwork] {
        if case .seq = node { return try Fields.list(node, p).map { ServiceNetwork(name: $0) } }
        var out: [ServiceNetwork] = []
        for (name, v) in try Fields.map(node, p) {
            var n = ServiceNetwork(name: name)
            for (k, val) in try Fields.map(v, "\(p).\(name)", known: ["aliases", "ipv4_address", "ipv6_address", "priority", "mac_address"]) {
                if k == "aliases" { n.aliases = try Fields.list(val, "\(p).\(name).aliases") }
                if k == "ipv4_address" { n.ipv4 = try Fields.string(val, "\(p).\(name).ipv4_address") }
            }
            out.append(n)
        }
        return out
    }

    func dependsOn(_ node: YAMLTree, _ p: String) throws(SwctrError) -> [Dependency] {
        if case .seq = node { return try Fields.list(node, p).map { Dependency(service: $0, condition: .started) } }
        var out: [Dependency] = []
        for (name, v) in try Fields.map(node, p) {
            var d = Dependency(service: name, condition: .started)
            for (k, val) in try Fields.map(v, "\(p).\(name)", known: ["condition", "required", "restart"]) {
                switch k {
                case "condition":
                    let c = try Fields.string(val, "\(p).\(name).condition")
                    guard let cond = Dependency.Condition(rawValue: c) else {
                        throw Fields.fail(val, "\(p).\(name).condition", "unknown condition \(Excerpt.of(c)) (service_started, service_healthy, service_completed_successfully)")
                    }
                    d.condition = cond
                case "required": d.required = try Fields.bool(val, "\(p).\(name).required")
                case "restart": d.restart = try Fields.bool(val, "\(p).\(name).restart")
                default: break
                }
            }
            out.append(d)
        }
        return out
    }

    func healthcheck(_ node: YAMLTree, _ p: String) throws(SwctrError) -> ComposeHealthcheck {
        var h = ComposeHealthcheck(test: [])
        for (k, v) in try Fields.map(node, p, known: ["test", "interval", "timeout", "start_period", "start_interval", "retries", "disable"]) {
            switch k {
            case "test":
                if case .scalar(let s, _, _) = v { h.test = ["CMD-SHELL", s] } else { h.test = try Fields.list(v, "\(p).test") }
                if let first = h.test.first, !["CMD", "CMD-SHELL", "NONE"].contains(first) {
                    throw Fields.fail(v, "\(p).test", "a list must start with CMD, CMD-SHELL or NONE")
                }
            case "interval": h.interval = try Fields.duration(v, "\(p).interval")
            case "timeout": h.timeout = try Fields.duration(v, "\(p).timeout")
            case "start_period": h.startPeriod = try Fields.duration(v, "\(p).start_period")
            case "start_interval": h.startInterval = try Fields.duration(v, "\(p).start_interval")
            case "retries": h.retries = try Fields.int(v, "\(p).retries")
            case "disable": h.disable = try Fields.bool(v, "\(p).disable")
            default: break
            }
        }
        return h
    }

    func deploy(_ node: YAMLTree, _ p: String, _ s: inout ComposeService) throws(SwctrError) {
        for (k, v) in try Fields.map(node, p, known: ["replicas", "resources", "restart_policy", "mode", "labels", "placement", "update_config", "rollback_config", "endpoint_mode"]) {
            switch k {
            case "replicas": s.replicas = try Fields.int(v, "\(p).replicas")
            case "resources":
                for (rk, rv) in try Fields.map(v, "\(p).resources", known: ["limits", "reservations"]) where rk == "limits" {
                    for (lk, lv) in try Fields.map(rv, "\(p).resources.limits", known: ["cpus", "memory", "pids", "devices"]) {
                        if lk == "cpus" { s.cpus = try Fields.string(lv, "\(p).resources.limits.cpus") }
                        if lk == "memory" { s.memLimit = try Fields.string(lv, "\(p).resources.limits.memory") }
                    }
                }
            case "restart_policy":
                if let c = try Fields.map(v, "\(p).restart_policy", known: ["condition", "delay", "max_attempts", "window"]).first(where: { $0.key == "condition" }) {
                    let cond = try Fields.string(c.value, "\(p).restart_policy.condition")
                    s.restart = cond == "any" ? "always" : cond == "none" ? "no" : cond
                }
            default: break
            }
        }
    }

    func ulimits(_ node: YAMLTree, _ p: String) throws(SwctrError) -> [String] {
        var out: [String] = []
        for (name, v) in try Fields.map(node, p) {
            if case .map = v {
                var soft = "", hard = ""
                for (k, val) in try Fields.map(v, "\(p).\(name)", known: ["soft", "hard"]) {
                    if k == "soft" { soft = try Fields.string(val, "\(p).\(name).soft") } else { hard = try Fields.string(val, "\(p).\(name).hard") }
                }
                out.append("\(name)=\(soft):\(hard.isEmpty ? soft : hard)")
            } else {
                out.append("\(name)=\(try Fields.string(v, "\(p).\(name)"))")
            }
        }
        return out
    }
}

func getenvString(_ name: String) -> String? {
    guard let v = getenv(name) else { return nil }
    return String(cString: v)
}
