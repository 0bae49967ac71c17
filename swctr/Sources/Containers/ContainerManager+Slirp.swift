import Database
import Glibc
import HostOS
import JSON
import Networks
import RuntimeClient

/// `--network slirp4netns`, the network of rootless containers (podman's default there): the
/// container gets a network namespace of its own whose tap0 is served by slirp4netns, a TCP/IP
/// stack in user space that turns the container's connections into the user's own sockets.
/// Published ports are its host forwards (added through its API socket). The namespace is a
/// file in the container's directory, bind-mounted by util-linux's unshare.
extension ContainerManager {
    /// The address slirp4netns --configure gives the container, and its DNS forwarder.
    static let slirpAddress = "10.0.2.100"
    static let slirpDNS = "10.0.2.3"

    func slirpPIDFile(_ id: String) -> String { directory(id) + "/slirp4netns.pid" }

    /// The API socket: in the user's runtime directory (a store path may be past sun_path's 108).
    func slirpSocket(_ id: String) -> String {
        ((try? RootlessNamespace.stateDirectory()) ?? "/tmp") + "/slirp-\(id.prefix(12)).sock"
    }

    func attachSlirp(_ row: ContainerRow, _ options: ContainerConfig) throws(SwctrError) {
        detachSlirp(row)
        guard let slirp = SwruncCLI.locate("slirp4netns", nextTo: nil) else {
            throw SwctrError(.notFound, "--network slirp4netns: slirp4netns not found (apt-get install slirp4netns), or use --network none or host")
        }
        // It opens the tun device as the user: Debian's udev makes /dev/net/tun 0666.
        guard access("/dev/net/tun", R_OK | W_OK) == 0 else {
            throw SwctrError(.failure, "--network slirp4netns: /dev/net/tun: \(String(cString: strerror(errno))) (it must be open to every user, mode 0666), or use --network none or host")
        }
        var options = options
        try reservePorts(row, &options)
        let ns = netnsPath(row.id)
        do {
            try FileIO.writeFile([], to: ns, mode: 0o600)
            let unshare = SwruncCLI.locate("unshare", nextTo: nil) ?? "/usr/bin/unshare"
            let r = try Spawn.capture([unshare, "--net=" + ns, Self.ipTool, "link", "set", "lo", "up"])
            guard r.status == .exited(0) else {
                throw SwctrError(.failure, "network namespace \(ns): \(String(decoding: r.stderr, as: UTF8.self).trimmed())")
            }
        } catch let e as SwctrError {
            unlink(ns)
            throw e
        } catch {
            unlink(ns)
            throw SwctrError(.failure, "network namespace \(ns): \(error)")
        }
        do throws(SwctrError) {
            try startSlirp(slirp, row: row, netns: ns)
            for p in options.ports ?? [] { try forward(p, row: row) }
        } catch {
            detachSlirp(row)
            throw error
        }
        var named = options
        if named.dns?.isEmpty ?? true { named.dns = [Self.slirpDNS] }
        writeNameFiles(row, named, networks: [], addresses: [Self.slirpAddress])
    }

    private func startSlirp(_ slirp: String, row: ContainerRow, netns: String) throws(SwctrError) {
        let ready: (Int32, Int32)
        do { ready = try ProcessControl.pipe() } catch { throw SwctrError(.failure, error.message) }
        defer { close(ready.0) }
        ProcessControl.setCloseOnExec(ready.1, false)
        let devnull = open("/dev/null", O_RDWR | O_CLOEXEC)
        let log = open(directory(row.id) + "/slirp4netns.log", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        defer { close(devnull); if log >= 0 { close(log) } }
        let socket = slirpSocket(row.id)
        unlink(socket)
        // --disable-host-loopback: the container cannot reach the host's 127.0.0.1 through
        // 10.0.2.2 (Docker rootless and podman's default).
        let argv = [slirp, "--configure", "--mtu=65520", "--disable-host-loopback", "--netns-type=path",
                    "--ready-fd=\(ready.1)", "--api-socket", socket, netns, "tap0"]
        let pid: pid_t
        do {
            pid = try Spawn.start(argv, Spawn.Options(stdin: devnull, stdout: log >= 0 ? log : devnull, stderr: log >= 0 ? log : devnull,
                                                      newSession: true))
        } catch {
            close(ready.1)
            throw SwctrError(.failure, "cannot run slirp4netns: \(error.message)")
        }
        close(ready.1)
        try? FileIO.writeFile(Array("\(pid)\n".utf8), to: slirpPIDFile(row.id), mode: 0o600)
        var pfd = pollfd(fd: ready.0, events: Int16(POLLIN), revents: 0)
        var byte: UInt8 = 0
        guard poll(&pfd, 1, 10_000) == 1, read(ready.0, &byte, 1) == 1 else {
            let said = ((try? FileIO.readString(directory(row.id) + "/slirp4netns.log")) ?? "").split(separator: "\n").last.map(String.init) ?? ""
            throw SwctrError(.failure, "slirp4netns did not start" + (said.isEmpty ? "" : ": \(said)"))
        }
    }

    /// One `-p` as a host forward: slirp4netns listens on the host side and connects to the
    /// container's port from inside the namespace.
    private func forward(_ p: PortMapping, row: ContainerRow) throws(SwctrError) {
        let shown = "\(p.hostIP.isEmpty ? "0.0.0.0" : p.hostIP):\(p.hostPort)"
        var args = JSONObject()
        args.set("proto", .string(p.proto))
        args.set("host_addr", .string(p.hostIP.isEmpty ? "0.0.0.0" : p.hostIP))
        args.set("host_port", .number(String(p.hostPort)))
        args.set("guest_port", .number(String(p.containerPort)))
        var request = JSONObject()
        request.set("execute", .string("add_hostfwd"))
        request.set("arguments", .object(args))
        let reply: [UInt8]
        do {
            let fd = try UnixSocket.connect(slirpSocket(row.id), what: "slirp4netns API socket")
            defer { close(fd) }
            try FileIO.writeAll(fd, Array(JSONValue.object(request).serialized().utf8), what: "slirp4netns API socket")
            _ = shutdown(fd, Int32(SHUT_WR))
            reply = try FileIO.readAll(fd, what: "slirp4netns API socket")
        } catch {
            throw SwctrError(.failure, "publish \(shown): \(error)")
        }
        guard case .object(let o)? = try? JSONParser.parse(reply), o["return"] != nil else {
            let text = String(decoding: reply, as: UTF8.self).trimmed()
            throw SwctrError(.conflict, "Bind for \(shown) failed: slirp4netns: \(Excerpt.line(text))")
        }
    }

    /// Ends the container's slirp4netns (by its recorded pid, only if it still is one) and
    /// removes its namespace file and socket.
    func detachSlirp(_ row: ContainerRow) {
        if let text = try? FileIO.readString(slirpPIDFile(row.id)), let pid = Int32(text.trimmed()), pid > 1,
           let cmdline = try? FileIO.readString("/proc/\(pid)/cmdline"), cmdline.contains("slirp4netns"),
           cmdline.contains(netnsPath(row.id)) {
            Glibc.kill(pid, SIGTERM)
            waitForExit(pid: pid, timeoutMs: 2_000)
        }
        unlink(slirpPIDFile(row.id))
        unlink(slirpSocket(row.id))
        let ns = netnsPath(row.id)
        while umount2(ns, Int32(MNT_DETACH)) == 0 {}
        unlink(ns)
    }
}
