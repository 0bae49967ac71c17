import ArgumentParser
import HostOS
import RuntimeClient

struct Version: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show swctr's version and its runtime's.")
    @OptionGroup var global: Global

    func run() async throws {
        print("swctr version 0.3.0")
        let runtime = global.runtime ?? SwruncCLI.locate("swrunc", nextTo: Global.executable)
        guard let runtime else {
            print("runtime: swrunc not found (run `make install`, or pass --runtime PATH)")
            return
        }
        let version = SwruncCLI(binary: runtime, root: "/run/swrunc", scratch: "/tmp").version() ?? "unknown"
        print("runtime: \(runtime) (\(version.split(separator: "\n").first.map(String.init) ?? version))")
        // swctr's own monitor takes conmon's place.
        guard let monitor = SwruncCLI.locate("swctr-monitor", nextTo: Global.executable) else {
            print("monitor: swctr-monitor not found (run `make install`)")
            return
        }
        let r = try? Spawn.capture([monitor, "--version"])
        print("monitor: \(monitor) (\(r.map { String(decoding: $0.stdout, as: UTF8.self).trimmed() } ?? "unknown"))")
    }
}
