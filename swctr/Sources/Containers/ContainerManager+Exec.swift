import Database
import Glibc
import HostOS
import JSON
import OCI
import RuntimeClient

/// `exec`'s options.
public struct ExecRequest: Sendable {
    public var command: [String]
    public var tty = false
    public var interactive = false
    public var detach = false
    public var env: [String] = []
    public var user: String?
    public var workdir: String?
    public var privileged = false

    public init(command: [String]) { self.command = command }
}

extension ContainerManager {
    /// A process in a running container: the container's own process settings with exec's
    /// overrides; its exit status unless detached.
    public func exec(_ ref: String, _ request: ExecRequest) throws(SwctrError) -> Int32 {
        let row = try find(ref)
        let v = view(row)
        switch v.status {
        case .running: break
        case .paused: throw SwctrError(.conflict, "Container \(row.id) is paused, unpause the container before exec")
        default: throw SwctrError(.conflict, "Container \(row.id) is not running")
        }
        guard !request.command.isEmpty else { throw SwctrError(.invalidArgument, "exec: no command given") }
        let dir = directory(row.id)
        let spec: Spec
        do { spec = try JSONValueDecoder().decode(Spec.self, from: try FileIO.read(dir + "/config.json")) } catch {
            throw SwctrError(.failure, "read \(dir)/config.json: \(error)")
        }
        var process = spec.process ?? OCI.Process()
        process.args = request.command
        process.terminal = request.tty
        process.consoleSize = nil
        var env = process.env ?? []
        for e in OptionParsing.environment(request.env) {
            let key = e.prefix { $0 != "=" }
            env.removeAll { $0.prefix { $0 != "=" } == key }
            env.append(e)
        }
        process.env = env
        if let w = request.workdir, !w.isEmpty { process.cwd = w }
        if let u = request.user {
            let root = rootfs(row.id)
            process.user = try UserSpec.resolve(u, passwd: RootedPath.read("/etc/passwd", in: root).map { String(decoding: $0, as: UTF8.self) },
                                                group: RootedPath.read("/etc/group", in: root).map { String(decoding: $0, as: UTF8.self) })
        }
        if request.privileged {
            let all = SpecBuilder.allCapabilities
            process.capabilities = Capabilities(bounding: all, effective: all, inheritable: [], permitted: all, ambient: [])
        }
        let file = dir + "/exec-\(UInt32.random(in: 0...UInt32.max)).json"
        do { try FileIO.writeFile(try JSONValueEncoder().encode(process), to: file, mode: 0o600) } catch {
            throw SwctrError(.failure, "write \(file): \(error)")
        }
        defer { unlink(file) }
        let devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { close(devnull) }
        let stdio = RuntimeStdio(stdin: request.interactive || request.tty ? nil : devnull)
        do {
            return try runtime.exec(row.id, processFile: file, tty: request.tty, detach: request.detach, pidFile: nil, stdio: stdio)
        } catch {
            throw Self.translate(error)
        }
    }

    /// `attach`: a connection to a running container's monitor (its output from now on, its
    /// stdin when it was created with -i).
    public func attach(_ ref: String) throws(SwctrError) -> StartedMonitor {
        let row = try find(ref)
        let v = view(row)
        guard v.isRunning else { throw SwctrError(.conflict, "You cannot attach to a stopped container, start it first") }
        guard v.status != .paused else { throw SwctrError(.conflict, "You cannot attach to a paused container, unpause it first") }
        guard let connection = MonitorClient.attach(directory(row.id)) else {
            throw SwctrError(.failure, "cannot attach to \(ref): its monitor is gone (stop and start it again)")
        }
        return StartedMonitor(pid: v.state.monitorPid, attachFD: connection.fd, pending: connection.pending)
    }

    /// `top`: the container's processes as `ps -f` shows them.
    public func top(_ ref: String, psArgs: [String] = ["-f"]) throws(SwctrError) -> String {
        let row = try find(ref)
        guard view(row).isRunning else { throw SwctrError(.conflict, "Container \(row.id) is not running") }
        let pids: [Int32]
        do { pids = try runtime.processes(row.id) } catch { throw Self.translate(error) }
        guard !pids.isEmpty else { return "" }
        guard let r = try? Spawn.capture(["/bin/ps"] + psArgs + ["-p", pids.map(String.init).joined(separator: ",")]) else {
            throw SwctrError(.failure, "cannot run ps")
        }
        return String(decoding: r.stdout, as: UTF8.self)
    }
}
