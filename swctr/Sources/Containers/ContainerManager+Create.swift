import Database
import FoundationEssentials
import Glibc
import HostOS
import Images
import JSON
import Networks
import OCI
import Registry

/// What `create`/`run` ask for beyond the options: the image and the name.
public struct CreateRequest: Sendable {
    public var image: String
    public var name: String?
    public var options: ContainerConfig
    /// `--no-healthcheck`: the image's HEALTHCHECK is not used.
    public var noHealthcheck = false
    /// `--volumes-from CONTAINER[:ro|rw]`.
    public var volumesFrom: [String] = []

    public init(image: String, name: String? = nil, options: ContainerConfig) {
        self.image = image
        self.name = name
        self.options = options
    }
}

extension ContainerManager {
    /// Records the container and prepares its bundle; nothing runs yet. A failure leaves no row,
    /// directory or mount behind.
    public func create(_ request: CreateRequest) throws(SwctrError) -> ContainerRow {
        let record: ImageRecord
        do {
            guard let r = try store.image(request.image) else { throw SwctrError(.notFound, "No such image: \(request.image)") }
            record = r
        } catch let e as SwctrError { throw e } catch { throw SwctrError(.failure, "\(error)") }
        var options = request.options
        let imageConfig = record.imageConfig?.config
        applyImageDefaults(&options, image: imageConfig, noHealthcheck: request.noHealthcheck)
        // The image's command is the container's when none was given (ps and inspect show it,
        // as Docker's do; the spec builder resolves the same arguments either way).
        if options.cmd == nil && options.entrypoint == nil {
            options.cmd = imageConfig?.Cmd
            options.entrypoint = imageConfig?.Entrypoint
        }
        if let s = options.stopSignal { _ = try OptionParsing.signal(s) }
        if let name = request.name, !Names.isValid(name) {
            throw SwctrError(.invalidArgument, "Invalid container name (\(name)), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")
        }
        try resolveNetworks(&options)
        if options.publishAll == true {
            for key in (imageConfig?.ExposedPorts ?? [:]).keys.sorted() {
                let parts = key.split(separator: "/")
                guard let port = parts.first.flatMap({ Int($0) }) else { continue }
                let proto = parts.count > 1 ? String(parts[1]) : "tcp"
                if !(options.ports ?? []).contains(where: { $0.containerPort == port && $0.proto == proto }) {
                    options.ports = (options.ports ?? []) + [PortMapping(hostPort: 0, containerPort: port, proto: proto)]
                }
            }
        }
        let id = Names.newID()
        let createdVolumes = try resolveMounts(&options, image: imageConfig, volumesFrom: request.volumesFrom)
        let configJSON: String
        do { configJSON = String(decoding: try JSONValueEncoder().encode(options), as: UTF8.self) } catch {
            for v in createdVolumes { try? removeVolume(v, force: true) }
            throw SwctrError(.failure, "encode the container's options: \(error)")
        }
        var row = ContainerRow(id: id, name: request.name ?? Names.generate(), image: request.image, imageID: record.id,
                               created: Date().timeIntervalSince1970, config: configJSON)
        // A generated name that happens to be taken is drawn again; a given one is a conflict.
        var attempts = 0
        while true {
            do {
                try database.insert(row)
                break
            } catch let e as SwctrError where e.code == .conflict && request.name == nil && attempts < 20 {
                attempts += 1
                row.name = Names.generate() + (attempts > 10 ? "\(attempts)" : "")
            } catch let e as SwctrError {
                for v in createdVolumes { try? removeVolume(v, force: true) }
                throw e
            } catch {
                for v in createdVolumes { try? removeVolume(v, force: true) }
                throw SwctrError(.failure, "\(error)")
            }
        }
        let dir = directory(id)
        do {
            try Snapshot.prepare(dir)
            // rmi refuses an image that a container (running or not) was made from.
            try? FileIO.writeFile(Array(record.name.utf8), to: dir + "/image")
            try Snapshot.mount(dir, layers: record.layerIDs, store: store)
            defer { Snapshot.unmount(dir) }
            try copyUp(options, rootfs: rootfs(id))
            if options.ownsNetworkNamespace {
                writeNameFiles(row, options, networks: options.attachedNetworks.compactMap { try? network($0.network) }, addresses: [])
            }
            let spec = try buildSpec(id: id, options: options, image: imageConfig)
            do {
                try FileIO.writeAtomic(dir + "/config.json", try JSONValueEncoder().encode(spec), mode: 0o600)
            } catch { throw SwctrError(.failure, "write \(dir)/config.json: \(error)") }
        } catch {
            Snapshot.unmount(dir)
            FileIO.removeTree(dir)
            try? database.deleteContainer(id)
            for v in createdVolumes { try? removeVolume(v, force: true) }
            throw (error as? SwctrError) ?? SwctrError(.failure, "\(error)")
        }
        return row
    }

    /// The network mode checked: a named network exists (its name kept, not an id given) and each
    /// endpoint's address, MAC and aliases fit it; container:ID names a container, whose hostname
    /// this one takes, as Docker does.
    func resolveNetworks(_ options: inout ContainerConfig) throws(SwctrError) {
        if let ref = NetworkMode.container(options.network) {
            let target = try find(ref)
            let theirs = config(of: target)
            guard NetworkMode.container(theirs.network) == nil else {
                throw SwctrError(.invalidArgument, "cannot join the network of \(ref): it uses --network \(theirs.network) itself")
            }
            options.network = "container:" + target.id
            options.hostname = theirs.network == "host" ? nil : theirs.hostname ?? String(target.id.prefix(12))
            return
        }
        if store.rootless {
            // Docker's default network is a bridge only root can make: rootless, slirp4netns
            // stands in for it (podman's rule); a user-defined network is refused.
            if options.network == Self.defaultNetwork && options.endpoints.map({ $0.count <= 1 }) ?? true {
                options.network = NetworkMode.slirp
                options.endpoints = nil
            }
            if NetworkMode.isNamed(options.network) {
                throw SwctrError(.invalidArgument, "network \(options.network): rootless containers use slirp4netns, host or none (networks of their own need root)")
            }
        }
        guard NetworkMode.isNamed(options.network) else { return }
        var endpoints: [Endpoint] = []
        for var e in options.attachedNetworks {
            let n = try network(e.network)
            e.network = n.name
            try validate(e, on: n)
            endpoints.append(e)
        }
        if let first = endpoints.first { options.network = first.network }
        options.endpoints = endpoints
    }

    /// The image's HEALTHCHECK, STOPSIGNAL and labels where `run` did not set them.
    func applyImageDefaults(_ options: inout ContainerConfig, image: ImageConfig.Config?, noHealthcheck: Bool) {
        if noHealthcheck {
            options.healthcheck = HealthcheckOptions(test: ["NONE"])
        } else if let hc = image?.Healthcheck, let test = hc.Test, !test.isEmpty, test != ["NONE"] {
            var merged = HealthcheckOptions(test: test, interval: hc.Interval, timeout: hc.Timeout,
                                            startPeriod: hc.StartPeriod, retries: hc.Retries)
            if let mine = options.healthcheck {
                if mine.test.isEmpty == false { merged.test = mine.test }
                merged.interval = mine.interval ?? merged.interval
                merged.timeout = mine.timeout ?? merged.timeout
                merged.startPeriod = mine.startPeriod ?? merged.startPeriod
                merged.startInterval = mine.startInterval ?? merged.startInterval
                merged.retries = mine.retries ?? merged.retries
            }
            options.healthcheck = merged
        }
        if options.stopSignal == nil { options.stopSignal = image?.StopSignal }
        for (k, v) in image?.Labels ?? [:] where options.labels[k] == nil { options.labels[k] = v }
    }

    /// The OCI config for a container whose rootfs is mounted (its users are read there).
    func buildSpec(id: String, options: ContainerConfig, image: ImageConfig.Config?) throws(SwctrError) -> Spec {
        let root = rootfs(id)
        var builder = SpecBuilder(id: id, rootfs: root, image: image, options: options)
        builder.rootless = store.rootless
        builder.passwd = RootedPath.read("/etc/passwd", in: root).map { String(decoding: $0, as: UTF8.self) }
        builder.group = RootedPath.read("/etc/group", in: root).map { String(decoding: $0, as: UTF8.self) }
        if options.initProcess {
            builder.initBinary = ["/usr/bin/catatonit", "/usr/libexec/podman/catatonit", "/usr/bin/tini-static", "/usr/bin/tini"]
                .first { FileIO.exists($0) }
        }
        if options.ownsNetworkNamespace {
            builder.networkNamespace = netnsPath(id)
            builder.nameFiles = directory(id)
        } else if let ref = NetworkMode.container(options.network), let target = try? find(ref) {
            // The path is filled in at each start (joinContainerNetwork); the files are the other's.
            builder.networkNamespace = netnsPath(target.id)
            if config(of: target).ownsNetworkNamespace { builder.nameFiles = directory(target.id) }
        }
        builder.seccomp = try seccompProfile(options, capabilities: try builder.capabilities())
        var spec = try builder.build()
        spec.mounts = (spec.mounts ?? []) + (try ociMounts(options))
        return spec
    }

    /// `--security-opt seccomp=unconfined|PROFILE`; by default podman's profile (Docker's rules).
    func seccompProfile(_ options: ContainerConfig, capabilities: [String]) throws(SwctrError) -> Seccomp? {
        var profile: String? = SeccompProfile.defaultPath
        var named = false
        for opt in options.securityOpt {
            let sep = opt.firstIndex { $0 == "=" || $0 == ":" }
            let key = sep.map { String(opt[..<$0]) } ?? opt
            let value = sep.map { String(opt[opt.index(after: $0)...]) } ?? ""
            switch (key, value) {
            case ("seccomp", "unconfined"): profile = nil
            case ("seccomp", let path) where !path.isEmpty: profile = path; named = true
            case ("no-new-privileges", ""), ("no-new-privileges", "true"), ("no-new-privileges", "false"): break
            default:
                throw SwctrError(.invalidArgument, "invalid --security-opt: \"\(opt)\" (want seccomp=unconfined, seccomp=PROFILE or no-new-privileges)")
            }
        }
        guard let profile, !options.privileged else { return nil }
        guard FileIO.exists(profile) else {
            throw SwctrError(.invalidArgument, named ? "opening seccomp profile (\(profile)) failed: no such file or directory"
                : "no default seccomp profile at \(profile) (install golang-github-containers-common, or --security-opt seccomp=unconfined)")
        }
        do { return try SeccompProfile.load(profile, capabilities: capabilities) } catch let e as SwctrError { throw e } catch {
            throw SwctrError(.invalidArgument, "\(error)")
        }
    }
}
