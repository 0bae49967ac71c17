import CArchive
import Containers
import Database
import Glibc
import HostOS
import Images
import JSON

/// COPY and ADD: sources from the context (or a stage or an image with --from, heredocs, URLs for
/// ADD) copied into an overlay of the stage's layers, with Docker's destination rules; the upper
/// directory becomes the step's layer. The cache key covers the sources' content (names, types,
/// modes, owners, contents, link targets), the destination and the flags.
extension Builder {
    /// One source of a COPY or ADD, resolved.
    enum CopySource {
        case tree(BuildContext.Source)
        case heredoc(Heredoc)
        case url(String)
    }

    func copy(_ ins: Instruction, _ state: inout StageState, stage: Int) async throws(SwctrError) -> Bool {
        let isAdd = ins.keyword == "ADD"
        let sw = try words(ins.rawArguments, state)
        // Shell form: words split as written, each substituted (a heredoc marker stays as it is).
        var items: [String]
        switch ins.arguments {
        case .exec(let list): items = list
        case .shell(let text): items = ShellWords.rawWords(text, escape: plan.dockerfile.escape)
        }
        guard items.count >= 2, let rawDest = items.popLast() else {
            throw SwctrError(.invalidArgument, "\(ins.keyword) requires at least two arguments")
        }
        var heredocs = ins.heredocs[...]
        var patterns: [(text: String, heredoc: Heredoc?)] = []
        for item in items {
            if item.hasPrefix("<<"), let h = heredocs.first, item.contains(h.name) {
                heredocs = heredocs.dropFirst()
                patterns.append((item, h))
            } else {
                patterns.append((try sw.expand(item), nil))
            }
        }
        let dest = try sw.expand(rawDest)
        let workdir = state.string("WorkingDir").flatMap { $0.isEmpty ? nil : $0 } ?? "/"
        let destination = Self.resolvePath(dest, from: workdir)
        let fromRef = try ins.flag("from").map { f throws(SwctrError) in try expand(f, state) }
        if isAdd && fromRef != nil { throw SwctrError(.invalidArgument, "ADD has no --from (COPY --from copies from a stage)") }
        let chmod = try ins.flag("chmod").map { m throws(SwctrError) -> mode_t in
            guard let v = mode_t(m, radix: 8), v <= 0o7777 else { throw SwctrError(.invalidArgument, "invalid --chmod \(Excerpt.of(m)): want octal like 755") }
            return v
        }
        let chown = try ins.flag("chown").map { c throws(SwctrError) in try expand(c, state) }
        let checksum = ins.flag("checksum")

        var sourceState: StageState?
        if let fromRef { sourceState = try await self.sourceState(fromRef, stage: stage, line: ins.line) }
        let step = CopyStep(instruction: ins, isAdd: isAdd, patterns: patterns, dest: dest, destination: destination, workdir: workdir,
                            fromRef: fromRef, source: sourceState, chmod: chmod, chown: chown, checksum: checksum)
        return try await withStepDirectory { dir throws(SwctrError) in try await copy(step, in: dir, &state) }
    }

    /// A COPY or ADD with its words substituted.
    struct CopyStep {
        var instruction: Instruction
        var isAdd: Bool
        var patterns: [(text: String, heredoc: Heredoc?)]
        var dest: String
        var destination: String
        var workdir: String
        var fromRef: String?
        var source: StageState?
        var chmod: mode_t?
        var chown: String?
        var checksum: String?
    }

    func copy(_ c: CopyStep, in dir: String, _ state: inout StageState) async throws(SwctrError) -> Bool {
        let ins = c.instruction
        let (isAdd, patterns, dest, destination, workdir, fromRef) = (c.isAdd, c.patterns, c.dest, c.destination, c.workdir, c.fromRef)
        let (chmod, chown, checksum) = (c.chmod, c.chown, c.checksum)
        var source = context
        var sourceKey = "context"
        if let s = c.source {
            sourceKey = "from " + s.key
            let fromDir = dir + "/from"
            try Self.io { () throws(SystemError) in try FileIO.mkdirAll(fromDir + "/upper") }
            close(try mountStep(fromDir, s))
            source = try BuildContext(directory: fromDir + "/rootfs", isRootfs: true)
        }
        var resolved: [CopySource] = []
        for p in patterns {
            if let h = p.heredoc {
                var body = h
                if h.expands { body.content = try expand(h.content, state) }
                resolved.append(.heredoc(body))
            } else if isAdd, p.text.hasPrefix("http://") || p.text.hasPrefix("https://") {
                resolved.append(.url(p.text))
            } else {
                if fromRef == nil, p.text.contains("://") {
                    throw SwctrError(.invalidArgument, "COPY takes no URLs (ADD fetches one): \(Excerpt.of(p.text))")
                }
                resolved += try source.sources(p.text).map { .tree($0) }
            }
        }
        let wildcard = patterns.contains { $0.heredoc == nil && $0.text.contains(where: { "*?[".contains($0) }) }
        let intoDirectory = dest.hasSuffix("/") || dest == "." || (resolved.count > 1)
        if (resolved.count > 1 || (wildcard && resolved.count > 1)) && !dest.hasSuffix("/") {
            throw SwctrError(.invalidArgument, "When using \(ins.keyword) with more than one source file, the destination must be a directory and end with a /")
        }
        // Downloads happen before the key: their content is part of it.
        var downloads: [String: (path: String, name: String, mtime: timespec?)] = [:]
        for case .url(let url) in resolved {
            downloads[url] = try await download(url, checksum: checksum, into: dir)
        }
        var description = "\(ins.keyword)\n\(sourceKey)\nchown=\(chown ?? "")\nchmod=\(chmod.map { String($0, radix: 8) } ?? "")\n"
        description += "dest=\(destination) dir=\(intoDirectory)\n"
        var treeSources: [BuildContext.Source] = []
        for r in resolved {
            switch r {
            case .tree(let s): treeSources.append(s); description += "src=\(s.relative)\n"
            case .heredoc(let h): description += "heredoc=\(h.name)\n\(h.content)\n"
            case .url(let u): description += "url=\(u) " + (downloads[u].map { (try? ImageComposer.fileDigest($0.path).digest) ?? "" } ?? "") + "\n"
            }
        }
        if fromRef == nil && !treeSources.isEmpty { description += "content=" + (try context.contentDigest(treeSources)) }
        let key = Self.chain(state.key, description)
        if cached(key, &state) { return true }

        let root = try mountStep(dir, state)
        defer { close(root) }
        let owner = try chown.map { c throws(SwctrError) in try Self.owner(c, rootfs: dir + "/rootfs") }
        // WORKDIR's directory exists once something is copied relative to it.
        try TreeCopy.makeDirectories(workdir, in: root)
        var destIsDirectory = intoDirectory
        if !destIsDirectory {
            let probe = RootedPath.open(destination, at: root, flags: RootedPath.O_PATH | O_DIRECTORY)
            if probe >= 0 { destIsDirectory = true; close(probe) }
        }
        if intoDirectory { try TreeCopy.makeDirectories(destination, in: root, owner: owner ?? (0, 0)) }
        for r in resolved {
            switch r {
            case .heredoc(let h):
                let target = destIsDirectory ? destination + "/" + h.name : destination
                try TreeCopy.write(Array(h.content.utf8), to: target, in: root, mode: chmod ?? 0o644, owner: owner ?? (0, 0))
            case .url(let u):
                guard let d = downloads[u] else { continue }
                let target = destIsDirectory ? destination + "/" + d.name : destination
                let bytes = try Self.io { () throws(SystemError) in try FileIO.read(d.path) }
                try TreeCopy.write(bytes, to: target, in: root, mode: chmod ?? 0o600, owner: owner ?? (0, 0), mtime: d.mtime)
            case .tree(let s):
                let (parent, base) = try source.openSource(s)
                defer { close(parent) }
                var st = stat()
                guard fstatat(parent, base, &st, 0) == 0 else { throw TreeArchive.sys("stat \(s.relative)") }
                let isDir = (st.st_mode & S_IFMT) == S_IFDIR
                if isAdd && !isDir, try extractIfArchive(parent, base, into: destination, root: root, owner: owner) { continue }
                let target = isDir || !destIsDirectory ? destination : destination + "/" + s.name
                // Missing parents are made as COPY makes them: 0755, owned by --chown's owner.
                try TreeCopy.makeDirectories(Self.parentPath(target), in: root, owner: owner ?? (0, 0))
                // Context files belong to root unless --chown says otherwise; a stage's keep their owners.
                let context = self.context
                var exclude: (@Sendable (String) -> Bool)?
                if fromRef == nil { exclude = { @Sendable p in context.excluded(p) } }
                let options = TreeCopy.Options(owner: owner ?? (fromRef == nil ? (0, 0) : nil), mode: chmod, exclude: exclude)
                try TreeCopy.copy(parent, base, relative: s.relative, to: target, in: root, options: options)
            }
        }
        Snapshot.unmount(dir)
        try commitStep(dir, key: key, text: ins.text, &state)
        return false
    }

    /// The directory a path is in ("/" for a top-level one).
    static func parentPath(_ path: String) -> String {
        "/" + path.split(separator: "/").dropLast().joined(separator: "/")
    }

    /// `--chown=user[:group]` against the destination's passwd and group files (a user alone
    /// gives its primary group).
    static func owner(_ spec: String, rootfs: String) throws(SwctrError) -> (uid: uid_t, gid: gid_t) {
        let passwd = RootedPath.read("/etc/passwd", in: rootfs).map { String(decoding: $0, as: UTF8.self) }
        let group = RootedPath.read("/etc/group", in: rootfs).map { String(decoding: $0, as: UTF8.self) }
        let u = try UserSpec.resolve(spec, passwd: passwd, group: group)
        return (u.uid, u.gid)
    }

    /// The state COPY --from or RUN --mount from= reads: an earlier stage, or an image.
    func sourceState(_ ref: String, stage: Int, line: Int) async throws(SwctrError) -> StageState {
        if let i = plan.stageIndex(ref, before: stage) {
            guard let s = finished[i] else { throw SwctrError(.failure, "stage \(ref) has not run") }
            return s
        }
        if plan.dockerfile.stages.contains(where: { $0.name == ref.lowercased() }) {
            throw SwctrError(.invalidArgument, "stage \"\(ref)\" comes later in the Dockerfile: --from names an earlier stage")
        }
        if let s = images[ref] { return s }
        let s = try await imageState(ref, line: line, pull: false)
        images[ref] = s
        return s
    }

    /// ADD of a local tar (plain, gzip, bzip2, xz, zstd): unpacked into the destination directory,
    /// every entry inside the rootfs. False when the file is not an archive.
    func extractIfArchive(_ parent: Int32, _ base: String, into destination: String, root: Int32,
                          owner: (uid: uid_t, gid: gid_t)?) throws(SwctrError) -> Bool {
        let fd = openat(parent, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw TreeArchive.sys("open \(base)") }
        defer { close(fd) }
        guard let probe = archive_read_new() else { throw SwctrError(.failure, "libarchive: out of memory") }
        archive_read_support_filter_all(probe)
        archive_read_support_format_tar(probe)
        var entry: OpaquePointer?
        let isArchive = archive_read_open_fd(probe, fd, 1 << 16) == ARCHIVE_OK && archive_read_next_header(probe, &entry) == ARCHIVE_OK
        archive_read_free(probe)
        guard isArchive else { return false }
        lseek(fd, 0, SEEK_SET)
        guard let reader = archive_read_new() else { throw SwctrError(.failure, "libarchive: out of memory") }
        defer { archive_read_free(reader) }
        archive_read_support_filter_all(reader)
        archive_read_support_format_tar(reader)
        guard archive_read_open_fd(reader, fd, 1 << 16) == ARCHIVE_OK else { throw SwctrError(.failure, "\(base): \(LayerUnpacker.message(reader))") }
        try TreeCopy.makeDirectories(destination, in: root)
        try TreeArchive.extract(reader, in: root, into: destination, owner: owner)
        return true
    }
}
