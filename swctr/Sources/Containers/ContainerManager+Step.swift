import Database
import Glibc
import HostOS
import Images
import JSON
import OCI
import RuntimeClient

/// A container that leaves no record: a build step's RUN. It runs in the foreground through the
/// runtime's `run` on an overlay of `layers` whose upper directory the caller keeps (the step's
/// layer is made from it).
public struct StepContainer: Sendable {
    /// diffIDs, bottom layer first.
    public var layers: [String]
    /// A directory of the caller's: `upper/` is the step's changes; `work/`, `rootfs/` and the
    /// bundle's config.json are made here too.
    public var directory: String
    /// The program, environment, user, working directory; network host or none; cgroup parent.
    public var options: ContainerConfig
    /// Further mounts (RUN --mount): their targets are removed from the changes again when they
    /// did not exist before.
    public var mounts: [Mount] = []
    public var stdio: RuntimeStdio = .inherit

    public init(layers: [String], directory: String, options: ContainerConfig) {
        self.layers = layers
        self.directory = directory
        self.options = options
    }
}

extension ContainerManager {
    /// Runs the step's container to its end; its exit status.
    public func runStep(_ step: StepContainer) throws(SwctrError) -> Int32 {
        let dir = step.directory
        try Snapshot.prepare(dir)
        try Snapshot.mount(dir, layers: step.layers, store: store)
        let rootfs = dir + "/rootfs"
        var created: [String] = []
        do throws(SwctrError) {
            let id = "swctr-step-" + String(Names.newID().prefix(16))
            var builder = SpecBuilder(id: id, rootfs: rootfs, image: nil, options: step.options)
            builder.rootless = store.rootless
            builder.passwd = RootedPath.read("/etc/passwd", in: rootfs).map { String(decoding: $0, as: UTF8.self) }
            builder.group = RootedPath.read("/etc/group", in: rootfs).map { String(decoding: $0, as: UTF8.self) }
            builder.seccomp = try seccompProfile(step.options, capabilities: try builder.capabilities())
            var spec = try builder.build()
            // A step keeps its own UTS namespace even on the host's network.
            spec.hostname = "swctr-build"
            if var linux = spec.linux, !(linux.namespaces ?? []).contains(where: { $0.type == "uts" }) {
                linux.namespaces = (linux.namespaces ?? []) + [Namespace(type: "uts", path: nil)]
                spec.linux = linux
            }
            var mounts = step.mounts
            // Name files of its own (host network: copies of the host's), bound over the image's
            // and never part of the layer.
            let hosts = "127.0.0.1\tlocalhost swctr-build\n::1\tlocalhost ip6-localhost ip6-loopback\n"
            try? FileIO.writeFile(Array(hosts.utf8), to: dir + "/hosts")
            mounts.append(Mount(destination: "/etc/hosts", type: "bind", source: dir + "/hosts", options: ["rbind", "rw"]))
            if step.options.network == "host", let resolv = try? FileIO.read("/etc/resolv.conf") {
                try? FileIO.writeFile(resolv, to: dir + "/resolv.conf")
                mounts.append(Mount(destination: "/etc/resolv.conf", type: "bind", source: dir + "/resolv.conf", options: ["rbind", "rw"]))
            }
            created = Self.missingPaths(mounts.map(\.destination), in: rootfs)
            spec.mounts = (spec.mounts ?? []) + mounts
            do {
                try FileIO.writeAtomic(dir + "/config.json", try JSONValueEncoder().encode(spec), mode: 0o600)
            } catch { throw SwctrError(.failure, "write \(dir)/config.json: \(error)") }
            let status: Int32
            do { status = try runtime.run(id, bundle: dir, stdio: step.stdio) } catch { throw Self.translate(error) }
            Snapshot.unmount(dir)
            Self.removeMountpoints(created, upper: dir + "/upper")
            return status
        } catch {
            Snapshot.unmount(dir)
            throw error
        }
    }

    /// Step containers a killed build left in the runtime: stopped, created and never started,
    /// or running on a bundle that is gone — deleted (killed first). A running one whose bundle
    /// is there is another build's.
    public func reapSteps() {
        for id in FileIO.listDirectory(runtimeRoot) where id.hasPrefix("swctr-step-") {
            guard let state = try? runtime.state(id) else { continue }
            let live = state.status == "running" || state.status == "paused"
            if live, let bundle = state.bundle, FileIO.exists(bundle + "/config.json") { continue }
            try? runtime.delete(id, force: true)
        }
    }

    /// Of `targets` and their parents, those the rootfs does not have (deepest last).
    static func missingPaths(_ targets: [String], in rootfs: String) -> [String] {
        var out: [String] = []
        for target in targets {
            var path = ""
            for part in target.split(separator: "/") {
                path += "/" + part
                if out.contains(path) { continue }
                let fd = RootedPath.open(path, in: rootfs, flags: RootedPath.O_PATH | O_NOFOLLOW)
                if fd >= 0 { close(fd); continue }
                out.append(path)
            }
        }
        return out
    }

    /// Mount points the runtime made for a step's mounts are not the step's changes: each is
    /// removed from the upper directory if it is still an empty file or directory.
    static func removeMountpoints(_ paths: [String], upper: String) {
        for path in paths.reversed() {
            let fd = RootedPath.open(path, in: upper, flags: RootedPath.O_PATH | O_NOFOLLOW)
            guard fd >= 0 else { continue }
            var st = stat()
            let ok = fstat(fd, &st) == 0
            close(fd)
            guard ok else { continue }
            switch st.st_mode & S_IFMT {
            case S_IFDIR: rmdir(upper + path)
            case S_IFREG where st.st_size == 0: unlink(upper + path)
            default: break
            }
        }
    }
}
