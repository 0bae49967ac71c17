import Runtime

/// The lifecycle commands clients call for every container — create, start, state, kill,
/// delete, run, pause, resume — read without ArgumentParser when their arguments are plain.
/// ArgumentParser builds its view of a command by reflecting over the command's properties,
/// which costs a third of `state`'s CPU time in runtime type lookups (bench/HISTORY.md). Only
/// argument lists this reader fully understands are taken here; anything else (help, a flag it
/// does not know, a missing or extra argument, a value that is not a number) returns nil and
/// goes through ArgumentParser, so its messages stay the only ones users see.
enum FastCommands {
    static func parse(_ rest: [String]) -> (() throws -> Void)? {
        guard let name = rest.first else { return nil }
        let args = Array(rest.dropFirst())
        switch name {
        case "state", "start", "pause", "resume":
            guard let a = Scan(args), a.positionals.count == 1, a.values.isEmpty, a.flags.isEmpty else { return nil }
            let id = a.positionals[0]
            switch name {
            case "state": return { try State.perform(id: id) }
            case "start": return { try Container.start(id: id, ctx: RuntimeEnvironment.context) }
            case "pause": return { try Container.pause(id: id, ctx: RuntimeEnvironment.context) }
            default: return { try Container.resume(id: id, ctx: RuntimeEnvironment.context) }
            }
        case "kill":
            guard let a = Scan(args, flags: ["all": "all", "a": "all"]), (1...2).contains(a.positionals.count), a.values.isEmpty else { return nil }
            let (id, signal, all) = (a.positionals[0], a.positionals.count > 1 ? a.positionals[1] : "SIGTERM", a.flags.contains("all"))
            return { try Kill.perform(id: id, signal: signal, all: all) }
        case "delete":
            guard let a = Scan(args, flags: ["force": "force", "f": "force"]), !a.positionals.isEmpty, a.values.isEmpty else { return nil }
            let (ids, force) = (a.positionals, a.flags.contains("force"))
            return { try Delete.perform(ids: ids, force: force) }
        case "create":
            guard let a = Scan(args, valued: BundleOptions.valued, flags: BundleOptions.flags), a.positionals.count == 1,
                  let options = createOptions(a) else { return nil }
            return { try Create.perform(options) }
        case "run":
            let flags = BundleOptions.flags.merging(["detach": "detach", "d": "detach", "keep": "keep", "no-subreaper": "no-subreaper"]) { a, _ in a }
            guard let a = Scan(args, valued: BundleOptions.valued, flags: flags), a.positionals.count == 1,
                  let options = createOptions(a) else { return nil }
            let (detach, keep) = (a.flags.contains("detach"), a.flags.contains("keep"))
            return { try Run.perform(options, detach: detach, keep: keep) }
        default:
            return nil
        }
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
    /// nil when anything is not one of those — a repeated option, an unknown one, `--`, a value
    /// missing at the end.
    struct Scan {
        var values: [String: String] = [:]
        var flags: Set<String> = []
        var positionals: [String] = []

        init?(_ args: [String], valued: [String: String] = [:], flags known: [String: String] = [:]) {
            var i = 0
            while i < args.count {
                let arg = args[i]
                i += 1
                guard arg.hasPrefix("-"), arg.count > 1 else { positionals.append(arg); continue }
                let (name, inline) = RuncArgv.nameValue(arg)
                // A single dash takes only one-letter names; `--` ends options (not expected here).
                guard arg.hasPrefix("--") ? name.count > 1 : name.count == 1 else { return nil }
                if let key = known[name], inline == nil {
                    flags.insert(key)
                } else if let key = valued[name], values[key] == nil {
                    if let inline {
                        values[key] = inline
                    } else {
                        guard i < args.count else { return nil }
                        values[key] = args[i]
                        i += 1
                    }
                } else {
                    return nil
                }
            }
        }
    }
}
