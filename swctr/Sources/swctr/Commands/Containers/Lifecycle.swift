import ArgumentParser
import Containers
import Database
import Glibc

/// `start [-a] CONTAINER...`: under a new monitor; with -a attached as `run` is.
struct Start: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Start one or more stopped containers.")
    @OptionGroup var global: Global
    @Flag(name: [.customShort("a"), .customLong("attach")], help: "Attach to its output and exit with its status.")
    var attach = false
    @Flag(name: [.customShort("i"), .customLong("interactive")], help: "Attach stdin too.") var interactive = false
    @Argument var containers: [String]

    func run() async throws {
        let manager = global.manager()
        guard attach || interactive else {
            throw ExitCode(forEach(containers) { ref throws(SwctrError) in try manager.start(ref) })
        }
        guard containers.count == 1 else { fail("you cannot start and attach multiple containers at once") }
        let row: ContainerRow
        let started: StartedMonitor?
        do {
            row = try manager.find(containers[0])
            started = try manager.start(row.id, attach: true)
        } catch { fail(error) }
        guard let started else { fail("container \(containers[0]) is already running (swctr attach \(containers[0]))") }
        manager.store.release()
        let options = manager.config(of: row)
        var session = AttachSession(fd: started.attachFD, pending: started.pending, directory: manager.directory(row.id),
                                    interactive: interactive && options.openStdin, tty: options.tty, proxySignals: true)
        session.showStdout = options.attachStdout
        session.showStderr = options.attachStderr
        throw ExitCode(session.run().status)
    }
}

struct Stop: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Stop containers: the stop signal, then SIGKILL after a timeout.")
    @OptionGroup var global: Global
    @Option(name: [.customShort("t"), .customLong("time")], help: "Seconds to wait before SIGKILL (default: the container's, else 10).")
    var time: Int?
    @Argument var containers: [String]

    func run() async throws {
        let manager = global.manager()
        manager.store.release()
        throw ExitCode(forEach(containers) { ref throws(SwctrError) in try manager.stop(ref, timeout: time) })
    }
}

struct Kill: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Send a signal (default SIGKILL) to containers.")
    @OptionGroup var global: Global
    @Option(name: [.customShort("s"), .customLong("signal")], help: "Signal name or number.") var signal = "KILL"
    @Argument var containers: [String]

    func run() async throws {
        let manager = global.manager()
        let sig: Int32
        do { sig = try OptionParsing.signal(signal) } catch { fail(error) }
        throw ExitCode(forEach(containers) { ref throws(SwctrError) in try manager.kill(ref, signal: sig) })
    }
}

struct Restart: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Stop and start containers.")
    @OptionGroup var global: Global
    @Option(name: [.customShort("t"), .customLong("time")], help: "Seconds to wait before SIGKILL.") var time: Int?
    @Argument var containers: [String]

    func run() async throws {
        let manager = global.manager()
        throw ExitCode(forEach(containers) { ref throws(SwctrError) in try manager.restart(ref, timeout: time) })
    }
}

struct Pause: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Freeze every process of containers.")
    @OptionGroup var global: Global
    @Argument var containers: [String]

    func run() async throws {
        let manager = global.manager()
        throw ExitCode(forEach(containers) { ref throws(SwctrError) in try manager.pause(ref) })
    }
}

struct Unpause: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Thaw paused containers.")
    @OptionGroup var global: Global
    @Argument var containers: [String]

    func run() async throws {
        let manager = global.manager()
        throw ExitCode(forEach(containers) { ref throws(SwctrError) in try manager.unpause(ref) })
    }
}

struct Rm: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Remove containers.")
    @OptionGroup var global: Global
    @Flag(name: [.customShort("f"), .customLong("force")], help: "Kill a running container first.") var force = false
    @Flag(name: [.customShort("v"), .customLong("volumes")], help: "Remove its anonymous volumes too.") var volumes = false
    @Argument var containers: [String]

    func run() async throws {
        let manager = global.manager()
        throw ExitCode(forEach(containers) { ref throws(SwctrError) in try manager.remove(ref, force: force, volumes: volumes) })
    }
}

struct Rename: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Rename a container.")
    @OptionGroup var global: Global
    @Argument var container: String
    @Argument var name: String

    func run() async throws {
        do { try global.manager().rename(container, to: name) } catch { fail(error) }
    }
}

struct Wait: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Wait until containers stop; print their exit codes.")
    @OptionGroup var global: Global
    @Argument var containers: [String]

    func run() async throws {
        let manager = global.manager(needsRuntime: false)
        manager.store.release()
        var status: Int32 = 0
        for ref in containers {
            do { print(try manager.wait(ref)) } catch {
                writeStderr("swctr: \(error.message)\n")
                status = 1
            }
        }
        throw ExitCode(status)
    }
}

/// `attach`: this terminal to a running container's output (and stdin, when it was created with
/// -i) until it exits or the detach keys are typed.
struct Attach: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Attach to a running container.")
    @OptionGroup var global: Global
    @Option(name: .customLong("detach-keys"), help: "Keys that detach (default ctrl-p,ctrl-q).") var detachKeys: String?
    @Flag(name: .customLong("no-stdin"), help: "Do not attach stdin.") var noStdin = false
    @Option(name: .customLong("sig-proxy"), help: "Pass received signals to the container (default true).") var sigProxy = true
    @Argument var container: String

    func run() async throws {
        let manager = global.manager()
        let keys = detachKeys.map { DetachKeys.parse($0) } ?? DetachKeys.default
        guard let keys else { fail("invalid detach keys: \(detachKeys ?? "")") }
        let row: ContainerRow
        let connection: StartedMonitor
        do {
            row = try manager.find(container)
            connection = try manager.attach(row.id)
        } catch { fail(error) }
        manager.store.release()
        let options = manager.config(of: row)
        var session = AttachSession(fd: connection.attachFD, pending: connection.pending, directory: manager.directory(row.id),
                                    interactive: options.openStdin && !noStdin, tty: options.tty, proxySignals: sigProxy)
        session.detachKeys = keys
        throw ExitCode(session.run().status)
    }
}

extension AttachSession.Outcome {
    /// The CLI's status: the container's, 0 after a detach, 1 when the monitor was lost.
    var status: Int32 {
        switch self {
        case .exited(let code): code
        case .detached: 0
        case .lost: 1
        }
    }
}
