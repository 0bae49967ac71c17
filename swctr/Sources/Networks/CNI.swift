import Database
import Glibc
import HostOS
import JSON

/// The CNI plugins run as the spec says: one process per plugin of a conflist, the operation in
/// CNI_* variables, the plugin's configuration (with `runtimeConfig` for the capabilities it
/// declares and the previous plugin's `prevResult`) on stdin, the result or an error on stdout.
public enum CNI {
    public static let pluginDirectories = ["/usr/lib/cni", "/opt/cni/bin", "/usr/libexec/cni"]
    public static let version = "0.4.0"

    /// One container's attachment: what ADD, CHECK and DEL are called with.
    public struct Attachment: Sendable {
        public var containerID: String
        public var netns: String
        public var ifname = "eth0"
        /// CNI_ARGS, e.g. the container's name for the dnsname plugin.
        public var args: String
        /// Capability arguments (portMappings, aliases), given to plugins that declare them.
        public var runtimeConfig: JSONObject

        public init(containerID: String, netns: String, args: String, runtimeConfig: JSONObject) {
            self.containerID = containerID
            self.netns = netns
            self.args = args
            self.runtimeConfig = runtimeConfig
        }
    }

    /// ADD through every plugin in order; the last plugin's result.
    public static func add(_ conflist: JSONObject, _ a: Attachment) throws(SwctrError) -> JSONValue {
        var previous: JSONValue?
        for plugin in plugins(conflist) {
            previous = try invoke("ADD", plugin, conflist, a, previous: previous) ?? previous
        }
        return previous ?? .object(JSONObject())
    }

    /// DEL in reverse order, each with the ADD result; goes on past failures and reports the first.
    public static func del(_ conflist: JSONObject, _ a: Attachment, result: JSONValue?) throws(SwctrError) {
        var first: SwctrError?
        for plugin in plugins(conflist).reversed() {
            do { _ = try invoke("DEL", plugin, conflist, a, previous: result) } catch { first = first ?? error }
        }
        if let first { throw first }
    }

    static func plugins(_ conflist: JSONObject) -> [JSONObject] {
        guard case .array(let list)? = conflist["plugins"] else { return [] }
        return list.compactMap { if case .object(let o) = $0 { o } else { nil } }
    }

    static func invoke(_ command: String, _ plugin: JSONObject, _ conflist: JSONObject, _ a: Attachment,
                       previous: JSONValue?) throws(SwctrError) -> JSONValue? {
        guard case .string(let type)? = plugin["type"] else { throw SwctrError(.invalidArgument, "a CNI plugin entry has no type") }
        let candidates: [String] = pluginDirectories.map { dir in dir + "/" + type }
        guard let binary = candidates.first(where: { path in access(path, X_OK) == 0 }) else {
            throw SwctrError(.notFound, "CNI plugin \(type) not found in \(pluginDirectories.joined(separator: ", ")) (apt-get install containernetworking-plugins)")
        }
        var conf = JSONObject()
        conf.set("cniVersion", conflist["cniVersion"] ?? .string(version))
        conf.set("name", conflist["name"] ?? .string(""))
        for (k, v) in zip(plugin.keys, plugin.values) where k != "capabilities" { conf.set(k, v) }
        if case .object(let caps)? = plugin["capabilities"] {
            var rc = JSONObject()
            for (k, v) in zip(caps.keys, caps.values) where v == .bool(true) {
                if let arg = a.runtimeConfig[k] { rc.set(k, arg) }
            }
            if rc.count > 0 { conf.set("runtimeConfig", .object(rc)) }
        }
        if let previous { conf.set("prevResult", previous) }
        let env = ["CNI_COMMAND=\(command)", "CNI_CONTAINERID=\(a.containerID)", "CNI_NETNS=\(a.netns)", "CNI_IFNAME=\(a.ifname)",
                   "CNI_ARGS=\(a.args)", "CNI_PATH=\(pluginDirectories.joined(separator: ":"))",
                   "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
        let input = Array(JSONValue.object(conf).serialized().utf8)
        let r: (status: Spawn.Status, stdout: [UInt8], stderr: [UInt8])
        // Plugins that make firewall chains race each other doing it ("Chain already exists"
        // when two containers start at once): their ADDs run one at a time on the host (a DEL
        // only removes what its ADD made; iptables -w serialises the writes themselves).
        let lock = command == "ADD" && firewallPlugins.contains(type) ? hostLock() : -1
        defer { if lock >= 0 { close(lock) } }
        do throws(SystemError) { r = try Spawn.capture([binary], stdin: input, environment: env) } catch {
            throw SwctrError(.failure, "run the CNI plugin \(type): \(error.message)")
        }
        let output = try? JSONParser.parse(r.stdout)
        guard r.status == .exited(0) else {
            var message = String(decoding: r.stderr, as: UTF8.self).trimmed()
            if case .object(let e)? = output {
                if case .string(let m)? = e["msg"] { message = m }
                if case .string(let d)? = e["details"], !d.isEmpty { message += ": " + d }
            }
            throw SwctrError(.failure, "CNI \(type) \(command): \(Excerpt.line(message, limit: 400))")
        }
        return r.stdout.isEmpty ? nil : output
    }

    static let firewallPlugins: Set<String> = ["bridge", "firewall", "portmap", "dnsname"]
    static let lockPath = "/run/swctr-cni.lock"

    /// An fd holding the host-wide lock (released by closing it); -1 when it cannot be had.
    static func hostLock() -> Int32 {
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return -1 }
        while flock(fd, LOCK_EX) != 0 {
            if errno != EINTR { close(fd); return -1 }
        }
        return fd
    }
}
