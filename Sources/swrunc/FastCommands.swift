import Runtime

/// The lifecycle commands clients call for every container — create, start, state, kill,
/// delete, run, exec, pause, resume — read without ArgumentParser when their arguments are plain.
/// ArgumentParser builds its view of a command by reflecting over the command's properties,
/// which costs a third of `state`'s CPU time in runtime type lookups (bench/HISTORY.md). Only
/// argument lists this reader fully understands are taken here; anything else (help, a flag it
/// does not know, a missing or extra argument, a value that is not a number) returns nil and
/// goes through ArgumentParser, so its messages stay the only ones users see.
enum FastCommands {
    static func parse(_ rest: [String]) -> ParsedCommand? {
        guard let name = rest.first else { return nil }
        let args = Array(rest.dropFirst())
        switch name {
        case "state", "start", "pause", "resume":
            guard let a = Scan(args), a.positionals.count == 1, a.values.isEmpty, a.flags.isEmpty else { return nil }
            let id = a.positionals[0]
            switch name {
            case "state": return ParsedCommand(id: id) { try State.perform(id: id) }
            case "start": return ParsedCommand(id: id) { try Container.start(id: id, ctx: RuntimeEnvironment.context) }
            case "pause": return ParsedCommand(id: id) { try Container.pause(id: id, ctx: RuntimeEnvironment.context) }
            default: return ParsedCommand(id: id) { try Container.resume(id: id, ctx: RuntimeEnvironment.context) }
            }
        case "kill":
            guard let a = Scan(args, flags: ["all": "all", "a": "all"]), (1...2).contains(a.positionals.count), a.values.isEmpty else { return nil }
            let (id, signal, all) = (a.positionals[0], a.positionals.count > 1 ? a.positionals[1] : "SIGTERM", a.flags.contains("all"))
            return ParsedCommand(id: id) { try Kill.perform(id: id, signal: signal, all: all) }
        case "delete":
            guard let a = Scan(args, flags: ["force": "force", "f": "force"]), !a.positionals.isEmpty, a.values.isEmpty else { return nil }
            let (ids, force) = (a.positionals, a.flags.contains("force"))
            return ParsedCommand(id: nil) { try Delete.perform(ids: ids, force: force) }
        case "create":
            guard let a = Scan(args, valued: BundleOptions.valued, flags: BundleOptions.flags), a.positionals.count == 1,
                  let options = createOptions(a) else { return nil }
            return ParsedCommand(id: options.id) { try Create.perform(options) }
        case "run":
            let flags = BundleOptions.flags.merging(["detach": "detach", "d": "detach", "keep": "keep", "no-subreaper": "no-subreaper"]) { a, _ in a }
            guard let a = Scan(args, valued: BundleOptions.valued, flags: flags), a.positionals.count == 1,
                  let options = createOptions(a) else { return nil }
            let (detach, keep) = (a.flags.contains("detach"), a.flags.contains("keep"))
            return ParsedCommand(id: options.id) { try Run.perform(options, detach: detach, keep: keep) }
        case "exec":
            guard let a = Scan(args, valued: execValued, flags: execFlags, repeatable: execRepeatable, commandAfter: 1),
                  a.positionals.count == 1, let request = execRequest(a) else { return nil }
            return ParsedCommand(id: request.id) { try Exec.perform(request) }
        default:
            return nil
        }
    }

    static let execValued = ["process": "process", "p": "process", "console-socket": "console-socket", "cwd": "cwd",
                             "user": "user", "u": "user", "apparmor": "apparmor", "process-label": "process-label",
                             "pid-file": "pid-file", "pidfd-socket": "pidfd-socket", "preserve-fds": "preserve-fds"]
    static let execFlags = ["tty": "tty", "t": "tty", "no-new-privs": "no-new-privs", "detach": "detach", "d": "detach",
                            "ignore-paused": "ignore-paused"]
    static let execRepeatable = ["env": "env", "e": "env", "additional-gids": "additional-gids", "g": "additional-gids",
                                 "cap": "cap", "c": "cap", "cgroup": "cgroup"]

    /// exec's request, as ArgumentParser would have filled it; nil where a number does not read.
    static func execRequest(_ a: Scan) -> ExecRequest? {
        var r = ExecRequest(id: a.positionals[0], command: a.command)
        r.processFile = a.values["process"]
        r.consoleSocket = a.values["console-socket"]
        r.cwd = a.values["cwd"]
        r.user = a.values["user"]
        r.apparmor = a.values["apparmor"]
        r.processLabel = a.values["process-label"]
        r.pidFile = a.values["pid-file"]
        r.pidfdSocket = a.values["pidfd-socket"]
        r.tty = a.flags.contains("tty")
        r.noNewPrivs = a.flags.contains("no-new-privs")
        r.detach = a.flags.contains("detach")
        r.ignorePaused = a.flags.contains("ignore-paused")
        r.env = a.lists["env"] ?? []
        r.caps = a.lists["cap"] ?? []
        r.cgroup = a.lists["cgroup"] ?? []
        if let n = a.values["preserve-fds"] {
            guard let count = Int(n) else { return nil }
            r.preserveFDs = count
        }
        for g in a.lists["additional-gids"] ?? [] {
            guard let gid = UInt32(g) else { return nil }
            r.additionalGids.append(gid)
        }
        return r
    }

    /// BundleOptions' values, as ArgumentParser would have set them; nil for a non-numeric
    /// --preserve-fds (ArgumentParser words that error).
    static func createOptions(_ a: Scan) -> CreateOptions? {
        var o = CreateOptions(id: a.positionals[0], bundle: a.values["bundle"] ?? ".")
        o.pidFile = a.values["pid-file"]
        o.consoleSocket = a.values["console-socket"]
        o.pidfdSocket = a.values["pidfd-socket"]
        o.noPivot = a.flags.contains("no-pivot")
        o.noNewKeyring = a.flags.contains("no-new-keyring")
        if let n = a.values["preserve-fds"] {
            guard let count = Int(n) else { return nil }
            o.preserveFDs = count
        }
        return o
    }

    /// One pass over a subcommand's arguments (already normalised by RuncArgv): options by any of
    /// their spellings (`--name value`, `--name=value`, `-n value`), flags, positionals in order.
    /// nil when anything is not one of those — a repeated single option, an unknown one, a value
    /// missing at the end.
    struct Scan {
        var values: [String: String] = [:]
        var lists: [String: [String]] = [:]
        var flags: Set<String> = []
        var positionals: [String] = []
        /// What follows `--` (exec's command).
        var command: [String] = []

        /// `repeatable`: options that may be given several times, collected in order.
        /// `commandAfter`: the number of positionals after which `--` starts a command (exec's);
        /// without it `--` is not accepted.
        init?(_ args: [String], valued: [String: String] = [:], flags known: [String: String] = [:],
              repeatable: [String: String] = [:], commandAfter: Int? = nil) {
            var i = 0
            while i < args.count {
                let arg = args[i]
                i += 1
                if arg == "--" {
                    guard let commandAfter, positionals.count == commandAfter else { return nil }
                    command = Array(args[i...])
                    break
                }
                guard arg.hasPrefix("-"), arg.count > 1 else { positionals.append(arg); continue }
                let (name, inline) = RuncArgv.nameValue(arg)
                // A single dash takes only one-letter names.
                guard arg.hasPrefix("--") ? name.count > 1 : name.count == 1 else { return nil }
                if let key = known[name], inline == nil {
                    flags.insert(key)
                    continue
                }
                let key: String
                if let k = valued[name], values[k] == nil { key = k } else if let k = repeatable[name] { key = k } else { return nil }
                var value: String
                if let inline {
                    value = inline
                } else {
                    guard i < args.count else { return nil }
                    value = args[i]
                    i += 1
                }
                if repeatable[name] != nil { lists[key, default: []].append(value) } else { values[key] = value }
            }
        }
    }
}
