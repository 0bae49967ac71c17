import Containers
import Database
import FoundationEssentials
import Glibc
import HostOS
import JSON
import Registry
import Images
import OCI
import RuntimeClient

/// RUN: the command in a container through the runtime, on an overlay of the stage's layers; the
/// upper directory becomes the step's layer. Its cache key covers the command, the ARGs it sees,
/// its network and mounts (with the content a bind mount of the context brings).
extension Builder {
    func run(_ ins: Instruction, _ state: inout StageState, stage: Int) async throws(SwctrError) -> Bool {
        var network = ins.flag("network") ?? "default"
        if network == "default" { network = request.network }
        guard network == "host" || network == "none" else {
            throw SwctrError(.invalidArgument, "RUN --network=\(Excerpt.of(network)): swctr builds take default, host or none")
        }
        var script: (name: String, content: String)?
        let argv: [String]
        switch ins.arguments {
        case .exec(let list):
            argv = list
        case .shell(let text):
            if let only = ins.heredocs.first, ins.heredocs.count == 1, Self.isOnlyHeredoc(text, only.name) {
                // `RUN <<EOF`: the body is the script; with a #! line it runs as its own program.
                if only.content.hasPrefix("#!") {
                    script = (only.name, only.content)
                    argv = ["/dev/pipes/" + only.name]
                } else {
                    argv = state.shell + [only.content]
                }
            } else if !ins.heredocs.isEmpty {
                // `RUN cat <<EOF > f`: the shell reads the heredocs itself.
                argv = state.shell + [text + "\n" + ins.heredocs.map { $0.content + $0.name }.joined(separator: "\n")]
            } else {
                argv = state.shell + [text]
            }
        }
        var mounts: [RunMount] = []
        for m in ins.flagValues("mount") { mounts.append(try RunMount(parsing: try expand(m, state))) }
        // ARGs are the command's environment (ENV of the same name wins); proxy settings too.
        let envKeys = Set(state.env.map(\.0))
        var argEnv: [(String, String)] = []
        for (k, v) in state.args.sorted(by: { $0.key < $1.key }) { if let v, !envKeys.contains(k) { argEnv.append((k, v)) } }
        var description = "RUN\n" + argv.joined(separator: "\0") + "\nargs:" + argEnv.map { "\($0)=\($1)" }.joined(separator: "\0")
        description += "\nnetwork:" + network
        for m in mounts { description += "\nmount:" + (try await mountIdentity(m, stage: stage, line: ins.line)) }
        for (k, v) in request.buildArgs.sorted(by: { $0.key < $1.key }) where BuildPlan.proxyArgs.contains(k) && !envKeys.contains(k) {
            argEnv.append((k, v))
        }
        let key = Self.chain(state.key, description)
        if cached(key, &state) { return true }
        let layers = state.diffIDs
        let env = (state.strings("Env") ?? []) + argEnv.map { "\($0)=\($1)" }
        let user = state.string("User")
        let workdir = state.string("WorkingDir")
        let shown = argv.joined(separator: " ")
        return try await withStepDirectory { dir throws(SwctrError) in
            var options = ContainerConfig()
            options.entrypoint = []
            options.cmd = argv
            options.env = env
            options.user = user.flatMap { $0.isEmpty ? nil : $0 }
            options.workingDir = workdir.flatMap { $0.isEmpty ? nil : $0 }
            options.network = network
            options.cgroupParent = request.cgroupParent
            options.securityOpt = request.securityOpt
            var step = StepContainer(layers: layers, directory: dir, options: options)
            for (i, m) in mounts.enumerated() { step.mounts.append(try await ociMount(m, index: i, dir: dir, stage: stage, line: ins.line)) }
            if let script {
                let file = dir + "/heredoc-" + script.name
                try Self.io { () throws(SystemError) in try FileIO.writeFile(Array(script.content.utf8), to: file, mode: 0o755) }
                step.mounts.append(Mount(destination: "/dev/pipes/" + script.name, type: "bind", source: file, options: ["rbind", "ro"]))
            }
            if let fd = request.outputFD { step.stdio = RuntimeStdio(stdin: nil, stdout: fd, stderr: fd) }
            let status = try manager.runStep(step)
            guard status == 0 else {
                throw SwctrError(.failure, "process \"\(Excerpt.of(shown, limit: 200))\" did not complete successfully: exit code: \(status)")
            }
            try commitStep(dir, key: key, text: ins.text, &state)
            return false
        }
    }

    /// `RUN <<EOF` with nothing else on the line.
    static func isOnlyHeredoc(_ text: String, _ name: String) -> Bool {
        let t = text.trimmingSpaces
        return ["<<\(name)", "<<-\(name)", "<<\"\(name)\"", "<<'\(name)'", "<<-\"\(name)\"", "<<-'\(name)'"].contains(t)
    }

    /// What a mount brings into the cache key: its settings, and for a bind mount the content
    /// of what it binds (the context's files, or the source stage's key).
    func mountIdentity(_ m: RunMount, stage: Int, line: Int) async throws(SwctrError) -> String {
        var id = "\(m.kind.rawValue) \(m.target) ro=\(m.readOnly) id=\(m.id ?? "") src=\(m.source ?? "")"
        guard m.kind == .bind else { return id }
        if let from = m.from {
            id += " from=" + (try await sourceState(from, stage: stage, line: line)).key
        } else {
            let source = try context.sources(m.source ?? ".")
            id += " content=" + (try context.contentDigest(source))
        }
        return id
    }

    /// The OCI mount a RUN --mount becomes.
    func ociMount(_ m: RunMount, index: Int, dir: String, stage: Int, line: Int) async throws(SwctrError) -> Mount {
        switch m.kind {
        case .tmpfs:
            var options = ["nosuid", "nodev"]
            if let size = m.size { options.append("size=\(size)") }
            return Mount(destination: m.target, type: "tmpfs", source: "tmpfs", options: options)
        case .cache:
            let name = Digest.hex(Digest.of(Array((m.id ?? m.target).utf8)))
            let path = store.root + "/buildcache/" + name
            if !FileIO.exists(path) {
                try Self.io { () throws(SystemError) in try FileIO.mkdirAll(store.root + "/buildcache", mode: 0o700) }
                let tmp = store.temporary("cache")
                guard mkdir(tmp, mode_t(m.mode ?? 0o755)) == 0, chown(tmp, m.uid ?? 0, m.gid ?? 0) == 0, chmod(tmp, mode_t(m.mode ?? 0o755)) == 0 else {
                    throw TreeArchive.sys("make the cache mount \(m.target)")
                }
                if rename(tmp, path) != 0 { rmdir(tmp) }
            }
            return Mount(destination: m.target, type: "bind", source: path, options: ["rbind", m.readOnly ? "ro" : "rw"])
        case .bind:
            let tree: BuildContext
            if let from = m.from {
                let source = try await sourceState(from, stage: stage, line: line)
                let mountDir = dir + "/from-\(index)"
                try Self.io { () throws(SystemError) in try FileIO.mkdirAll(mountDir + "/upper") }
                _ = try mountStep(mountDir, source)
                tree = try BuildContext(directory: mountDir + "/rootfs", isRootfs: true)
            } else {
                tree = context
            }
            let relative = (try tree.sources(m.source ?? ".")).first?.relative ?? ""
            let (parent, base) = try tree.openSource(BuildContext.Source(relative: relative))
            defer { close(parent) }
            guard let parentPath = BuildContext.pathOf(parent) else { throw TreeArchive.sys("resolve \(m.source ?? ".")") }
            var source = base == "." ? parentPath : parentPath + "/" + base
            if !m.readOnly {
                // A writable bind: the step writes to a copy, thrown away with the step.
                let copy = dir + "/bind-\(index)"
                let rootFD = open(dir, RootedPath.O_PATH | O_DIRECTORY | O_CLOEXEC)
                guard rootFD >= 0 else { throw TreeArchive.sys("open \(dir)") }
                defer { close(rootFD) }
                let context = self.context
                var exclude: (@Sendable (String) -> Bool)?
                if !tree.isRootfs { exclude = { @Sendable p in context.excluded(p) } }
                try TreeCopy.copy(parent, base, relative: relative, to: "/bind-\(index)", in: rootFD, options: TreeCopy.Options(exclude: exclude))
                source = copy
            }
            return Mount(destination: m.target, type: "bind", source: source, options: ["rbind", m.readOnly ? "ro" : "rw"])
        }
    }
}
