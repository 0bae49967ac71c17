import ArgumentParser
import Build
import Containers
import Database
import Glibc
import HostOS
import Images
import Registry
import RuntimeClient

/// Options every command takes, before or after the verb (`swctr --root R ps` and
/// `swctr ps --root R` are the same; `Swctr.main` moves them behind the verb).
struct Global: ParsableArguments {
    @Option(name: .customLong("root"), help: "Directory of the image store (default: /var/lib/swctr; without root, ~/.local/share/swctr).")
    var rootOption: String?
    @Option(help: "Credentials file (default: $REGISTRY_AUTH_FILE, else ~/.docker/config.json).")
    var authfile: String?
    @Option(name: .customLong("registries-conf"), help: "Registries config with insecure-registries (default: \(RegistriesConfig.defaultPath)).")
    var registriesConf: String?
    @Option(help: "The OCI runtime (default: swrunc next to swctr, then on PATH).")
    var runtime: String?
    @Option(name: .customLong("log-level"), help: "debug, info (default), warn, error or fatal; debug shows each runtime command.")
    var logLevel: String?

    /// The options above that take a value, for moving them behind the verb.
    static let valueOptions: Set<String> = ["--root", "--authfile", "--registries-conf", "--runtime", "--log-level"]

    static let logLevels = ["trace", "debug", "info", "warn", "warning", "error", "fatal", "panic"]

    mutating func validate() throws {
        if let logLevel, !Self.logLevels.contains(logLevel.lowercased()) {
            throw ValidationError("invalid --log-level \"\(logLevel)\": want debug, info, warn, error or fatal")
        }
    }

    var debug: Bool { ["trace", "debug"].contains(logLevel?.lowercased() ?? "") }

    /// Where the store is: podman's defaults, system-wide for root and per user otherwise.
    var root: String {
        if let rootOption { return rootOption }
        guard UserNamespace.callerIsUnprivileged else { return "/var/lib/swctr" }
        if let xdg = getenv("XDG_DATA_HOME"), xdg.pointee != 0 { return String(cString: xdg) + "/swctr" }
        let home = getenv("HOME").map { String(cString: $0) } ?? "/"
        return home + "/.local/share/swctr"
    }

    /// Whether to skip TLS verification for `registry`: `--tls-verify` when given, else the
    /// registries config.
    func insecure(_ registry: String, tlsVerify: Bool?) throws(RegistryError) -> Bool {
        if let tlsVerify { return !tlsVerify }
        let config = try RegistriesConfig(path: registriesConf ?? RegistriesConfig.defaultPath, required: registriesConf != nil)
        return config.isInsecure(registry)
    }

    var authFile: AuthFile {
        if let authfile { return AuthFile(path: authfile) }
        if let env = getenv("REGISTRY_AUTH_FILE") { return AuthFile(path: String(cString: env)) }
        let home = getenv("HOME").map { String(cString: $0) } ?? "/root"
        return AuthFile(path: "\(home)/.docker/config.json")
    }

    /// swctr's own path (the monitor runs it for `container cleanup`).
    static var executable: String? {
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The container manager over this store, with swrunc and the monitor found or named.
    /// `needsRuntime` false: commands that only read records and logs (ps, logs, inspect, wait)
    /// work without swrunc installed.
    func manager(needsRuntime: Bool = true) -> ContainerManager {
        guard geteuid() == 0 else {
            fail("rootless containers need swctr's user namespace: \(Swctr.rootlessFailure ?? "not entered")")
        }
        let me = Self.executable
        let found = runtime ?? SwruncCLI.locate("swrunc", nextTo: me)
        let monitorFound = SwruncCLI.locate("swctr-monitor", nextTo: me)
        if needsRuntime && found == nil {
            fail("swrunc not found next to swctr or on PATH: run `make install`, or pass --runtime PATH")
        }
        if needsRuntime && monitorFound == nil {
            fail("swctr-monitor not found next to swctr or on PATH: run `make install`")
        }
        let swrunc = found ?? "swrunc"
        let monitor = monitorFound ?? "swctr-monitor"
        let store: ImageStore
        do { store = try ImageStore(root: root) } catch { fail("\(error)") }
        let runtimeRoot = store.root + "/swrunc"
        do { try FileIO.mkdirAll(runtimeRoot) } catch { fail("\(error)") }
        return ContainerManager(store: store, runtime: SwruncCLI(binary: swrunc, root: runtimeRoot, scratch: store.root + "/tmp", trace: debug),
                                runtimeBinary: swrunc, runtimeRoot: runtimeRoot, monitorBinary: monitor,
                                swctrBinary: me ?? "swctr")
    }
}

extension Global {
    /// Pulls an image a build or a compose project needs, with this command's registry
    /// settings and credentials.
    func imageFetcher(_ store: ImageStore) -> ImageFetcher {
        let global = self
        return { ref in
            let client = RegistryClient(insecure: try global.insecure(ref.registry, tlsVerify: nil),
                                        credentials: try global.authFile.credentials(for: ref.registry))
            do {
                let record = try await ImagePull.pull(ref, platform: .host, store: store, client: client)
                await client.shutdown()
                return record
            } catch {
                await client.shutdown()
                throw error
            }
        }
    }
}

/// Errors print as one line, "swctr: ...", like swrunc's; the status is 1.
func fail(_ message: String) -> Never {
    writeStderr("swctr: \(message)\n")
    exit(1)
}

/// A coded error with Docker's status: `run`/`create` exit 125 when swctr or the runtime failed,
/// 126 when the command cannot be run and 127 when it does not exist; other verbs exit 1.
func fail(_ error: SwctrError, runLike: Bool = false) -> Never {
    writeStderr("swctr: \(error.message)\n")
    guard runLike else { exit(1) }
    switch error.code {
    case .commandNotFound: exit(127)
    case .commandNotExecutable: exit(126)
    default: exit(125)
    }
}

func writeStderr(_ s: String) { FileIO.writeStderr(s) }

/// Runs `body` for each reference, printing each one that worked (as Docker does for stop, rm,
/// …); errors are printed as they come and make the status 1.
func forEach(_ refs: [String], _ body: (String) throws(SwctrError) -> Void) -> Int32 {
    var status: Int32 = 0
    for ref in refs {
        do {
            try body(ref)
            print(ref)
        } catch {
            writeStderr("swctr: \(error.message)\n")
            status = 1
        }
    }
    return status
}
