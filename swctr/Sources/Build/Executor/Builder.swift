import Containers
import Database
import FoundationEssentials
import Glibc
import HostOS
import Images
import JSON
import Registry

/// Runs a build plan: the stages the target needs, each from its base image (pulled if the store
/// lacks it), instruction by instruction. RUN runs in a container through the runtime on an
/// overlay of the stage's layers and its layer is the upper directory; COPY and ADD copy into
/// such an overlay without a container; every other instruction only edits the config. A step
/// that makes a layer is looked up in the cache first, by a key chained from its parent's.
public final class Builder: @unchecked Sendable {
    let manager: ContainerManager
    let request: BuildRequest
    let plan: BuildPlan
    let context: BuildContext
    let fetch: ImageFetcher
    let events: @Sendable (BuildEvent) -> Void
    /// Finished stages, by index.
    var finished: [Int: StageState] = [:]
    /// Images COPY --from and RUN --mount from= named, by reference.
    var images: [String: StageState] = [:]

    var store: ImageStore { manager.store }

    init(manager: ContainerManager, request: BuildRequest, plan: BuildPlan, context: BuildContext, fetch: @escaping ImageFetcher,
         events: @escaping @Sendable (BuildEvent) -> Void) {
        self.manager = manager
        self.request = request
        self.plan = plan
        self.context = context
        self.fetch = fetch
        self.events = events
    }

    /// Builds the request's Dockerfile; the image recorded under its tags (or untagged).
    public static func build(_ request: BuildRequest, manager: ContainerManager, fetch: @escaping ImageFetcher,
                             events: @escaping @Sendable (BuildEvent) -> Void = { _ in }) async throws(SwctrError) -> ImageRecord {
        // Rootless, the command runs as root of the user's namespace (RootlessNamespace).
        guard geteuid() == 0 else {
            throw SwctrError(.invalidArgument, "swctr build needs root or the user's rootless namespace (its steps run on overlay mounts)")
        }
        let dockerfile = try DockerfileParser.parse(request.dockerfile, file: request.dockerfileName)
        let plan = try BuildPlan(dockerfile, file: request.dockerfileName, buildArgs: request.buildArgs, target: request.target,
                                 platform: Platform.host)
        let unused = request.buildArgs.keys.filter {
            !plan.declaredArgs.contains($0) && !BuildPlan.proxyArgs.contains($0)
        }.sorted()
        if !unused.isEmpty { events(.warning("One or more build-args [\(unused.joined(separator: " "))] were not consumed")) }
        manager.reapSteps()
        let builder = Builder(manager: manager, request: request, plan: plan, context: try BuildContext(directory: request.context),
                              fetch: fetch, events: events)
        return try await builder.run()
    }

    func run() async throws(SwctrError) -> ImageRecord {
        for index in plan.order {
            finished[index] = try await buildStage(index)
        }
        guard var state = finished[plan.target] else { throw SwctrError(.failure, "the target stage did not run") }
        for (k, v) in request.labels.sorted(by: { $0.key < $1.key }) { state.setLabel(k, v) }
        var tags: [String] = []
        for t in request.tags {
            guard let ref = try? ImageReference(parsing: t), ref.digest == nil else {
                throw SwctrError(.invalidArgument, "invalid tag \(Excerpt.of(t)): invalid reference format")
            }
            tags.append(ImagePull.recordName(ref))
        }
        return try ImageComposer.assemble(config: state.image, layers: state.layers, names: tags, store: store)
    }

    func stageName(_ index: Int) -> String { plan.dockerfile.stages[index].name ?? "stage-\(index)" }

    func buildStage(_ index: Int) async throws(SwctrError) -> StageState {
        let stage = plan.dockerfile.stages[index]
        let base = try plan.baseName(of: index)
        var instructions = stage.instructions
        let count = instructions.count + 1
        events(.step(stage: stageName(index), index: 1, count: count, text: "FROM \(base)" + (stage.name.map { " AS \($0)" } ?? "")))
        if let wanted = stage.from.flag("platform") {
            let p = try plan.expandGlobal(wanted, line: stage.from.line)
            guard let parsed = try? Platform(parsing: p), parsed.os == plan.platform.os, parsed.architecture == plan.platform.architecture else {
                throw plan.failure(stage.from.line, "FROM --platform=\(Excerpt.of(p)): swctr builds for this machine's platform (\(plan.platform)) only")
            }
        }
        var state = try await baseState(base, stage: index, line: stage.from.line)
        // ONBUILD triggers of the base run first; the new image does not keep them.
        if case .array(let triggers)? = state.config["OnBuild"], !triggers.isEmpty {
            var parsed: [Instruction] = []
            for case .string(let t) in triggers {
                do {
                    let d = try DockerfileParser.parse("FROM scratch\n" + t, file: "ONBUILD trigger of \(base)")
                    parsed += d.stages[0].instructions
                } catch { throw plan.failure(stage.from.line, error.message) }
            }
            instructions = parsed + instructions
            var c = state.config
            c.set("OnBuild", .null)
            state.config = c
        }
        for (i, ins) in instructions.enumerated() {
            events(.step(stage: stageName(index), index: min(i + 2, count), count: count, text: ins.text))
            let started = Clock.monotonicSeconds()
            let cached = try await execute(ins, &state, stage: index)
            events(cached ? .cached : .done(seconds: Clock.monotonicSeconds() - started))
        }
        return state
    }

    /// The state FROM gives: scratch, an earlier stage, or an image from the store (pulled when
    /// missing, or always with --pull).
    func baseState(_ name: String, stage: Int, line: Int) async throws(SwctrError) -> StageState {
        if name.lowercased() == "scratch" {
            var image = JSONObject()
            image.set("architecture", .string(plan.platform.architecture))
            image.set("os", .string(plan.platform.os))
            if let v = plan.platform.variant { image.set("variant", .string(v)) }
            image.set("created", .string("1970-01-01T00:00:00Z"))
            image.set("config", .object(JSONObject()))
            image.set("history", .array([]))
            var s = StageState(key: Digest.of(Array("scratch \(plan.platform)".utf8)), layers: [], image: image)
            s.setEnv("PATH", String(SpecBuilder.defaultPath.dropFirst("PATH=".count)))
            return s
        }
        if let i = plan.stageIndex(name, before: stage), let s = finished[i] {
            var copy = s
            copy.args = [:]
            copy.shell = ["/bin/sh", "-c"]
            if let shell = s.strings("Shell"), !shell.isEmpty { copy.shell = shell }
            return copy
        }
        return try await imageState(name, line: line, pull: request.pull)
    }

    /// An image's layers and config, as a stage starts from them.
    func imageState(_ name: String, line: Int, pull: Bool) async throws(SwctrError) -> StageState {
        let ref: ImageReference
        do { ref = try ImageReference(parsing: name) } catch {
            throw plan.failure(line, "invalid reference format: \(Excerpt.of(name)): \(error.description)")
        }
        var record: ImageRecord?
        if !pull { record = try? store.image(name) }
        if record == nil {
            events(.message("pulling \(ref)"))
            do { record = try await fetch(ref) } catch {
                let message = (error as? SwctrError)?.message ?? "\(error)"
                throw plan.failure(line, "\(name): failed to resolve the image: \(message)", code: .notFound)
            }
        }
        guard let record else { throw plan.failure(line, "\(name): not found", code: .notFound) }
        guard case .object(var image)? = try? JSONParser.parse(Array(record.config.utf8)) else {
            throw plan.failure(line, "the config of \(name) is not a JSON object")
        }
        let manifest: Manifest
        do { manifest = try JSONDecoder().decode(Manifest.self, from: Data(FileIO.read(store.blobPath(record.digest)))) } catch {
            throw plan.failure(line, "the manifest of \(name) is missing from the store (pull it again)", code: .notFound)
        }
        let layers = zip(manifest.layers, record.layerIDs).map { d, diffID in
            ImageComposer.LayerDescriptor(mediaType: ImageComposer.ociLayerType(d.mediaType), digest: d.digest, diffID: diffID, size: d.size)
        }
        image.set("rootfs", .null)
        if case .null? = image["config"] { image.set("config", .object(JSONObject())) }
        if image["config"] == nil { image.set("config", .object(JSONObject())) }
        var s = StageState(key: record.id, layers: layers, image: image)
        if let shell = s.strings("Shell"), !shell.isEmpty { s.shell = shell }
        return s
    }

    /// Runs one instruction; true when its result came from the cache.
    func execute(_ ins: Instruction, _ state: inout StageState, stage: Int) async throws(SwctrError) -> Bool {
        do {
            switch ins.keyword {
            case "RUN": return try await run(ins, &state, stage: stage)
            case "COPY", "ADD": return try await copy(ins, &state, stage: stage)
            default:
                try applyMetadata(ins, &state)
                return false
            }
        } catch {
            // Errors of a step name its line unless they already do.
            if error.message.hasPrefix(plan.file + ":") { throw error }
            throw plan.failure(ins.line, error.message, code: error.code)
        }
    }

    /// Variables substituted as Docker substitutes them for this instruction.
    func words(_ text: String, _ state: StageState) throws(SwctrError) -> ShellWords {
        ShellWords(environment: state.substitutionEnvironment, escape: plan.dockerfile.escape)
    }

    func expand(_ text: String, _ state: StageState) throws(SwctrError) -> String {
        try ShellWords(environment: state.substitutionEnvironment, escape: plan.dockerfile.escape).expand(text)
    }

    /// A file system call's error as swctr's.
    static func io<T>(_ body: () throws(SystemError) -> T) throws(SwctrError) -> T {
        do { return try body() } catch { throw SwctrError(.failure, error.message) }
    }

    /// The next key in a stage's chain.
    static func chain(_ parent: String, _ description: String) -> String {
        Digest.of(Array((parent + "\n" + description).utf8))
    }
}
