import ArgumentParser
import Containers
import Database
import Glibc
import HostOS
import RuntimeClient
import SwctrStart

// swctr: images and containers above swrunc, daemonless. Pulls talk to registries over HTTP(S)
// (AsyncHTTPClient); the store is content-addressed with SQLite records (GRDB); containers are
// overlay mounts of the image's layers run by swrunc through its CLI.

@main
struct Swctr: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swctr", abstract: "Docker's workflow without a daemon: images from registries, containers run by swrunc.",
        subcommands: [
            // containers
            Run.self, Create.self, Start.self, Stop.self, Kill.self, Restart.self, Pause.self, Unpause.self,
            Rm.self, Rename.self, Wait.self, Attach.self, Ps.self, Logs.self, Exec.self, Top.self, Stats.self, Inspect.self, Cp.self, Diff.self, Export.self, Commit.self,
            ContainerGroup.self,
            // images
            Pull.self, Push.self, BuildCommand.self, BuilderCommand.self, Images.self, Rmi.self, Tag.self, History.self, Save.self, Load.self, Login.self, Logout.self,
            Port.self, ImageGroup.self, Volume.self, Network.self, System.self, Version.self, Info.self, ComposeCommand.self,
        ])

    /// Groups whose verb is two words (`container prune`): global options go behind both.
    static let groups: Set<String> = ["container", "system", "image", "volume", "network", "builder", "compose"]

    static func main() async {
        let args = reorder(Array(CommandLine.arguments.dropFirst()))
        // A foreground run passes the signals it gets to the container: from the start they are
        // caught (and queued on a pipe), so none of them kills swctr before it is attached.
        let verb = args.first == "container" ? args.dropFirst().first : args.first
        enterRootlessNamespace(verb: verb)
        if verb == "run" || verb == "start" || verb == "attach" { AttachSession.signalPipe = try? SignalPipe.install(AttachSession.forwardedSignals) }
        await main(args)
    }

    /// Why this unprivileged user's command runs outside its rootless namespace (container
    /// commands then fail with this reason; image commands work the same without it).
    nonisolated(unsafe) static var rootlessFailure: String?

    /// An unprivileged user's command goes into the user's namespaces (see RootlessNamespace)
    /// before anything else happens; help and version need none. The constructor in SwctrStart
    /// has already joined them when this is the re-executed command.
    static func enterRootlessNamespace(verb: String?) {
        let joined = swctr_userns_joined()
        if joined < 0 {
            rootlessFailure = "cannot join the rootless namespace: \(String(cString: strerror(-joined)))"
            return
        }
        guard joined == 0, geteuid() != 0 else { return }
        guard let verb, !["-h", "--help", "help", "version", "--version", "login", "logout"].contains(verb) else { return }
        let me = Global.executable
        do throws(SwctrError) {
            try RootlessNamespace.reexecute(CommandLine.arguments, monitor: SwruncCLI.locate("swctr-monitor", nextTo: me))
        } catch {
            rootlessFailure = error.message
        }
    }

    /// `swctr --root R run …` as `swctr run --root R …`: the global options the user (or the
    /// monitor's exit command) put before the verb move behind it, where every command reads them.
    static func reorder(_ args: [String]) -> [String] {
        var globals: [String] = []
        var i = 0
        while i < args.count, args[i].hasPrefix("--") {
            let name = String(args[i].prefix { $0 != "=" })
            guard Global.valueOptions.contains(name) else { break }
            if args[i].contains("=") {
                globals.append(args[i])
                i += 1
            } else {
                globals += args[i..<min(i + 2, args.count)]
                i += 2
            }
        }
        let rest = composeOptionsBehindVerb(Array(args[i...]))
        guard !globals.isEmpty, !rest.isEmpty else { return rest.isEmpty ? args : Array(args[..<i]) + rest }
        var verb = [rest[0]]
        if groups.contains(rest[0]), rest.count > 1, !rest[1].hasPrefix("-") { verb.append(rest[1]) }
        return verb + globals + Array(rest[verb.count...])
    }

    /// `compose -f a.yml -p x up -d` as `compose up -f a.yml -p x -d`: Docker Compose's
    /// project options go before the compose verb; each verb reads them.
    static func composeOptionsBehindVerb(_ args: [String]) -> [String] {
        guard args.first == "compose" else { return args }
        var moved: [String] = []
        var i = 1
        while i < args.count, args[i].hasPrefix("-") {
            let name = String(args[i].prefix { $0 != "=" })
            guard ComposeCommand.valueOptions.contains(name) || Global.valueOptions.contains(name) else { break }
            // Short names become long ones: behind the verb, -f and -p are the verb's own.
            let long = ["-f": "--file", "-p": "--project-name"][name] ?? name
            if args[i].contains("=") {
                moved.append(long + String(args[i].drop { $0 != "=" }))
                i += 1
            } else {
                moved += [long] + args[min(i + 1, args.count)..<min(i + 2, args.count)]
                i += 2
            }
        }
        guard !moved.isEmpty, i < args.count else { return args }
        return ["compose", args[i]] + moved + Array(args[(i + 1)...])
    }
}
