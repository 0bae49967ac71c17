import Containers
import Database
import Networks
import Registry

/// The labels Docker Compose v2 puts on what it makes, so `ps --filter label=…` works the same.
public enum ComposeLabel {
    public static let project = "com.docker.compose.project"
    public static let service = "com.docker.compose.service"
    public static let number = "com.docker.compose.container-number"
    public static let oneoff = "com.docker.compose.oneoff"
    public static let configHash = "com.docker.compose.config-hash"
    public static let workingDir = "com.docker.compose.project.working_dir"
    public static let configFiles = "com.docker.compose.project.config_files"
    public static let version = "com.docker.compose.version"
    public static let network = "com.docker.compose.network"
    public static let volume = "com.docker.compose.volume"
    public static let image = "com.docker.compose.image"
}

/// One service replica → the create request `run -d` would make, with Compose's names, labels,
/// aliases and the volumes and networks under their project names.
struct ServiceTranslation {
    let project: ComposeProject
    /// The environment `environment: [KEY]` entries take their value from.
    let environment: [String: String]

    /// `project-service-N`, or container_name.
    func containerName(_ s: ComposeService, number: Int) -> String {
        s.containerName ?? "\(project.name)-\(s.name)-\(number)"
    }

    /// The image a service runs: `image:`, or for a build without one `project-service`.
    func imageName(_ s: ComposeService) -> String {
        s.image ?? "\(project.name)-\(s.name)"
    }

    func request(_ s: ComposeService, number: Int, configHash: String, oneoff: Bool = false,
                 networkModeTarget: (String) -> String?) throws(SwctrError) -> CreateRequest {
        func at(_ key: String, _ e: SwctrError) -> SwctrError { SwctrError(e.code, "service \"\(s.name)\" \(key): \(e.message)") }
        var c = ContainerConfig()
        c.hostname = s.hostname
        c.user = s.user
        c.workingDir = s.workingDir
        c.cmd = s.command
        c.entrypoint = s.entrypoint
        var env: [String] = []
        for file in s.envFiles {
            do { env += try OptionParsing.envFile(file) } catch { throw at("env_file", error) }
        }
        for (k, v) in s.environment {
            if let v { env.append("\(k)=\(v)") } else if let host = environment[k] { env.append("\(k)=\(host)") }
        }
        c.env = env
        for (k, v) in s.labels { c.labels[k] = v }
        c.labels[ComposeLabel.project] = project.name
        c.labels[ComposeLabel.service] = s.name
        c.labels[ComposeLabel.number] = String(number)
        c.labels[ComposeLabel.oneoff] = oneoff ? "True" : "False"
        c.labels[ComposeLabel.configHash] = configHash
        c.labels[ComposeLabel.workingDir] = project.workingDir
        c.labels[ComposeLabel.configFiles] = project.files.joined(separator: ",")
        c.labels[ComposeLabel.version] = "swctr"
        c.stopSignal = s.stopSignal
        c.stopTimeout = s.stopGracePeriod
        if let h = s.healthcheck, !h.disable, h.test.first != "NONE", !h.test.isEmpty {
            c.healthcheck = HealthcheckOptions(test: h.test, interval: h.interval, timeout: h.timeout, startPeriod: h.startPeriod,
                                               startInterval: h.startInterval, retries: h.retries)
        }
        if let r = s.restart, !oneoff {
            do { c.restart = try OptionParsing.restart(r) } catch { throw at("restart", error) }
        }
        do {
            if let m = s.memLimit { c.memory = try OptionParsing.bytes(m, flag: "mem_limit") }
            if let cpus = s.cpus { c.nanoCPUs = try OptionParsing.cpus(cpus) }
            c.ulimits = try s.ulimits.map { u throws(SwctrError) in try OptionParsing.ulimit(u) }
        } catch { throw at("resources", error) }
        c.capAdd = s.capAdd
        c.capDrop = s.capDrop
        c.privileged = s.privileged
        c.readOnly = s.readOnly
        c.securityOpt = s.securityOpt
        c.initProcess = s.initProcess
        if let parent = s.cgroupParent { c.cgroupParent = parent }
        if !s.extraHosts.isEmpty { c.addHosts = s.extraHosts }
        if !s.dns.isEmpty { c.dns = s.dns }
        try network(s, &c, number: number, oneoff: oneoff, networkModeTarget: networkModeTarget)
        c.mounts = try mounts(s)
        var req = CreateRequest(image: imageName(s), name: containerName(s, number: number), options: c)
        req.noHealthcheck = s.healthcheck?.disable == true || s.healthcheck?.test.first == "NONE"
        return req
    }

    func network(_ s: ComposeService, _ c: inout ContainerConfig, number: Int, oneoff: Bool,
                 networkModeTarget: (String) -> String?) throws(SwctrError) {
        if let mode = s.networkMode {
            if mode.hasPrefix("service:") {
                let other = String(mode.dropFirst(8))
                guard let target = networkModeTarget(other) else {
                    throw SwctrError(.invalidArgument, "service \"\(s.name)\" network_mode \(mode): service \(other) has no container")
                }
                c.network = "container:" + target
            } else {
                c.network = mode
            }
            guard s.ports.isEmpty || mode == "host" || !mode.hasPrefix("service:") && !mode.hasPrefix("container:") else {
                throw SwctrError(.invalidArgument, "service \"\(s.name)\": ports cannot be published with network_mode \(mode)")
            }
            return
        }
        let attached = s.networks.isEmpty ? [ServiceNetwork(name: "default")] : s.networks
        var endpoints: [Endpoint] = []
        for n in attached {
            guard let real = project.networks.first(where: { $0.key == n.name }) else {
                throw SwctrError(.invalidArgument, "service \"\(s.name)\" refers to undefined network \(n.name)")
            }
            // Every replica answers to the service's name on each of its networks (a one-off
            // `run` container does not: it would answer for the service).
            endpoints.append(Endpoint(network: real.name, aliases: (oneoff ? [] : [s.name]) + n.aliases, ip: n.ipv4))
        }
        c.network = endpoints.first?.network ?? "none"
        c.endpoints = endpoints
        c.networkAliases = endpoints.first?.aliases
        var ports: [PortMapping] = []
        for p in s.ports {
            do { ports += try PortMapping.parse(p) } catch { throw SwctrError(error.code, "service \"\(s.name)\" ports: \(error.message)") }
        }
        if !ports.isEmpty { c.ports = ports }
    }

    func mounts(_ s: ComposeService) throws(SwctrError) -> [MountSpec] {
        var out: [MountSpec] = []
        for v in s.volumes {
            switch v.type {
            case .volume:
                var m = MountSpec(type: .volume, source: "", target: v.target)
                if v.source.isEmpty {
                    m.anonymous = true
                } else {
                    guard let vol = project.volumes.first(where: { $0.key == v.source }) else {
                        throw SwctrError(.invalidArgument, "service \"\(s.name)\" refers to undefined volume \(v.source)")
                    }
                    m.source = vol.name
                }
                m.readOnly = v.readOnly
                m.noCopy = v.noCopy
                out.append(m)
            case .bind:
                var m = MountSpec(type: .bind, source: v.source, target: v.target)
                m.readOnly = v.readOnly
                m.propagation = v.propagation
                m.createHostPath = v.createHostPath
                out.append(m)
            case .tmpfs:
                var m = MountSpec(type: .tmpfs, source: "", target: v.target)
                if let size = v.tmpfsSize { m.tmpfsOptions = ["size=\(size)"] }
                out.append(m)
            }
        }
        for t in s.tmpfs {
            do { out.append(try MountSpec.tmpfsFlag(t)) } catch { throw SwctrError(error.code, "service \"\(s.name)\" tmpfs: \(error.message)") }
        }
        return out
    }
}
