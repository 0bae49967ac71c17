import ArgumentParser
import Containers
import Database
import Monitor
import Networks

/// The flags `create` and `run` share, in Docker's spelling, turned into a ContainerConfig.
/// Values are checked here, before anything is created, so a bad flag leaves nothing behind.
struct ContainerOptions: ParsableArguments {
    @Option(help: "Name of the container (default: a generated one).") var name: String?
    @Option(name: [.customShort("e"), .customLong("env")], help: "Set an environment variable (K=V, or K to copy it).")
    var env: [String] = []
    @Option(name: .customLong("env-file"), help: "Read environment variables from a file.") var envFile: [String] = []
    @Option(name: [.customShort("w"), .customLong("workdir")], help: "Working directory inside the container.")
    var workdir: String?
    @Option(name: [.customShort("u"), .customLong("user")], help: "user[:group], names or ids, resolved in the image.")
    var user: String?
    @Option(help: "Override the image's entrypoint.") var entrypoint: String?
    @Option(name: [.customShort("h"), .customLong("hostname")], help: "Container host name (default: the short id).")
    var hostname: String?
    @Option(name: [.customShort("l"), .customLong("label")], help: "Set a label (K=V).") var label: [String] = []
    @Option(name: .customLong("stop-signal"), help: "Signal that stops the container (default: the image's, else SIGTERM).")
    var stopSignal: String?
    @Option(name: .customLong("stop-timeout"), help: "Seconds stop waits before SIGKILL (default 10).") var stopTimeout: Int?
    @Option(name: .customLong("health-cmd"), help: "Command that checks health (run with /bin/sh -c).") var healthCmd: String?
    @Option(name: .customLong("health-interval"), help: "Time between checks (e.g. 30s).") var healthInterval: String?
    @Option(name: .customLong("health-timeout"), help: "Time a check may take.") var healthTimeout: String?
    @Option(name: .customLong("health-start-period"), help: "Failures in this time do not count.") var healthStartPeriod: String?
    @Option(name: .customLong("health-start-interval"), help: "Time between checks during the start period.") var healthStartInterval: String?
    @Option(name: .customLong("health-retries"), help: "Consecutive failures that make it unhealthy.") var healthRetries: Int?
    @Flag(name: .customLong("no-healthcheck"), help: "Disable the image's HEALTHCHECK.") var noHealthcheck = false
    @Flag(name: [.customShort("t"), .customLong("tty")], help: "Give the container a terminal.") var tty = false
    @Flag(name: [.customShort("i"), .customLong("interactive")], help: "Keep stdin open.") var interactive = false
    @Option(name: [.customShort("a"), .customLong("attach")], help: "Attach to STDIN, STDOUT or STDERR (default: stdout and stderr).")
    var attach: [String] = []
    @Flag(help: "Remove the container when it exits.") var rm = false
    @Option(help: "no, always, on-failure[:N], unless-stopped.") var restart: String?
    @Option(name: [.customShort("m"), .customLong("memory")], help: "Memory limit (e.g. 64m).") var memory: String?
    @Option(name: .customLong("memory-swap"), help: "Memory plus swap limit (-1: unlimited).") var memorySwap: String?
    @Option(help: "Number of CPUs (e.g. 1.5).") var cpus: String?
    @Option(name: [.customShort("c"), .customLong("cpu-shares")], help: "Relative CPU weight.") var cpuShares: UInt64?
    @Option(name: .customLong("pids-limit"), help: "Maximum number of processes (-1: unlimited).") var pidsLimit: Int64?
    @Option(help: "name=soft[:hard] resource limit.") var ulimit: [String] = []
    @Option(name: .customLong("cap-add"), help: "Add a capability (or ALL).") var capAdd: [String] = []
    @Option(name: .customLong("cap-drop"), help: "Drop a capability (or ALL).") var capDrop: [String] = []
    @Flag(help: "All capabilities, every device, no seccomp.") var privileged = false
    @Flag(name: .customLong("read-only"), help: "Mount the root filesystem read-only.") var readOnly = false
    @Option(name: .customLong("security-opt"), help: "seccomp=unconfined, seccomp=PROFILE.json, no-new-privileges.")
    var securityOpt: [String] = []
    @Option(help: "bridge (Docker's default network), a network's name, host, none (only loopback), or container:NAME|ID.")
    var network: String = "bridge"
    @Option(help: "The container's IPv4 address on its (user-defined) network.") var ip: String?
    @Option(name: .customLong("mac-address"), help: "The MAC address of the container's interface.") var macAddress: String?
    @Option(name: [.customShort("p"), .customLong("publish")], help: "[IP:][HOSTPORT:]CTRPORT[/tcp|/udp], ranges too.")
    var publish: [String] = []
    @Flag(name: [.customShort("P"), .customLong("publish-all")], help: "Publish the image's EXPOSE ports on free host ports.")
    var publishAll = false
    @Option(name: .customLong("add-host"), help: "NAME:IP in /etc/hosts (IP host-gateway: the network's gateway).")
    var addHost: [String] = []
    @Option(help: "A DNS server for /etc/resolv.conf.") var dns: [String] = []
    @Option(name: .customLong("dns-search"), help: "A DNS search domain.") var dnsSearch: [String] = []
    @Option(name: .customLong("dns-option"), help: "A resolv.conf option (ndots:2, …).") var dnsOption: [String] = []
    @Option(name: .customLong("network-alias"), help: "Another name for the container on its network.") var networkAlias: [String] = []
    @Option(name: .customLong("log-opt"), help: "json-file options: max-size=10m, max-file=3.") var logOpt: [String] = []
    @Flag(help: "Run an init (catatonit or tini) as PID 1 that forwards signals and reaps zombies.") var `init` = false
    @Option(name: .customLong("cgroup-parent"), help: "Parent cgroup of the container.") var cgroupParent: String = "/swctr"
    @Option(help: "missing (default), always or never: when to pull the image.") var pull: String = "missing"
    @Option(help: "Write the container's id to this file (it must not exist).") var cidfile: String?
    @Option(name: [.customShort("v"), .customLong("volume")], help: "NAME:/path[:ro], /host/path:/path[:ro], or /path (anonymous).")
    var volume: [String] = []
    @Option(help: "type=volume|bind|tmpfs,source=,target=,readonly,volume-nocopy,bind-propagation=,tmpfs-size=,tmpfs-mode=.")
    var mount: [String] = []
    @Option(help: "A tmpfs at /path[:options].") var tmpfs: [String] = []
    @Option(name: .customLong("volumes-from"), help: "The volumes of another container (CONTAINER[:ro|rw]).") var volumesFrom: [String] = []

    /// The flags as a container configuration; `command` replaces the image's Cmd.
    func config(command: [String]) throws(SwctrError) -> ContainerConfig {
        var c = ContainerConfig()
        if !attach.isEmpty {
            let streams = try attach.map { a throws(SwctrError) -> String in
                let s = a.lowercased()
                guard ["stdin", "stdout", "stderr"].contains(s) else {
                    throw SwctrError(.invalidArgument, "invalid argument \"\(a)\" for \"-a, --attach\" flag: valid streams are STDIN, STDOUT and STDERR")
                }
                return s
            }
            c.attachStdout = streams.contains("stdout")
            c.attachStderr = streams.contains("stderr")
        }
        var mounts = try volume.map { v throws(SwctrError) in try MountSpec.volumeFlag(v) }
        mounts += try mount.map { m throws(SwctrError) in try MountSpec.mountFlag(m) }
        mounts += try tmpfs.map { m throws(SwctrError) in try MountSpec.tmpfsFlag(m) }
        if !mounts.isEmpty { c.mounts = mounts }
        c.hostname = hostname
        c.user = user
        var environment: [String] = []
        for file in envFile { environment += try OptionParsing.envFile(file) }
        c.env = environment + OptionParsing.environment(env)
        if !command.isEmpty { c.cmd = command }
        if let entrypoint { c.entrypoint = entrypoint.isEmpty ? [] : [entrypoint] }
        c.workingDir = workdir
        for l in label {
            let kv = l.split(separator: "=", maxSplits: 1).map(String.init)
            c.labels[kv[0]] = kv.count == 2 ? kv[1] : ""
        }
        if let stopSignal { _ = try OptionParsing.signal(stopSignal) }
        c.stopSignal = stopSignal
        c.stopTimeout = stopTimeout
        func duration(_ text: String?, _ flag: String) throws(SwctrError) -> Int64? {
            guard let text else { return nil }
            return try OptionParsing.duration(text, flag: flag)
        }
        // Without --health-cmd the timings change the image's HEALTHCHECK (an empty test).
        if healthCmd != nil || healthInterval != nil || healthTimeout != nil || healthRetries != nil
            || healthStartPeriod != nil || healthStartInterval != nil {
            c.healthcheck = HealthcheckOptions(
                test: healthCmd.map { ["CMD-SHELL", $0] } ?? [],
                interval: try duration(healthInterval, "--health-interval"),
                timeout: try duration(healthTimeout, "--health-timeout"),
                startPeriod: try duration(healthStartPeriod, "--health-start-period"),
                startInterval: try duration(healthStartInterval, "--health-start-interval"),
                retries: healthRetries)
        }
        if noHealthcheck && healthCmd != nil {
            throw SwctrError(.invalidArgument, "--no-healthcheck conflicts with --health-* options")
        }
        c.tty = tty
        c.openStdin = interactive
        c.autoRemove = rm
        if let restart {
            c.restart = try OptionParsing.restart(restart)
            if rm && c.restart.name != .no { throw SwctrError(.invalidArgument, "Conflicting options: --restart and --rm") }
        }
        c.memory = try memory.map { m throws(SwctrError) in try OptionParsing.bytes(m, flag: "--memory") }
        c.memorySwap = try memorySwap.map { m throws(SwctrError) in try OptionParsing.bytes(m, flag: "--memory-swap") }
        if let memory = c.memory, memory >= 0, memory < 6 * 1024 * 1024 {
            throw SwctrError(.invalidArgument, "Minimum memory limit allowed is 6MB")
        }
        if let swap = c.memorySwap, swap > 0, swap < (c.memory ?? Int64.max) {
            throw SwctrError(.invalidArgument, "Minimum memoryswap limit should be larger than memory limit, see usage")
        }
        c.nanoCPUs = try cpus.map { v throws(SwctrError) in try OptionParsing.cpus(v) }
        c.cpuShares = cpuShares
        c.pidsLimit = pidsLimit
        c.ulimits = try ulimit.map { u throws(SwctrError) in try OptionParsing.ulimit(u) }
        c.capAdd = capAdd
        c.capDrop = capDrop
        c.privileged = privileged
        c.readOnly = readOnly
        c.securityOpt = securityOpt
        if network.hasPrefix("container:") {
            if network == "container:" { throw SwctrError(.invalidArgument, "--network container: needs a container's name or id") }
            if hostname != nil { throw SwctrError(.invalidArgument, "conflicting options: hostname and the network mode") }
            if !publish.isEmpty || publishAll { throw SwctrError(.invalidArgument, "conflicting options: port publishing and the container type network mode") }
        }
        if (ip != nil || macAddress != nil) && !NetworkMode.isNamed(network) {
            throw SwctrError(.invalidArgument, "conflicting options: --ip and --mac-address need a network (--network \(network))")
        }
        c.network = network
        if NetworkMode.isNamed(network) {
            c.endpoints = [Endpoint(network: network, aliases: networkAlias.isEmpty ? nil : networkAlias, ip: ip, mac: macAddress)]
        }
        var ports: [PortMapping] = []
        for p in publish { ports += try PortMapping.parse(p) }
        if !ports.isEmpty {
            guard NetworkMode.isNamed(network) else {
                throw SwctrError(.invalidArgument, "-p needs a bridge network: --network \(network) has no ports to publish")
            }
            c.ports = ports
        }
        if !networkAlias.isEmpty { c.networkAliases = networkAlias }
        for h in addHost {
            let parts = h.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, parts[1] == "host-gateway" || Subnet.address(parts[1]) != nil else {
                throw SwctrError(.invalidArgument, "invalid argument \"\(h)\" for \"--add-host\" flag: want NAME:IP")
            }
        }
        for d in dns where Subnet.address(d) == nil {
            throw SwctrError(.invalidArgument, "\(d) is not an ip address (--dns)")
        }
        let nameOptions = !(addHost.isEmpty && dns.isEmpty && dnsSearch.isEmpty && dnsOption.isEmpty)
        if nameOptions && !NetworkMode.isNamed(network) {
            throw SwctrError(.invalidArgument, "--add-host and --dns* need a bridge network (--network \(network) keeps the image's files)")
        }
        if !addHost.isEmpty { c.addHosts = addHost }
        if !dns.isEmpty { c.dns = dns }
        if !dnsSearch.isEmpty { c.dnsSearch = dnsSearch }
        if !dnsOption.isEmpty { c.dnsOptions = dnsOption }
        if publishAll {
            guard NetworkMode.isNamed(network) else {
                throw SwctrError(.invalidArgument, "-P needs a bridge network: --network \(network) has no ports to publish")
            }
            c.publishAll = true
        }
        for opt in logOpt {
            let kv = opt.split(separator: "=", maxSplits: 1).map(String.init)
            switch (kv.first ?? "", kv.count) {
            case ("max-size", 2): c.log.maxSize = try OptionParsing.bytes(kv[1], flag: "--log-opt max-size")
            case ("max-file", 2):
                guard let n = Int(kv[1]), n >= 1 else { throw SwctrError(.invalidArgument, "invalid value for max-file: \(kv[1])") }
                c.log.maxFiles = n
            default: throw SwctrError(.invalidArgument, "unknown log opt '\(opt)' for json-file log driver")
            }
        }
        c.initProcess = `init`
        c.cgroupParent = cgroupParent
        guard ["missing", "always", "never"].contains(pull) else {
            throw SwctrError(.invalidArgument, "invalid pull option: '\(pull)': must be one of \"always\", \"missing\" or \"never\"")
        }
        return c
    }
}
