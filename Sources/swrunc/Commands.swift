import JSON
import HostOS
import Glibc
import ArgumentParser
import FoundationEssentials
import OCI
import Runtime

/// The parsed global options; set once in main before any command runs.
enum RuntimeEnvironment {
    nonisolated(unsafe) static var context: RuntimeContext!
}

extension CommandConfiguration {
    /// A subcommand parsed on its own (see `SwruncCommand.byName`). The super-command name gives
    /// its help "swrunc <name>" and spares ArgumentParser two trial parses per call looking for
    /// --generate-completion-script, which only the root offers.
    static func sub(_ name: String? = nil, abstract: String, aliases: [String] = []) -> CommandConfiguration {
        CommandConfiguration(commandName: name, _superCommandName: "swrunc", abstract: abstract, aliases: aliases)
    }
}

/// A container's exit status as the process's own.
struct ExitCodeError: Error { var code: Int32 }

/// A parsed command and the container it is about, which main names in its error.
struct ParsedCommand {
    var id: String?
    var run: () throws -> Void
}

/// A command about one container (its `id` argument).
protocol ContainerCommand { var id: String { get } }
extension Create: ContainerCommand {}
extension Start: ContainerCommand {}
extension Run: ContainerCommand {}
extension State: ContainerCommand {}
extension Kill: ContainerCommand {}
extension Exec: ContainerCommand {}
extension Pause: ContainerCommand {}
extension Resume: ContainerCommand {}
extension Ps: ContainerCommand {}
extension Update: ContainerCommand {}
extension Events: ContainerCommand {}

struct SwruncCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swrunc",
        abstract: "An OCI runtime compatible with runc.",
        discussion: """
        Global options (before the command): --root DIR (default /run/swrunc), --log FILE, \
        --log-format text|json, --debug, --systemd-cgroup, --rootless true|false|auto, --version.
        """,
        subcommands: byName.map(\.type))

    /// Each subcommand by the name it is called with. main parses the named one on its own:
    /// ArgumentParser's tree of all seventeen costs ~2 ms of runtime type lookups per call.
    static let byName: [(name: String, type: any ParsableCommand.Type)] = [
        ("create", Create.self), ("start", Start.self), ("state", State.self), ("kill", Kill.self),
        ("delete", Delete.self), ("run", Run.self), ("exec", Exec.self), ("pause", Pause.self),
        ("resume", Resume.self), ("ps", Ps.self), ("update", Update.self), ("events", Events.self),
        ("checkpoint", Checkpoint.self), ("restore", Restore.self), ("list", List.self),
        ("spec", SpecCommand.self), ("features", FeaturesCommand.self),
    ]
}

struct BundleOptions: ParsableArguments {
    @Option(name: [.customLong("bundle"), .customShort("b")], help: "Path to the bundle directory.")
    var bundle: String = "."
    @Option(name: .customLong("console-socket"), help: "Unix socket that receives the pty master.")
    var consoleSocket: String?
    @Option(name: .customLong("pid-file"), help: "File to write the container's pid to.")
    var pidFile: String?
    @Option(name: .customLong("pidfd-socket"), help: "Unix socket that receives a pidfd of the container's init.")
    var pidfdSocket: String?
    @Flag(name: .customLong("no-pivot"), help: "Use MS_MOVE + chroot instead of pivot_root.")
    var noPivot = false
    @Flag(name: .customLong("no-new-keyring"), help: "Keep the caller's session keyring.")
    var noNewKeyring = false
    @Option(name: .customLong("preserve-fds"), help: "Pass N extra fds (3 … 3+N-1) to the container.")
    var preserveFDs: Int = 0

    func options(id: String) -> CreateOptions {
        var o = CreateOptions(id: id, bundle: bundle)
        o.pidFile = pidFile
        o.consoleSocket = consoleSocket
        o.pidfdSocket = pidfdSocket
        o.noPivot = noPivot
        o.noNewKeyring = noNewKeyring
        o.preserveFDs = preserveFDs
        return o
    }

    /// The same options by their long names (FastCommands' reading of them).
    static let valued: [String: String] = ["bundle": "bundle", "b": "bundle", "console-socket": "console-socket",
                                           "pid-file": "pid-file", "pidfd-socket": "pidfd-socket", "preserve-fds": "preserve-fds"]
    static let flags: [String: String] = ["no-pivot": "no-pivot", "no-new-keyring": "no-new-keyring"]
}

struct Create: ParsableCommand {
    static let configuration = CommandConfiguration.sub(abstract: "Create a container, blocked before its program runs.")
    @OptionGroup var bundle: BundleOptions
    @Argument var id: String
    func run() throws { try Self.perform(bundle.options(id: id)) }
    static func perform(_ options: CreateOptions) throws { _ = try Container.create(options, ctx: RuntimeEnvironment.context) }
}

struct Start: ParsableCommand {
    static let configuration = CommandConfiguration.sub(abstract: "Start a created container.")
    @Argument var id: String
    func run() throws { try Container.start(id: id, ctx: RuntimeEnvironment.context) }
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration.sub(abstract: "Create and start a container; wait for it unless detached.")
    @OptionGroup var bundle: BundleOptions
    @Flag(name: [.customLong("detach"), .customShort("d")], help: "Return once the container has started.")
    var detach = false
    @Flag(name: .customLong("keep"), help: "Do not delete the container after it exits.")
    var keep = false
    @Flag(name: .customLong("no-subreaper"), help: "Accepted for runc compatibility.")
    var noSubreaper = false
    @Argument var id: String
    func run() throws { try Self.perform(bundle.options(id: id), detach: detach, keep: keep) }
    static func perform(_ options: CreateOptions, detach: Bool, keep: Bool) throws {
        let code = try Container.run(options, detach: detach, keep: keep, ctx: RuntimeEnvironment.context)
        if code != 0 { throw ExitCodeError(code: code) }
    }
}

struct StateOutput: Encodable {
    var ociVersion: String
    var id: String
    var pid: Int32
    var status: String
    var bundle: String
    var rootfs: String
    var created: String
    var owner: String
    var annotations: [String: String]?

    init(_ view: ContainerView) {
        let s = view.state
        ociVersion = s.ociVersion
        id = s.id
        pid = s.pid ?? 0
        status = s.status.rawValue
        bundle = s.bundle
        rootfs = view.record.rootfs
        created = view.record.created
        owner = view.record.owner
        annotations = s.annotations
    }
}

/// Keys in the order the type declares them — runc's order, which clients grep for
/// (`{"type":"stats","id":…`) — where Foundation's encoder would hash-order them.
func printJSON<T: Encodable>(_ value: T, pretty: Bool = true) throws {
    let json = try JSONValueEncoder().encodeValue(value)
    print(pretty ? json.serialized(indent: 2) : json.serialized())
}

struct State: ParsableCommand {
    static let configuration = CommandConfiguration.sub(abstract: "Print the state of a container as JSON.")
    @Argument var id: String
    func run() throws { try Self.perform(id: id) }
    static func perform(id: String) throws { try printJSON(StateOutput(try Container.view(id: id, ctx: RuntimeEnvironment.context))) }
}

struct Kill: ParsableCommand {
    static let configuration = CommandConfiguration.sub(abstract: "Send a signal (default SIGTERM) to a container.")
    @Flag(name: [.customLong("all"), .customShort("a")], help: "Signal every process in the container.")
    var all = false
    @Argument var id: String
    @Argument var signal: String = "SIGTERM"
    func run() throws { try Self.perform(id: id, signal: signal, all: all) }
    static func perform(id: String, signal: String, all: Bool) throws {
        try Container.kill(id: id, signal: try Container.parseSignal(signal), all: all, ctx: RuntimeEnvironment.context)
    }
}

struct Delete: ParsableCommand {
    static let configuration = CommandConfiguration.sub(abstract: "Delete a container and its resources.")
    @Flag(name: [.customLong("force"), .customShort("f")], help: "Kill a running container first; succeed if it is gone.")
    var force = false
    @Argument var ids: [String]
    func run() throws { try Self.perform(ids: ids, force: force) }
    static func perform(ids: [String], force: Bool) throws {
        for id in ids {
            do { try Container.delete(id: id, force: force, ctx: RuntimeEnvironment.context) } catch { throw error.about(id: id) }
        }
    }
}

struct List: ParsableCommand {
    static let configuration = CommandConfiguration.sub("list", abstract: "List containers.", aliases: ["ps-all"])
    @Option(name: [.customLong("format"), .customShort("f")], help: "table or json.")
    var format = "table"
    @Flag(name: [.customLong("quiet"), .customShort("q")], help: "Print ids only.")
    var quiet = false
    func run() throws {
        // A root that does not exist is an error, as runc makes it (a typo is not "no containers").
        let root = RuntimeEnvironment.context.store.root
        guard FileIO.isDirectory(root) else { throw RuntimeError("open \(root): no such file or directory", errno: ENOENT) }
        let views = Container.list(ctx: RuntimeEnvironment.context)
        if quiet {
            for v in views { print(v.record.id) }
            return
        }
        switch format {
        case "json":
            try printJSON(views.map(StateOutput.init), pretty: false)
        case "table":
            var rows = [["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]]
            for v in views {
                let o = StateOutput(v)
                rows.append([o.id, String(o.pid), o.status, o.bundle, o.created, ownerName(v.record)])
            }
            let widths = (0..<6).map { c in rows.map { $0[c].count }.max() ?? 0 }
            for row in rows {
                var line = ""
                for (c, cell) in row.enumerated() {
                    line += c == 5 ? cell : cell + String(repeating: " ", count: widths[c] - cell.count + 3)
                }
                print(line)
            }
        default:
            throw RuntimeError("invalid format option: \(format) (want table or json)")
        }
    }

    /// The owner's name from /etc/passwd, as runc looks it up; read directly because the binary
    /// is static and glibc's NSS would need the shared libraries at run time.
    func ownerName(_ record: ContainerRecord) -> String {
        var st = stat()
        guard stat(RuntimeEnvironment.context.store.directory(record.id), &st) == 0 else { return "#0" }
        let passwd = (try? FileIO.readString("/etc/passwd")) ?? ""
        for line in passwd.split(separator: "\n") {
            let f = line.split(separator: ":", omittingEmptySubsequences: false)
            if f.count > 2, UInt32(f[2]) == st.st_uid { return String(f[0]) }
        }
        return "#\(st.st_uid)"
    }
}

struct SpecCommand: ParsableCommand {
    static let configuration = CommandConfiguration.sub("spec", abstract: "Write a default config.json.")
    @Option(name: [.customLong("bundle"), .customShort("b")], help: "Bundle directory to write into.")
    var bundle: String = "."
    @Flag(name: .customLong("rootless"), help: "A config for an unprivileged user.")
    var rootless = false
    func run() throws {
        let path = bundle + "/config.json"
        if FileIO.exists(path) { throw RuntimeError("File \(path) exists. Remove it first") }
        let spec = Spec.defaultSpec(rootless: rootless, hostUID: getuid(), hostGID: getgid())
        // In the spec's own field order, as `runc spec` writes it.
        try FileIO.writeAtomic(path, Array((try JSONValueEncoder().encodeValue(spec).serialized(indent: 2) + "\n").utf8))
    }
}

struct FeaturesCommand: ParsableCommand {
    static let configuration = CommandConfiguration.sub("features", abstract: "Print the runtime's features as JSON.")
    func run() throws { try printJSON(Features.current()) }
}

struct Exec: ParsableCommand {
    static let configuration = CommandConfiguration.sub(abstract: "Run a new process inside a running container.")
    @Option(name: [.customLong("process"), .customShort("p")], help: "A process.json to run (overrides the rest).")
    var processFile: String?
    @Option(name: .customLong("console-socket"), help: "Unix socket that receives the pty master.")
    var consoleSocket: String?
    @Flag(name: [.customLong("tty"), .customShort("t")], help: "Allocate a pseudo-terminal.")
    var tty = false
    @Option(name: .customLong("cwd"), help: "Working directory in the container.")
    var cwd: String?
    @Option(name: [.customLong("env"), .customShort("e")], help: "KEY=VALUE to add (repeatable).")
    var env: [String] = []
    @Option(name: [.customLong("user"), .customShort("u")], help: "UID[:GID].")
    var user: String?
    @Option(name: [.customLong("additional-gids"), .customShort("g")], help: "Extra group id (repeatable).")
    var additionalGids: [UInt32] = []
    @Option(name: [.customLong("cap"), .customShort("c")], help: "Add a capability (repeatable).")
    var caps: [String] = []
    @Flag(name: .customLong("no-new-privs"), help: "Set no_new_privs.")
    var noNewPrivs = false
    @Option(name: .customLong("apparmor"), help: "AppArmor profile.")
    var apparmor: String?
    @Option(name: .customLong("process-label"), help: "SELinux process label.")
    var processLabel: String?
    @Flag(name: [.customLong("detach"), .customShort("d")], help: "Do not wait for the process.")
    var detach = false
    @Option(name: .customLong("pid-file"), help: "File to write the process's pid to.")
    var pidFile: String?
    @Option(name: .customLong("pidfd-socket"), help: "Unix socket that receives a pidfd of the process.")
    var pidfdSocket: String?
    @Option(name: .customLong("preserve-fds"), help: "Pass N extra fds to the process.")
    var preserveFDs: Int = 0
    @Option(name: .customLong("cgroup"), help: "Sub-cgroup to run in ([controller:]path).")
    var cgroup: [String] = []
    @Flag(name: .customLong("ignore-paused"), help: "Exec into a paused container; the process runs once it is resumed.")
    var ignorePaused = false
    @Argument var id: String
    @Argument(parsing: .postTerminator) var command: [String] = []

    func run() throws {
        try Self.perform(ExecRequest(
            processFile: processFile, consoleSocket: consoleSocket, tty: tty, cwd: cwd, env: env, user: user,
            additionalGids: additionalGids, caps: caps, noNewPrivs: noNewPrivs, apparmor: apparmor, processLabel: processLabel,
            detach: detach, pidFile: pidFile, pidfdSocket: pidfdSocket, preserveFDs: preserveFDs, cgroup: cgroup,
            ignorePaused: ignorePaused, id: id, command: command))
    }
}

/// `exec`'s options as plain values, from ArgumentParser or from FastCommands.
struct ExecRequest {
    var processFile: String?
    var consoleSocket: String?
    var tty = false
    var cwd: String?
    var env: [String] = []
    var user: String?
    var additionalGids: [UInt32] = []
    var caps: [String] = []
    var noNewPrivs = false
    var apparmor: String?
    var processLabel: String?
    var detach = false
    var pidFile: String?
    var pidfdSocket: String?
    var preserveFDs = 0
    var cgroup: [String] = []
    var ignorePaused = false
    var id: String
    var command: [String] = []
}

extension Exec {
    static func perform(_ r: ExecRequest) throws {
        let ctx = RuntimeEnvironment.context!
        var process: OCI.Process
        var config: Spec?
        if let processFile = r.processFile {
            let bytes = try FileIO.read(processFile)
            do { process = try OCI.Process.load(bytes) } catch { throw RuntimeError("\(processFile): \(error)") }
        } else {
            guard !r.command.isEmpty else { throw RuntimeError("exec: no command given (and no --process)") }
            let spec = try Container.config(id: r.id, ctx: ctx)
            config = spec
            process = Container.execProcess(config: spec, args: r.command)
            if r.tty { process.terminal = true }
            if let cwd = r.cwd { process.cwd = cwd }
            process.env = (process.env ?? []) + r.env
            if let user = r.user {
                let parts = user.split(separator: ":", maxSplits: 1)
                guard let uid = UInt32(parts[0]), parts.count == 1 || UInt32(parts[1]) != nil else {
                    throw RuntimeError("--user: want UID[:GID], got \"\(user)\"")
                }
                process.user.uid = uid
                process.user.gid = parts.count == 2 ? UInt32(parts[1]) ?? process.user.gid : process.user.gid
            }
            if !r.additionalGids.isEmpty { process.user.additionalGids = r.additionalGids }
            if !r.caps.isEmpty {
                var c = process.capabilities ?? Capabilities()
                c.bounding = (c.bounding ?? []) + r.caps
                c.effective = (c.effective ?? []) + r.caps
                c.permitted = (c.permitted ?? []) + r.caps
                c.ambient = (c.ambient ?? []) + r.caps
                process.capabilities = c
            }
            if r.noNewPrivs { process.noNewPrivileges = true }
            if r.apparmor != nil { process.apparmorProfile = r.apparmor }
            if r.processLabel != nil { process.selinuxLabel = r.processLabel }
        }
        var opts = ExecOptions(id: r.id, process: process)
        opts.config = config
        opts.detach = r.detach
        opts.pidFile = r.pidFile
        opts.consoleSocket = r.consoleSocket
        opts.pidfdSocket = r.pidfdSocket
        opts.ignorePaused = r.ignorePaused
        opts.preserveFDs = r.preserveFDs
        opts.subCgroups = try subCgroups(r.cgroup)
        let code = try Container.exec(opts, ctx: ctx)
        if code != 0 { throw ExitCodeError(code: code) }
    }
}

extension Exec {
    /// `--cgroup` as runc reads it: `controller[,controller]:path` (repeatable, cgroup v1), or a
    /// single plain path for every hierarchy.
    static func subCgroups(_ args: [String]) throws(RuntimeError) -> [String: String] {
        var paths: [String: String] = [:]
        for arg in args {
            guard let colon = arg.firstIndex(of: ":") else {
                guard args.count == 1 else { throw RuntimeError("invalid --cgroup argument: \(arg) (missing <controller>: prefix)") }
                paths[""] = arg
                continue
            }
            let path = String(arg[arg.index(after: colon)...])
            for controller in arg[..<colon].split(separator: ",", omittingEmptySubsequences: false) {
                if controller.isEmpty { throw RuntimeError("invalid --cgroup argument: \(arg) (empty <controller> prefix)") }
                if paths.updateValue(path, forKey: String(controller)) != nil {
                    throw RuntimeError("invalid --cgroup argument(s): controller \(controller) specified multiple times")
                }
            }
        }
        return paths
    }
}

struct Pause: ParsableCommand {
    static let configuration = CommandConfiguration.sub(abstract: "Freeze every process of a container.")
    @Argument var id: String
    func run() throws { try Container.pause(id: id, ctx: RuntimeEnvironment.context) }
}

struct Resume: ParsableCommand {
    static let configuration = CommandConfiguration.sub(abstract: "Thaw a paused container.")
    @Argument var id: String
    func run() throws { try Container.resume(id: id, ctx: RuntimeEnvironment.context) }
}

struct Ps: ParsableCommand {
    static let configuration = CommandConfiguration.sub(abstract: "List the processes of a container.")
    @Option(name: [.customLong("format"), .customShort("f")], help: "table (runs ps) or json (pids).")
    var format = "table"
    @Argument var id: String
    @Argument(parsing: .postTerminator, help: "Options passed to ps(1) (default -ef).") var psArgs: [String] = []
    func run() throws {
        let pids = try Container.pids(id: id, ctx: RuntimeEnvironment.context)
        switch format {
        case "json":
            try printJSON(pids, pretty: false)
        case "table":
            // Like runc: run ps on the host and keep the header plus the container's rows.
            let args = psArgs.isEmpty ? ["-ef"] : psArgs
            let (status, output) = captureOutput(["/bin/ps"] + args)
            guard status == 0 else { throw RuntimeError("ps \(args.joined(separator: " ")) failed: \(output)") }
            let lines = output.split(separator: "\n", omittingEmptySubsequences: false)
            guard let header = lines.first else { return }
            guard let pidColumn = header.split(separator: " ").firstIndex(of: "PID") else {
                throw RuntimeError("ps output has no PID column")
            }
            print(header)
            let wanted = Set(pids)
            for line in lines.dropFirst() {
                let fields = line.split(separator: " ")
                if fields.count > pidColumn, let pid = Int32(fields[pidColumn]), wanted.contains(pid) { print(line) }
            }
        default:
            throw RuntimeError("invalid format option: \(format) (want table or json)")
        }
    }
}

/// Runs a host command and returns its exit status and stdout.
func captureOutput(_ argv: [String]) -> (Int32, String) {
    guard let result = try? Spawn.capture(argv) else { return (-1, "cannot run \(argv[0])") }
    return (result.status.code, String(decoding: result.stdout, as: UTF8.self))
}

struct Update: ParsableCommand {
    static let configuration = CommandConfiguration.sub(abstract: "Change the resource limits of a running container.")
    @Option(name: [.customLong("resources"), .customShort("r")], help: "linux.resources JSON file, or - for stdin.")
    var resources: String?
    @Option(name: .customLong("memory"), help: "Memory limit (bytes, or with k/m/g).") var memory: String?
    @Option(name: .customLong("memory-reservation")) var memoryReservation: String?
    @Option(name: .customLong("memory-swap"), help: "Memory plus swap limit; -1 for unlimited.") var memorySwap: String?
    @Option(name: .customLong("kernel-memory"), help: "Accepted and ignored (removed from the kernel).") var kernelMemory: String?
    @Option(name: .customLong("kernel-memory-tcp"), help: "Accepted and ignored.") var kernelMemoryTCP: String?
    @Option(name: [.customLong("cpu-share"), .customLong("cpu-shares")], help: "CPU shares (runc spells it --cpu-share).")
    var cpuShares: UInt64?
    @Option(name: .customLong("cpu-quota")) var cpuQuota: Int64?
    @Option(name: .customLong("cpu-period")) var cpuPeriod: UInt64?
    @Option(name: .customLong("cpu-rt-runtime")) var cpuRtRuntime: Int64?
    @Option(name: .customLong("cpu-rt-period")) var cpuRtPeriod: UInt64?
    @Option(name: .customLong("cpuset-cpus")) var cpusetCpus: String?
    @Option(name: .customLong("cpuset-mems")) var cpusetMems: String?
    @Option(name: .customLong("pids-limit")) var pidsLimit: Int64?
    @Option(name: .customLong("blkio-weight")) var blkioWeight: UInt16?
    @Option(name: .customLong("cpu-burst"), help: "CPU burst (microseconds).") var cpuBurst: UInt64?
    @Option(name: .customLong("cpu-idle"), help: "1: the cgroup runs at SCHED_IDLE priority (cgroup v2).") var cpuIdle: Int64?
    @Argument var id: String

    func run() throws {
        var r = Resources()
        if let resources {
            let bytes = resources == "-" ? try readStdin() : try FileIO.read(resources)
            do { r = try JSONValueDecoder(basePath: "linux.resources").decode(Resources.self, from: bytes) } catch {
                throw RuntimeError("--resources: \(error)")
            }
        }
        func bytes(_ s: String?, _ flag: String) throws -> Int64? {
            guard let s else { return nil }
            guard let v = parseBytes(s) else { throw RuntimeError("--\(flag): invalid size \"\(s)\"") }
            return v
        }
        if let v = try bytes(memory, "memory") { r.memory = r.memory ?? Memory(); r.memory?.limit = v }
        if let v = try bytes(memoryReservation, "memory-reservation") { r.memory = r.memory ?? Memory(); r.memory?.reservation = v }
        if let v = try bytes(memorySwap, "memory-swap") { r.memory = r.memory ?? Memory(); r.memory?.swap = v }
        func cpu(_ f: (inout CPU) -> Void) { var c = r.cpu ?? CPU(); f(&c); r.cpu = c }
        if let v = cpuShares { cpu { $0.shares = v } }
        if let v = cpuQuota { cpu { $0.quota = v } }
        if let v = cpuPeriod { cpu { $0.period = v } }
        if let v = cpuRtRuntime { cpu { $0.realtimeRuntime = v } }
        if let v = cpuRtPeriod { cpu { $0.realtimePeriod = v } }
        if let v = cpusetCpus { cpu { $0.cpus = v } }
        if let v = cpusetMems { cpu { $0.mems = v } }
        if let v = cpuBurst { cpu { $0.burst = v } }
        if let v = cpuIdle { cpu { $0.idle = v } }
        if let v = pidsLimit { r.pids = Pids(limit: v) }
        if let v = blkioWeight { var b = r.blockIO ?? BlockIO(); b.weight = v; r.blockIO = b }
        try Container.update(id: id, resources: r, ctx: RuntimeEnvironment.context)
    }

    func readStdin() throws -> [UInt8] {
        var out = [UInt8]()
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(0, &buf, buf.count)
            if n <= 0 { break }
            out += buf[0..<n]
        }
        return out
    }
}

/// "1048576", "512k", "100m", "1g" (powers of 1024, as docker's units.RAMInBytes); "-1" stays -1.
func parseBytes(_ s: String) -> Int64? {
    let lower = s.lowercased().filter { $0 != "b" }
    if let v = Int64(lower) { return v }
    guard let unit = lower.last, let n = Double(lower.dropLast()) else { return nil }
    let mult: Double
    switch unit {
    case "k": mult = 1024
    case "m": mult = 1024 * 1024
    case "g": mult = 1024 * 1024 * 1024
    case "t": mult = 1024 * 1024 * 1024 * 1024
    default: return nil
    }
    return Int64(n * mult)
}

struct Events: ParsableCommand {
    static let configuration = CommandConfiguration.sub(abstract: "Print container stats and OOM events as JSON lines.")
    @Flag(name: .customLong("stats"), help: "Print one stats document and exit.")
    var stats = false
    @Option(name: .customLong("interval"), help: "Seconds between stats documents (runc's default 5s).")
    var interval: String = "5s"
    @Argument var id: String

    func run() throws {
        let ctx = RuntimeEnvironment.context!
        let cgroup = try Container.cgroup(id: id, ctx: ctx)
        if stats {
            try printJSON(ContainerEvent(type: "stats", id: id, data: cgroup.stats()), pretty: false)
            return
        }
        let text = interval.hasSuffix("ms") ? String(interval.dropLast(2)) : interval.hasSuffix("s") ? String(interval.dropLast()) : interval
        guard let value = Double(text), value > 0 else { throw RuntimeError("--interval: invalid duration \"\(interval)\"") }
        let seconds = interval.hasSuffix("ms") ? value / 1000 : value
        var ooms = cgroup.oomKills()
        while !Container.isStopped(id: id, ctx: ctx) {
            let now = cgroup.oomKills()
            if now > ooms { try printJSON(ContainerEvent(type: "oom", id: id, data: nil), pretty: false) }
            ooms = now
            try printJSON(ContainerEvent(type: "stats", id: id, data: cgroup.stats()), pretty: false)
            fflush(nil)
            usleep(UInt32(seconds * 1_000_000))
        }
    }
}

/// Clients (containerd, podman) probe these; without CRIU integration the honest answer is a
/// clear error, not "unknown command".
struct Checkpoint: ParsableCommand {
    static let configuration = CommandConfiguration.sub(abstract: "Not supported: swrunc has no CRIU integration.")
    @Argument(parsing: .allUnrecognized) var rest: [String] = []
    func run() throws { throw RuntimeError("checkpoint is not supported by swrunc (no CRIU integration)") }
}

struct Restore: ParsableCommand {
    static let configuration = CommandConfiguration.sub(abstract: "Not supported: swrunc has no CRIU integration.")
    @Argument(parsing: .allUnrecognized) var rest: [String] = []
    func run() throws { throw RuntimeError("restore is not supported by swrunc (no CRIU integration)") }
}
