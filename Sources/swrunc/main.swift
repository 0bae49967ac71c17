import JSON
import HostOS
import Glibc
import ArgumentParser
import OCI
import Runtime
import SwruncStart
import SealedExe

// swrunc is synchronous on purpose: the container bootstrap forks, which is only safe while
// the process has a single thread. No Dispatch, no async main.

let version = "0.1.0"

// A hook or client that goes away must produce EPIPE, not kill the runtime mid-operation. Every
// program swrunc starts gets the default disposition back (ContainerInit.exec, HookRunner).
signal(SIGPIPE, SIG_IGN)

let argv = Array(CommandLine.arguments.dropFirst())
let globals: GlobalOptions
let rest: [String]
do {
    (globals, rest) = try RuncArgv.split(argv)
} catch {
    printError(error.message)
    exit(1)
}
// A command that enters a container must not be running the host's binary: the start code
// re-executed from a sealed copy before main; make sure it did.
let sealedCommands: Set<String> = {
    var commands = Set<String>()
    var entry = sealed_exe_commands()
    while let name = entry?.pointee { commands.insert(String(cString: name)); entry = entry?.advanced(by: 1) }
    return commands
}()
do {
    try SealedExecutable.verify(command: rest.first, commands: sealedCommands, failure: swrunc_sealed_exe_error())
} catch {
    printError(error.message)
    exit(1)
}
if globals.showVersion {
    print("swrunc version \(version)\ncommit: v\(version)\nspec: 1.2.0\nlibseccomp: \(Features.seccompVersion())")
    exit(0)
}
let logger = Logger(path: globals.log, format: globals.logFormat == "json" ? .json : .text, debug: globals.debug)
if let bad = logger.openError {
    printError(bad)
    exit(1)
}
logger.debug("swrunc \(argv.joined(separator: " "))")
if logger.debugEnabled {
    for line in SealedExecutable.debugLines(command: rest.first, commands: sealedCommands) { logger.debug(line) }
}
if let trace = getenv("SWRUNC_TRACE").map({ String(cString: $0) }), !trace.isEmpty {
    // Records every invocation (clients' exact command lines) for integration tests.
    Logger(path: trace, format: .text, debug: true).log("info", "argv: \(argv.joined(separator: " "))")
}
// `--rootless auto` (the default): not root, or root of a user namespace (podman runs its
// runtime so for an unprivileged user) — runc's rule. The uid map is read once, here.
let inUserNamespace = UserNamespace.isNested
let rootless = globals.rootless == "true" || (globals.rootless == "auto" && (geteuid() != 0 || inUserNamespace))
let context = RuntimeContext(root: globals.root ?? RuncArgv.defaultRoot(rootless: rootless, inUserNamespace: inUserNamespace),
                             logger: logger, systemdCgroup: globals.systemdCgroup, rootless: rootless,
                             inUserNamespace: inUserNamespace)
RuntimeEnvironment.context = context

if let status = Help.handle(rootHelp: globals.showHelp, rest: rest) { exit(status) }
var subject: String?
do {
    if let command = FastCommands.parse(rest) {
        subject = command.id
        try command.run()
    } else {
        var command = try parseCommand(rest)
        subject = (command as? any ContainerCommand)?.id
        try command.run()
    }
} catch let error as RuntimeError {
    fail(subject.map { error.about(id: $0) } ?? error)
} catch let error as ExitCodeError {
    exit(error.code)
} catch {
    let code = SwruncCommand.exitCode(for: error)
    if code == .success {
        SwruncCommand.exit(withError: error)
    }
    fail(RuntimeError(SwruncCommand.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"))
}

/// The named subcommand parsed alone; help, aliases and unknown names go through the full tree.
func parseCommand(_ rest: [String]) throws -> any ParsableCommand {
    if let name = rest.first, let entry = SwruncCommand.byName.first(where: { $0.name == name }) {
        do {
            return try entry.type.parse(Array(rest.dropFirst()))
        } catch {
            // --help and friends: the subcommand's own help, not the root's.
            if entry.type.exitCode(for: error) == .success { entry.type.exit(withError: error) }
            throw error
        }
    }
    return try SwruncCommand.parseAsRoot(rest)
}

/// Every error ends here: one stderr line in runc's words, and the same error with its parts
/// (errno, stage, config field, path, container id) as one `--log` line.
func fail(_ error: RuntimeError) -> Never {
    let line = Excerpt.line(error.message)
    logger.log("error", line, error: error)
    printError(line)
    // runc's convention: `exec` leaves 1…254 to the process it ran and fails with 255 itself.
    exit(rest.first == "exec" ? 255 : 1)
}

/// Every error is one line, whatever the config held (newlines in a cgroupsPath, a 60 KB arg).
func printError(_ message: String) {
    let line = "swrunc: \(Excerpt.line(message))\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
}
