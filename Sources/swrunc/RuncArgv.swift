import Glibc
import Runtime

/// The global options (given before the subcommand, as runc's clients do).
struct GlobalOptions: Sendable {
    /// nil: the default, `RuncArgv.defaultRoot`.
    var root: String?
    var log: String?
    var logFormat = "text"
    var debug = false
    var systemdCgroup = false
    var rootless = "auto"
    var showVersion = false
    var showHelp = false
}

/// runc is a Go (urfave/cli) program and its clients speak that dialect: `-flag` as well as
/// `--flag`, `--flag=value`, `--bool=true`, and global flags before the subcommand. This turns
/// such an argv into what ArgumentParser expects; the parsing itself stays ArgumentParser's.
enum RuncArgv {
    /// An unprivileged user's containers live under $XDG_RUNTIME_DIR (runc's rule, which also
    /// counts root of a user namespace unless $USER says root); root's under /run.
    static func defaultRoot(rootless: Bool, inUserNamespace: Bool) -> String {
        guard rootless, let xdg = getenv("XDG_RUNTIME_DIR").map({ String(cString: $0) }), !xdg.isEmpty else {
            return "/run/swrunc"
        }
        let user = getenv("USER").map { String(cString: $0) }
        return geteuid() != 0 || (inUserNamespace && user != "root") ? xdg + "/swrunc" : "/run/swrunc"
    }

    static let globalValued: Set<String> = ["root", "log", "log-format", "rootless", "criu"]
    static let globalBools: Set<String> = ["debug", "systemd-cgroup", "version", "help", "h", "v"]
    /// Boolean flags of any subcommand: `--flag=true` becomes `--flag`, `--flag=false` is dropped.
    static let bools: Set<String> = ["detach", "d", "keep", "force", "f", "all", "a", "no-pivot", "no-new-keyring",
                                     "ignore-paused",
                                     "quiet", "q", "tty", "t", "no-new-privs", "stats", "no-subreaper"]

    static func split(_ argv: [String]) throws(RuntimeError) -> (GlobalOptions, [String]) {
        var globals = GlobalOptions()
        var i = 0
        while i < argv.count {
            let arg = argv[i]
            guard arg.hasPrefix("-"), arg != "-", arg != "--" else { break }
            var (name, value) = nameValue(arg)
            if globalValued.contains(name) {
                if value == nil {
                    i += 1
                    guard i < argv.count else { throw RuntimeError("flag needs an argument: --\(name)") }
                    value = argv[i]
                }
                switch name {
                case "root": globals.root = value!
                case "log": globals.log = value!
                case "log-format":
                    guard value == "text" || value == "json" else {
                        throw RuntimeError("--log-format: unknown format \"\(value!)\" (want text or json)")
                    }
                    globals.logFormat = value!
                case "rootless": globals.rootless = value!
                default: break  // --criu: accepted, checkpointing is not supported
                }
            } else if globalBools.contains(name) {
                let on = value.map { $0 == "true" || $0 == "1" } ?? true
                switch name {
                case "debug": globals.debug = on
                case "systemd-cgroup": globals.systemdCgroup = on
                case "version", "v": globals.showVersion = on
                default: globals.showHelp = on
                }
            } else {
                throw RuntimeError("flag provided but not defined: -\(name)")
            }
            i += 1
        }
        return (globals, normalize(Array(argv[i...])))
    }

    /// exec's options that take a value: needed to tell where the command to run begins.
    static let passthroughValued: [String: Set<String>] = ["ps": ["format", "f"], "exec": execValued]
    static let execValued: Set<String> = ["process", "p", "console-socket", "cwd", "env", "e", "user", "u",
                                          "additional-gids", "g", "cap", "c", "apparmor", "process-label",
                                          "pid-file", "preserve-fds", "cgroup", "pidfd-socket"]

    /// Rewrites one subcommand's arguments: flags only, up to the first positional argument
    /// after which (for `exec` and `run`'s command) everything passes through untouched.
    static func normalize(_ args: [String]) -> [String] {
        var out: [String] = []
        var i = 0
        var positionals = 0
        let subcommand = args.first
        let passthroughAfter = (subcommand == "exec" || subcommand == "ps") ? 2 : Int.max
        while i < args.count {
            let arg = args[i]
            if positionals >= passthroughAfter {
                out.append(contentsOf: (arg == "--" ? [] : ["--"]) + args[i...])
                break
            }
            if arg == "--" { out.append(contentsOf: args[i...]); break }
            if arg.hasPrefix("-") && arg.count > 1 && !isNumber(arg) {
                let (name, value) = nameValue(arg)
                if bools.contains(name), let value {
                    if value == "true" || value == "1" { out.append(flag(name)) }
                } else if name.count > 1 && !arg.hasPrefix("--") {
                    out.append("--" + arg.dropFirst())
                } else {
                    out.append(arg)
                }
                if let sub = subcommand, value == nil, passthroughValued[sub]?.contains(name) == true, i + 1 < args.count {
                    i += 1
                    out.append(args[i])
                } else if value == nil, !bools.contains(name), i + 1 < args.count, args[i + 1].hasPrefix("-"), isNumber(args[i + 1]) {
                    // `--memory -1`: a negative number is the option's value, not an option.
                    out[out.count - 1] += "=" + args[i + 1]
                    i += 1
                }
            } else {
                positionals += 1
                out.append(arg)
            }
            i += 1
        }
        return out
    }

    private static func flag(_ name: String) -> String { name.count == 1 ? "-" + name : "--" + name }

    private static func isNumber(_ s: String) -> Bool { Int(s) != nil }

    static func nameValue(_ arg: String) -> (String, String?) {
        var body = Substring(arg)
        while body.hasPrefix("-") { body = body.dropFirst() }
        if let eq = body.firstIndex(of: "=") {
            return (String(body[..<eq]), String(body[body.index(after: eq)...]))
        }
        return (String(body), nil)
    }
}
