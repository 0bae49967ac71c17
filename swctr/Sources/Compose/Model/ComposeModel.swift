/// The normalised model `compose config` prints: what swctr understood of the files, in the
/// Compose Specification's shape (plain dictionaries and lists, for a YAML emitter).
public enum ComposeModel {
    public static func document(_ p: ComposeProject) -> [String: Any] {
        var services: [String: Any] = [:]
        for s in p.services { services[s.name] = service(s) }
        var networks: [String: Any] = [:]
        for n in p.networks {
            var o: [String: Any] = ["name": n.name]
            if n.external { o["external"] = true }
            if let d = n.driver { o["driver"] = d }
            if n.isInternal { o["internal"] = true }
            if !n.labels.isEmpty { o["labels"] = n.labels }
            if let subnet = n.subnet { o["ipam"] = ["config": [["subnet": subnet] as [String: Any]]] }
            networks[n.key] = o
        }
        var volumes: [String: Any] = [:]
        for v in p.volumes {
            var o: [String: Any] = ["name": v.name]
            if v.external { o["external"] = true }
            if !v.driverOpts.isEmpty { o["driver_opts"] = v.driverOpts }
            if !v.labels.isEmpty { o["labels"] = v.labels }
            volumes[v.key] = o
        }
        var doc: [String: Any] = ["name": p.name, "services": services]
        if !networks.isEmpty { doc["networks"] = networks }
        if !volumes.isEmpty { doc["volumes"] = volumes }
        return doc
    }

    static func service(_ s: ComposeService) -> [String: Any] {
        var o: [String: Any] = [:]
        if let i = s.image { o["image"] = i }
        if let b = s.build {
            var bo: [String: Any] = ["context": b.context]
            if let d = b.dockerfile { bo["dockerfile"] = d }
            if let t = b.target { bo["target"] = t }
            if !b.args.isEmpty { bo["args"] = Dictionary(b.args.map { ($0.key, $0.value ?? "") }) { $1 } }
            o["build"] = bo
        }
        if let c = s.command { o["command"] = c }
        if let e = s.entrypoint { o["entrypoint"] = e }
        if !s.environment.isEmpty { o["environment"] = Dictionary(s.environment.map { ($0.key, $0.value ?? "") }) { $1 } }
        if !s.ports.isEmpty { o["ports"] = s.ports }
        if !s.volumes.isEmpty {
            o["volumes"] = s.volumes.map { v -> [String: Any] in
                var m: [String: Any] = ["type": v.type.rawValue, "target": v.target]
                if !v.source.isEmpty { m["source"] = v.source }
                if v.readOnly { m["read_only"] = true }
                return m
            }
        }
        if !s.networks.isEmpty {
            o["networks"] = Dictionary(s.networks.map { n -> (String, Any) in
                var m: [String: Any] = [:]
                if !n.aliases.isEmpty { m["aliases"] = n.aliases }
                if let ip = n.ipv4 { m["ipv4_address"] = ip }
                return (n.name, m)
            }) { $1 }
        }
        if let m = s.networkMode { o["network_mode"] = m }
        if !s.dependsOn.isEmpty {
            o["depends_on"] = Dictionary(s.dependsOn.map { ($0.service, ["condition": $0.condition.rawValue, "required": $0.required] as [String: Any]) }) { $1 }
        }
        if let h = s.healthcheck {
            var m: [String: Any] = ["test": h.test]
            if let i = h.interval { m["interval"] = "\(Double(i) / 1e9)s" }
            if let r = h.retries { m["retries"] = r }
            if h.disable { m["disable"] = true }
            o["healthcheck"] = m
        }
        if let r = s.restart { o["restart"] = r }
        if s.replicas != 1 { o["deploy"] = ["replicas": s.replicas] }
        for (k, v) in [("container_name", s.containerName), ("hostname", s.hostname), ("user", s.user), ("working_dir", s.workingDir),
                       ("stop_signal", s.stopSignal), ("mem_limit", s.memLimit), ("cpus", s.cpus)] {
            if let v { o[k] = v }
        }
        if !s.labels.isEmpty { o["labels"] = Dictionary(s.labels.map { ($0.key, $0.value) }) { $1 } }
        if !s.profiles.isEmpty { o["profiles"] = s.profiles }
        return o
    }
}
