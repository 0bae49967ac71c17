import ArgumentParser
import Containers
import Database

/// `exec`: a process in a running container; its exit status is exec's (126/127 when the
/// command cannot be run or does not exist).
struct Exec: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run a command in a running container.")
    @OptionGroup var global: Global
    @Flag(name: [.customShort("i"), .customLong("interactive")], help: "Keep stdin open.") var interactive = false
    @Flag(name: [.customShort("t"), .customLong("tty")], help: "Give the process a terminal.") var tty = false
    @Flag(name: [.customShort("d"), .customLong("detach")], help: "Run in the background.") var detach = false
    @Option(name: [.customShort("e"), .customLong("env")], help: "Set an environment variable.") var env: [String] = []
    @Option(name: [.customShort("u"), .customLong("user")], help: "user[:group] inside the container.") var user: String?
    @Option(name: [.customShort("w"), .customLong("workdir")], help: "Working directory.") var workdir: String?
    @Flag(help: "All capabilities for the process.") var privileged = false
    @Argument var container: String
    @Argument(parsing: .captureForPassthrough) var command: [String] = []

    func run() async throws {
        let manager = global.manager()
        manager.store.release()
        var request = ExecRequest(command: command)
        request.tty = tty
        request.interactive = interactive
        request.detach = detach
        request.env = env
        request.user = user
        request.workdir = workdir
        request.privileged = privileged
        let status: Int32
        do { status = try manager.exec(container, request) } catch {
            switch error.code {
            case .commandNotFound, .commandNotExecutable: fail(error, runLike: true)
            default: fail(error)
            }
        }
        throw ExitCode(status)
    }
}

/// `top`: the container's processes through ps.
struct Top: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a container's processes.")
    @OptionGroup var global: Global
    @Argument var container: String
    @Argument(parsing: .captureForPassthrough, help: "ps options (default -f).") var psArgs: [String] = []

    func run() async throws {
        do { print(try global.manager().top(container, psArgs: psArgs.isEmpty ? ["-f"] : psArgs), terminator: "") } catch {
            fail(error)
        }
    }
}
