import Database
import FoundationEssentials
import Glibc
import HostOS
import JSON
import Monitor

/// `inspect`'s document in Docker's shape (the fields scripts read: Id, Created, Path, Args,
/// State, Image, Name, RestartCount, HostConfig, Config, Mounts, NetworkSettings), and the row
/// `ps --format` templates see (.ID, .Names, .Image, .Command, .Status, …).
public enum InspectDocument {
    public static func container(_ v: ContainerView, manager: ContainerManager) -> JSONValue {
        let o = v.options
        let dir = manager.directory(v.row.id)
        let spec = (try? FileIO.read(dir + "/config.json")).flatMap { try? JSONParser.parse($0) }
        var args: [String] = []
        if case .object(let s)? = spec, case .object(let p)? = s["process"], case .array(let a)? = p["args"] {
            args = a.compactMap { if case .string(let x) = $0 { return x } else { return nil } }
        }
        let health: JSONValue = v.state.health.map { h in
            obj([("Status", .string(h.status.rawValue)), ("FailingStreak", num(h.failingStreak)),
                 ("Log", .array(h.log.map { r in
                    obj([("Start", .string(r.start)), ("End", .string(r.end)), ("ExitCode", num(Int(r.exitCode))),
                         ("Output", .string(r.output))]) }))])
        } ?? .null
        var stateFields: [(String, JSONValue)] = [
            ("Status", .string(v.stateName)), ("Running", .bool(v.status == .running || v.status == .paused)),
            ("Paused", .bool(v.status == .paused)), ("Restarting", .bool(v.status == .restarting)),
            ("OOMKilled", .bool(v.state.oomKilled)), ("Dead", .bool(v.status == .dead)),
            ("Pid", num(v.isRunning ? Int(v.state.pid) : 0)), ("ExitCode", num(Int(v.state.exitCode))),
            ("Error", .string(v.state.error)), ("StartedAt", .string(v.state.startedAt)),
            ("FinishedAt", .string(v.state.finishedAt)),
        ]
        if health != .null { stateFields.append(("Health", health)) }
        let hc: JSONValue = o.healthcheck.map { h in
            obj([("Test", strings(h.test))] + [("Interval", h.interval), ("Timeout", h.timeout), ("StartPeriod", h.startPeriod),
                                             ("StartInterval", h.startInterval)]
                .compactMap { k, x in x.map { (k, num(Int($0))) } } + (h.retries.map { [("Retries", num($0))] } ?? []))
        } ?? .null
        var config: [(String, JSONValue)] = [
            ("Hostname", .string(o.hostname ?? String(v.row.id.prefix(12)))), ("Domainname", .string("")),
            ("User", .string(o.user ?? "")), ("AttachStdin", .bool(o.openStdin)), ("AttachStdout", .bool(o.attachStdout)),
            ("AttachStderr", .bool(o.attachStderr)), ("Tty", .bool(o.tty)), ("OpenStdin", .bool(o.openStdin)),
            ("StdinOnce", .bool(false)), ("Env", strings(envOf(spec))), ("Cmd", o.cmd.map(strings) ?? .null),
            ("Image", .string(v.row.image)), ("Volumes", .null), ("WorkingDir", .string(o.workingDir ?? "")),
            ("Entrypoint", o.entrypoint.map(strings) ?? .null), ("OnBuild", .null),
            ("Labels", .object(labels(o.labels))),
        ]
        if hc != .null { config.insert(("Healthcheck", hc), at: 11) }
        if let s = o.stopSignal { config.append(("StopSignal", .string(s))) }
        if let t = o.stopTimeout { config.append(("StopTimeout", num(t))) }
        var logConfig = JSONObject()
        if o.log.maxSize > 0 { logConfig.set("max-size", .string(String(o.log.maxSize))) }
        if o.log.maxFiles > 1 { logConfig.set("max-file", .string(String(o.log.maxFiles))) }
        let hostConfig = obj([
            ("Binds", .null), ("ContainerIDFile", .string("")),
            ("LogConfig", obj([("Type", .string("json-file")), ("Config", .object(logConfig))])),
            ("NetworkMode", .string(o.network)), ("PortBindings", .object(JSONObject())),
            ("RestartPolicy", obj([("Name", .string(o.restart.name.rawValue)), ("MaximumRetryCount", num(o.restart.maxRetries))])),
            ("AutoRemove", .bool(o.autoRemove)), ("CapAdd", o.capAdd.isEmpty ? .null : strings(o.capAdd)),
            ("CapDrop", o.capDrop.isEmpty ? .null : strings(o.capDrop)), ("Privileged", .bool(o.privileged)),
            ("ReadonlyRootfs", .bool(o.readOnly)), ("SecurityOpt", o.securityOpt.isEmpty ? .null : strings(o.securityOpt)),
            ("Memory", num(Int(o.memory ?? 0))), ("MemorySwap", num(Int(o.memorySwap ?? (o.memory.map { $0 * 2 } ?? 0)))),
            ("NanoCpus", num(Int(o.nanoCPUs ?? 0))), ("CpuShares", num(Int(o.cpuShares ?? 0))),
            ("PidsLimit", o.pidsLimit.map { num(Int($0)) } ?? .null),
            ("Ulimits", .array(o.ulimits.map { u in obj([("Name", .string(u.name)), ("Hard", num(Int(clamping: u.hard))), ("Soft", num(Int(clamping: u.soft)))]) })),
            ("Init", .bool(o.initProcess)), ("CgroupParent", .string(o.cgroupParent)),
        ])
        return obj([
            ("Id", .string(v.row.id)), ("Created", .string(rfc3339(v.row.created))),
            ("Path", .string(args.first ?? "")), ("Args", strings(Array(args.dropFirst()))),
            ("State", obj(stateFields)), ("Image", .string(v.row.imageID)),
            ("LogPath", .string(manager.logPath(v.row.id))), ("Name", .string("/" + v.row.name)),
            ("RestartCount", num(v.state.restartCount)), ("Driver", .string("overlay")), ("Platform", .string("linux")),
            ("HostConfig", hostConfig),
            ("GraphDriver", obj([("Name", .string("overlay")), ("Data", obj([
                ("UpperDir", .string(dir + "/upper")), ("WorkDir", .string(dir + "/work")), ("MergedDir", .string(dir + "/rootfs")),
            ]))])),
            ("Mounts", .array((o.mounts ?? []).map { m in
                obj([("Type", .string(m.type.rawValue)), ("Name", .string(m.type == .volume ? m.source : "")),
                     ("Source", .string(m.type == .volume ? manager.volumeData(m.source) : m.source)),
                     ("Destination", .string(m.target)), ("Driver", .string(m.type == .volume ? "local" : "")),
                     ("Mode", .string(m.readOnly ? "ro" : "")), ("RW", .bool(!m.readOnly)),
                     ("Propagation", .string(m.propagation ?? (m.type == .bind ? "rprivate" : "")))])
            })), ("Config", obj(config)),
            ("NetworkSettings", networkSettings(v, manager: manager)),
        ])
    }

    /// What a `ps --format` template sees for one container.
    /// `size`: the container's own bytes and its image's, when `ps -s` measured them.
    public static func psRow(_ v: ContainerView, now: Double, truncate: Bool, size: ContainerSize? = nil) -> JSONValue {
        let command = (v.options.entrypoint ?? []) + (v.options.cmd ?? [])
        var cmd = "\"" + command.joined(separator: " ") + "\""
        if truncate && cmd.count > 22 { cmd = String(cmd.prefix(19)) + "…\"" }
        return obj([
            ("ID", .string(truncate ? String(v.row.id.prefix(12)) : v.row.id)), ("Names", .string(v.row.name)),
            ("Image", .string(v.row.image)), ("Command", .string(cmd)),
            ("CreatedAt", .string(rfc3339(v.row.created))),
            ("RunningFor", .string(ContainerView.humanDuration(now - v.row.created) + " ago")),
            ("Ports", .string(ContainerManager.portsColumn(v.options))), ("Status", .string(v.statusText(now: now))), ("State", .string(v.stateName)),
            ("Size", .string(size.map { "\(StatsLine.decimalSize($0.own)) (virtual \(StatsLine.decimalSize($0.own + $0.image)))" } ?? "")), ("Labels", .string(v.options.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","))),
            ("Mounts", .string((v.options.mounts ?? []).map { $0.type == .volume ? $0.source : $0.target }.joined(separator: ","))),
            ("Networks", .string(NetworkMode.isNamed(v.options.network) ? v.options.attachedNetworks.map(\.network).joined(separator: ",") : v.options.network)),
        ])
    }

    /// Docker's NetworkSettings: each network's endpoint with the address its CNI result gave,
    /// and the published ports. The top-level address is the first network's.
    static func networkSettings(_ v: ContainerView, manager: ContainerManager) -> JSONValue {
        let addresses = v.isRunning ? manager.networkAddresses(v.row.id) : []
        var ports = JSONObject()
        for p in v.options.ports ?? [] {
            let key = "\(p.containerPort)/\(p.proto)"
            var bindings: [JSONValue] = []
            if case .array(let existing)? = ports[key] { bindings = existing }
            bindings.append(obj([("HostIp", .string(p.hostIP.isEmpty ? "0.0.0.0" : p.hostIP)), ("HostPort", .string(String(p.hostPort)))]))
            ports.set(key, .array(bindings))
        }
        var networks = JSONObject()
        for e in v.options.attachedNetworks {
            let a = addresses.first { $0.network == e.network }
            let id = (try? manager.network(e.network).id) ?? ""
            networks.set(e.network, obj([
                ("IPAMConfig", e.ip.map { obj([("IPv4Address", .string($0))]) } ?? .null), ("Aliases", strings(e.aliases ?? [])),
                ("NetworkID", .string(id)), ("IPAddress", .string(a?.ip ?? "")), ("IPPrefixLen", num(Int(a?.prefix ?? "") ?? 0)),
                ("Gateway", .string(a?.gateway ?? "")), ("MacAddress", .string(a?.mac ?? "")),
            ]))
        }
        let first = addresses.first
        return obj([("Ports", .object(ports)), ("SandboxKey", .string(v.options.ownsNetworkNamespace && v.isRunning ? manager.netnsPath(v.row.id) : "")),
                    ("IPAddress", .string(first?.ip ?? "")), ("IPPrefixLen", num(Int(first?.prefix ?? "") ?? 0)),
                    ("Gateway", .string(first?.gateway ?? "")), ("MacAddress", .string(first?.mac ?? "")), ("Networks", .object(networks))])
    }

    static func envOf(_ spec: JSONValue?) -> [String] {
        guard case .object(let s)? = spec, case .object(let p)? = s["process"], case .array(let a)? = p["env"] else { return [] }
        return a.compactMap { if case .string(let x) = $0 { return x } else { return nil } }
    }

    public static func obj(_ pairs: [(String, JSONValue)]) -> JSONValue {
        var o = JSONObject()
        for (k, v) in pairs { o.set(k, v) }
        return .object(o)
    }

    static func num(_ n: Int) -> JSONValue { .number(String(n)) }
    static func strings(_ s: [String]) -> JSONValue { .array(s.map { .string($0) }) }

    static func labels(_ l: [String: String]) -> JSONObject {
        var o = JSONObject()
        for (k, v) in l.sorted(by: { $0.key < $1.key }) { o.set(k, .string(v)) }
        return o
    }

    /// Seconds since the epoch as RFC 3339 with nanoseconds (Docker's Created).
    public static func rfc3339(_ seconds: Double) -> String {
        var t = time_t(seconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        var buf = [CChar](repeating: 0, count: 64)
        strftime(&buf, buf.count, "%Y-%m-%dT%H:%M:%S", &parts)
        let base = buf.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        var nanos = String(Int((seconds - Double(Int(seconds))) * 1e9))
        while nanos.count < 9 { nanos = "0" + nanos }
        return "\(base).\(nanos)Z"
    }
}
