import ArgumentParser
import Build
import CArchive
import Containers
import Database
import Glibc
import HostOS
import Images
import Registry

/// `build [-t NAME]... [-f FILE] [--build-arg K=V] [--target] [--no-cache] [--pull] [--platform]
/// [--label] [--network] [-q] [--progress] [--iidfile F] CONTEXT|-`.
struct BuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "build", abstract: "Build an image from a Dockerfile.")
    @OptionGroup var global: Global
    @Option(name: [.customShort("t"), .customLong("tag")], help: "Name the image NAME[:TAG] (repeatable).") var tag: [String] = []
    @Option(name: [.customShort("f"), .customLong("file")], help: "The Dockerfile (default: CONTEXT/Dockerfile; - reads it from stdin).")
    var file: String?
    @Option(name: .customLong("build-arg"), help: "K=V for an ARG (K alone takes the environment's value).") var buildArg: [String] = []
    @Option(help: "The stage to build (default: the last).") var target: String?
    @Flag(name: .customLong("no-cache"), help: "Run every step, whatever the cache has.") var noCache = false
    @Flag(help: "Pull base images even when the store has them.") var pull = false
    @Option(help: "The platform to build for (this machine's only).") var platform: String?
    @Option(name: .customLong("label"), help: "K=V label of the image (repeatable).") var label: [String] = []
    @Option(help: "RUN's network: default (host), host or none.") var network = "default"
    @Flag(name: [.customShort("q"), .customLong("quiet")], help: "Print only the image ID (RUN output only when a step fails).")
    var quiet = false
    @Option(help: "auto, plain or tty.") var progress = "auto"
    @Option(help: "Write the image ID to this file.") var iidfile: String?
    @Option(name: .customLong("cgroup-parent"), help: "Parent cgroup of RUN's containers.") var cgroupParent = "/swctr"
    @Option(name: .customLong("security-opt"), help: "seccomp=unconfined, seccomp=PROFILE for RUN's containers.") var securityOpt: [String] = []
    @Argument(help: "The context directory, or - for a tar (or a Dockerfile) on stdin.") var context: String

    func run() async throws {
        guard ["auto", "plain", "tty"].contains(progress) else { fail("invalid --progress \(progress): want auto, plain or tty") }
        if let platform {
            guard let p = try? Platform(parsing: platform) else { fail("invalid --platform \(platform): want os/arch[/variant]") }
            guard p.os == Platform.host.os, p.architecture == Platform.host.architecture else {
                fail("swctr builds for this machine's platform (\(Platform.host)) only, not \(p)")
            }
        }
        let manager = global.manager()
        var cleanup: String?
        defer { if let cleanup { FileIO.removeTree(cleanup) } }
        var request: BuildRequest
        do {
            let (dir, dockerfile, name, tmp) = try prepareContext(manager.store)
            cleanup = tmp
            request = BuildRequest(context: dir, dockerfile: dockerfile)
            request.dockerfileName = name
        } catch { fail(error) }
        request.tags = tag
        request.target = target
        request.noCache = noCache
        request.pull = pull
        request.network = network == "default" ? "host" : network
        guard ["host", "none"].contains(request.network) else { fail("invalid --network \(network): want default, host or none") }
        request.cgroupParent = cgroupParent
        request.securityOpt = securityOpt
        for kv in buildArg {
            if let eq = kv.firstIndex(of: "=") {
                request.buildArgs[String(kv[..<eq])] = String(kv[kv.index(after: eq)...])
            } else if let v = getenv(kv) {
                request.buildArgs[kv] = String(cString: v)
            }
        }
        request.labels = keyValues(label, flag: "--label")
        var output: TemporaryFile?
        if quiet {
            do { output = try TemporaryFile() } catch { fail(error.message) }
            request.outputFD = output?.fd
        } else {
            request.outputFD = 2
        }
        let printer = BuildPrinter(quiet: quiet, tty: progress == "tty" || (progress == "auto" && isatty(2) == 1))
        let record: ImageRecord
        do {
            record = try await Builder.build(request, manager: manager, fetch: global.imageFetcher(manager.store)) { printer.show($0) }
        } catch {
            if let output, let text = try? output.contents(), !text.isEmpty { _ = try? FileIO.writeAll(2, text, what: "stderr") }
            printer.failed()
            fail(error)
        }
        printer.finished()
        if let iidfile {
            do { try FileIO.writeFile(Array(record.id.utf8), to: iidfile) } catch { fail("write --iidfile \(iidfile): \(error.message)") }
        }
        if quiet {
            print(record.id)
        } else {
            print("Successfully built \(String(Digest.hex(record.id).prefix(12)))")
            for t in tag { if let ref = try? ImageReference(parsing: t) { print("Successfully tagged \(ImagePull.recordName(ref))") } }
        }
    }

    /// The context directory and the Dockerfile's text and name. A `-` context is a tar on stdin
    /// (unpacked into the store's tmp/, whose path is returned to be removed) or, when it is not a
    /// tar, the Dockerfile itself with an empty context.
    func prepareContext(_ store: ImageStore) throws(SwctrError) -> (String, String, String, String?) {
        var dir = context
        var tmp: String?
        var stdinDockerfile: [UInt8]?
        if context == "-" {
            let input: [UInt8]
            do { input = try FileIO.readAll(0, what: "stdin") } catch { throw SwctrError(.invalidArgument, "read the context from stdin: \(error.message)") }
            let t = store.temporary("context")
            do { try FileIO.mkdirAll(t, mode: 0o755) } catch { throw SwctrError(.failure, error.message) }
            tmp = t
            dir = t
            if !(try Self.unpackTar(input, into: t)) { stdinDockerfile = input }
        } else {
            guard FileIO.isDirectory(context) else {
                throw SwctrError(.notFound, "unable to prepare context: path \"\(context)\" not found or not a directory")
            }
        }
        if let stdinDockerfile {
            guard file == nil || file == "-" else { throw SwctrError(.invalidArgument, "a Dockerfile on stdin has no context to hold -f \(file ?? "")") }
            return (dir, String(decoding: stdinDockerfile, as: UTF8.self), "Dockerfile", tmp)
        }
        if file == "-" {
            guard context != "-" else { throw SwctrError(.invalidArgument, "stdin cannot hold both the context and the Dockerfile") }
            do { return (dir, String(decoding: try FileIO.readAll(0, what: "stdin"), as: UTF8.self), "Dockerfile", tmp) } catch {
                throw SwctrError(.invalidArgument, "read the Dockerfile from stdin: \(error.message)")
            }
        }
        // -f is relative to the working directory, except for a context from stdin (inside it).
        var path = file ?? "\(dir)/Dockerfile"
        if file == nil && !FileIO.exists(path) && FileIO.exists("\(dir)/Containerfile") { path = "\(dir)/Containerfile" }
        if let file, context == "-" { path = "\(dir)/\(file)" }
        do {
            return (dir, try FileIO.readString(path), file.map { String($0.split(separator: "/").last ?? "Dockerfile") } ?? "Dockerfile", tmp)
        } catch {
            throw SwctrError(.notFound, "failed to read the Dockerfile: open \(path): no such file or directory")
        }
    }

    /// Unpacks `bytes` into `dir` when they are a tar (plain or compressed); false when not.
    static func unpackTar(_ bytes: [UInt8], into dir: String) throws(SwctrError) -> Bool {
        guard let reader = archive_read_new() else { throw SwctrError(.failure, "libarchive: out of memory") }
        defer { archive_read_free(reader) }
        archive_read_support_filter_all(reader)
        archive_read_support_format_tar(reader)
        let opened = bytes.withUnsafeBytes { archive_read_open_memory(reader, $0.baseAddress, $0.count) }
        guard opened == ARCHIVE_OK else { return false }
        let root = open(dir, RootedPath.O_PATH | O_DIRECTORY | O_CLOEXEC)
        guard root >= 0 else { throw SwctrError(.failure, "open \(dir)") }
        defer { close(root) }
        // A first header that does not read: not a tar, so the input is a Dockerfile.
        var entry: OpaquePointer?
        guard let probe = archive_read_new() else { throw SwctrError(.failure, "libarchive: out of memory") }
        archive_read_support_filter_all(probe)
        archive_read_support_format_tar(probe)
        let isTar = bytes.withUnsafeBytes { archive_read_open_memory(probe, $0.baseAddress, $0.count) } == ARCHIVE_OK
            && archive_read_next_header(probe, &entry) == ARCHIVE_OK
        archive_read_free(probe)
        guard isTar else { return false }
        try TreeArchive.extract(reader, in: root, into: "/")
        return true
    }
}

/// `builder prune [-a] [-f]`: the build cache.
struct BuilderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "builder", abstract: "Manage the build cache.", subcommands: [BuilderPrune.self])
}

struct BuilderPrune: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "prune", abstract: "Remove the build cache.")
    @OptionGroup var global: Global
    @Flag(name: [.customShort("a"), .customLong("all")], help: "The cache mounts (RUN --mount=type=cache) too.") var all = false
    @Flag(name: [.customShort("f"), .customLong("force")], help: "Do not ask.") var force = false

    func run() async throws {
        guard confirmPrune("  - all build cache" + (all ? " and cache mounts" : ""), force: force) else { return }
        let store = openStore(global)
        let before = ImageStore.diskUsage(store.root)
        let removed: Int
        do { removed = try BuildCache.prune(store, mounts: all) } catch { fail(error) }
        let after = ImageStore.diskUsage(store.root)
        print("Deleted build cache objects: \(removed)")
        print("Total reclaimed space: \(StatsLine.decimalSize(UInt64(max(0, before - after))))")
    }
}
