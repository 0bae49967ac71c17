import ArgumentParser
import Containers
import Database
import Glibc
import HostOS
import JSON
import RuntimeClient

/// `info`: the store, the runtime and the host's cgroup layout, and how many containers are in
/// each state — as text, or a document for --format.
struct Info: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show the store, the runtime and container counts.")
    @OptionGroup var global: Global
    @Option(name: [.customShort("f"), .customLong("format")], help: "A Go template over the document, or json.") var format: String?

    func run() async throws {
        let manager = global.manager(needsRuntime: false)
        let views = (try? manager.list()) ?? []
        let images = (try? manager.store.images().count) ?? 0
        // A path when swrunc was found (manager(needsRuntime: false) leaves its bare name otherwise).
        let runtime = manager.runtimeBinary.hasPrefix("/") ? manager.runtimeBinary : "not found"
        let version = runtime == "not found" ? "" : (manager.runtime.version()?.split(separator: "\n").first.map(String.init) ?? "")
        func count(_ states: [ContainerView.Status]) -> Int { views.filter { states.contains($0.status) }.count }
        let cgroups = FileIO.exists("/sys/fs/cgroup/cgroup.controllers") ? "v2"
            : FileIO.exists("/sys/fs/cgroup/unified/cgroup.procs") ? "hybrid" : "v1"
        let doc = InspectDocument.obj([
            ("Containers", .number(String(views.count))),
            ("ContainersRunning", .number(String(count([.running, .restarting])))),
            ("ContainersPaused", .number(String(count([.paused])))),
            ("ContainersStopped", .number(String(count([.created, .exited, .dead])))),
            ("Images", .number(String(images))),
            ("Driver", .string("overlay")),
            ("StoreRoot", .string(manager.store.root)),
            ("Runtime", .string(runtime)),
            ("RuntimeVersion", .string(version)),
            ("Monitor", .string(manager.monitorBinary)),
            ("CgroupVersion", .string(cgroups)),
        ])
        if let format {
            if format == "json" { print(doc.serialized(indent: 4)); return }
            do { print(try GoTemplate(format).render(doc)) } catch { fail(error) }
            return
        }
        guard case .object(let o) = doc else { return }
        for (key, value) in zip(o.keys, o.values) {
            switch value {
            case .string(let s): print("\(key): \(s)")
            default: print("\(key): \(value.serialized())")
            }
        }
    }
}
