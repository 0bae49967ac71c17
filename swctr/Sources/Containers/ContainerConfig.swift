import Monitor
import Networks

/// Everything `create`/`run` was asked for, in Docker's terms: what `inspect` shows as Config and
/// HostConfig, and what the spec builder turns into an OCI config. Kept as JSON in the container's
/// database row.
public struct ContainerConfig: Codable, Sendable, Equatable {
    // Config
    public var hostname: String?
    public var user: String?
    public var env: [String] = []
    public var cmd: [String]?
    public var entrypoint: [String]?
    public var workingDir: String?
    public var labels: [String: String] = [:]
    public var stopSignal: String?
    public var stopTimeout: Int?
    public var healthcheck: HealthcheckOptions?
    public var tty = false
    public var openStdin = false
    public var attachStdout = true
    public var attachStderr = true

    // HostConfig
    public var autoRemove = false
    public var restart = RestartPolicy()
    public var memory: Int64?
    public var memorySwap: Int64?
    /// CPUs × 10^9, as Docker's NanoCpus.
    public var nanoCPUs: Int64?
    public var cpuShares: UInt64?
    public var pidsLimit: Int64?
    public var ulimits: [Ulimit] = []
    public var capAdd: [String] = []
    public var capDrop: [String] = []
    public var privileged = false
    public var readOnly = false
    public var securityOpt: [String] = []
    /// The network mode: host, none, container:NAME|ID, or the first network's name (bridge:
    /// Docker's default network).
    public var network = "none"
    /// `-p` mappings (host port 0: chosen at start) and `--network-alias` names.
    public var ports: [PortMapping]?
    public var networkAliases: [String]?
    /// The networks the container is on, in the order of its interfaces (eth0 first): the
    /// mode's network from create, then those `network connect` added. Nil in older rows.
    public var endpoints: [Endpoint]?
    /// `-P`: the image's EXPOSE ports get free host ports (resolved at create).
    public var publishAll: Bool?
    /// `--add-host NAME:IP`, `--dns`, `--dns-search`, `--dns-option` (nil in older rows).
    public var addHosts: [String]?
    public var dns: [String]?
    public var dnsSearch: [String]?
    public var dnsOptions: [String]?
    public var log = LogConfig()
    public var initProcess = false
    public var cgroupParent = "/swctr"
    /// Volumes, binds and tmpfs mounts, volumes named (nil in rows older than volumes).
    public var mounts: [MountSpec]?

    public init() {}

    /// The networks to attach at start (older rows: the mode's network with its aliases).
    public var attachedNetworks: [Endpoint] {
        if let endpoints { return endpoints }
        return NetworkMode.isNamed(network) ? [Endpoint(network: network, aliases: networkAliases)] : []
    }

    /// Whether the container has a network namespace of its own that swctr names and sets up.
    public var ownsNetworkNamespace: Bool { NetworkMode.isNamed(network) || network == NetworkMode.slirp }
}

/// What `--network` says: a network's name, or one of Docker's modes.
public enum NetworkMode {
    /// User-mode networking, the rootless default (see ContainerManager+Slirp).
    public static let slirp = "slirp4netns"

    public static func isNamed(_ mode: String) -> Bool {
        mode != "host" && mode != "none" && mode != slirp && !mode.hasPrefix("container:")
    }

    /// `container:NAME|ID`: the container whose network namespace is joined.
    public static func container(_ mode: String) -> String? {
        mode.hasPrefix("container:") ? String(mode.dropFirst("container:".count)) : nil
    }
}

/// `--ulimit name=soft[:hard]`.
public struct Ulimit: Codable, Sendable, Equatable {
    public var name: String
    public var soft: UInt64
    public var hard: UInt64

    public init(name: String, soft: UInt64, hard: UInt64) {
        self.name = name
        self.soft = soft
        self.hard = hard
    }
}

/// `--log-opt max-size=10m max-file=3` for the json-file driver.
public struct LogConfig: Codable, Sendable, Equatable {
    public var maxSize: Int64 = 0
    public var maxFiles = 1
    public init() {}
}

/// The health check as `run` flags (or the image's HEALTHCHECK) give it.
public struct HealthcheckOptions: Codable, Sendable, Equatable {
    public var test: [String]
    public var interval: Int64?
    public var timeout: Int64?
    public var startPeriod: Int64?
    /// Docker 25's `--health-start-interval`: the time between checks during the start period.
    public var startInterval: Int64?
    public var retries: Int?

    public init(test: [String], interval: Int64? = nil, timeout: Int64? = nil, startPeriod: Int64? = nil,
                startInterval: Int64? = nil, retries: Int? = nil) {
        self.test = test
        self.interval = interval
        self.timeout = timeout
        self.startPeriod = startPeriod
        self.startInterval = startInterval
        self.retries = retries
    }

    /// Docker's defaults for what is not set: 30 s interval and timeout, 3 retries.
    public var resolved: HealthConfig {
        HealthConfig(test: test, interval: interval.flatMap { $0 > 0 ? $0 : nil } ?? 30_000_000_000,
                     timeout: timeout.flatMap { $0 > 0 ? $0 : nil } ?? 30_000_000_000,
                     startPeriod: startPeriod ?? 0, startInterval: startInterval.flatMap { $0 > 0 ? $0 : nil },
                     retries: retries.flatMap { $0 > 0 ? $0 : nil } ?? 3)
    }
}
