import Database
import Glibc
import HostOS
import Images
import JSON
import Registry

/// A tree COPY and ADD read sources from: the build context — a directory minus what
/// `.dockerignore` leaves out, whose sources are opened below its own fd (openat2 RESOLVE_BENEATH,
/// then O_NOFOLLOW within), so neither `..` nor a symlink can make a build read a file outside it
/// and trying is an error — or a stage's or an image's rootfs (COPY --from), where paths and
/// symlinks resolve inside the root as they would in a container.
final class BuildContext: Sendable {
    let path: String
    let fd: Int32
    let ignore: DockerIgnore
    /// A rootfs: symlinks resolve inside it (RESOLVE_IN_ROOT) instead of being refused.
    let isRootfs: Bool

    /// One source a pattern names: its path relative to the context ("" for the context itself).
    struct Source: Sendable, Equatable {
        var relative: String
        var name: String { relative.split(separator: "/").last.map(String.init) ?? "" }
    }

    init(directory: String, isRootfs: Bool = false) throws(SwctrError) {
        self.isRootfs = isRootfs
        fd = open(directory, RootedPath.O_PATH | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            throw SwctrError(errno == ENOENT ? .notFound : .invalidArgument,
                             "unable to prepare context: path \(Excerpt.of(directory)) not found or not a directory")
        }
        // The canonical path: sources are checked against where their fds really lead.
        path = Self.pathOf(fd) ?? directory
        let text = isRootfs ? "" : (try? FileIO.readString(directory + "/.dockerignore")) ?? ""
        ignore = DockerIgnore(text)
    }

    deinit { close(fd) }

    /// Opens a path of the tree: below the context, or inside the rootfs.
    func openPath(_ relative: String, flags: Int32) -> Int32 {
        isRootfs ? RootedPath.open(relative, at: fd, flags: flags) : RootedPath.openBeneath(relative, at: fd, flags: flags)
    }

    /// How errors name the tree.
    var shownAs: String { isRootfs ? "the source image" : "the build context" }

    func excluded(_ relative: String) -> Bool { !relative.isEmpty && ignore.excludes(relative) }

    /// `pattern` (a path in the context; `*`, `?` and `[…]` in any segment) → the sources it
    /// names, sorted. A plain path that does not exist or is ignored, a pattern that matches
    /// nothing, and a path that leads out of the context are errors.
    func sources(_ pattern: String) throws(SwctrError) -> [Source] {
        var parts: [String] = []
        for p in pattern.split(separator: "/") where p != "." {
            if p == ".." {
                guard !parts.isEmpty else {
                    if isRootfs { continue }
                    throw SwctrError(.invalidArgument, "forbidden path outside the build context: \(Excerpt.of(pattern))")
                }
                parts.removeLast()
            } else {
                parts.append(String(p))
            }
        }
        let wild = parts.contains { $0.contains(where: { "*?[".contains($0) }) }
        if !wild {
            let relative = parts.joined(separator: "/")
            try check(relative, shown: pattern)
            return [Source(relative: relative)]
        }
        var found: [String] = [""]
        for part in parts {
            var next: [String] = []
            for dir in found {
                let isPattern = part.contains(where: { "*?[".contains($0) })
                let candidates = isPattern ? entries(dir).filter { fnmatch(part, $0, 0) == 0 } : [part]
                for c in candidates {
                    let rel = dir.isEmpty ? c : dir + "/" + c
                    if excluded(rel) { continue }
                    let probe = openPath(rel, flags: RootedPath.O_PATH | O_NOFOLLOW)
                    if probe >= 0 { close(probe); next.append(rel) }
                }
            }
            found = next
        }
        guard !found.isEmpty else { throw SwctrError(.notFound, "no source files were specified: nothing matches \(Excerpt.of(pattern))") }
        return found.sorted().map { Source(relative: $0) }
    }

    /// The entry exists, is not ignored, and is reached without leaving the context.
    func check(_ relative: String, shown: String) throws(SwctrError) {
        if excluded(relative) { throw SwctrError(.notFound, "\"/\(relative)\": not found (excluded by .dockerignore)") }
        let probe = openPath(relative, flags: RootedPath.O_PATH)
        if probe >= 0 { close(probe); return }
        switch errno {
        case EXDEV, ELOOP: throw SwctrError(.invalidArgument, "forbidden path outside the build context: \(Excerpt.of(shown)) (a symlink leads out of it)")
        case ENOENT, ENOTDIR: throw SwctrError(.notFound, "\"/\(relative)\": not found in \(shownAs)")
        default: throw TreeArchive.sys("open \(shown) in \(shownAs)")
        }
    }

    /// The directory holding a source, opened below the context, and the source's name in it;
    /// a source that is a symlink is followed (inside the context), as COPY follows it.
    func openSource(_ s: Source) throws(SwctrError) -> (parent: Int32, base: String) {
        if s.relative.isEmpty {
            let d = openPath("", flags: RootedPath.O_PATH | O_DIRECTORY)
            guard d >= 0 else { throw TreeArchive.sys("open \(shownAs)") }
            return (d, ".")
        }
        let target = openPath(s.relative, flags: RootedPath.O_PATH)
        guard target >= 0 else { throw TreeArchive.sys("open \(s.relative)") }
        // The resolved file, named through /proc/self/fd of its O_PATH fd's parent would lose
        // the name: reopen the parent of the resolved path instead.
        let resolved = Self.pathOf(target)
        close(target)
        guard let resolved, resolved == path || resolved.hasPrefix(path.hasSuffix("/") ? path : path + "/") else {
            throw SwctrError(.invalidArgument, "forbidden path outside the build context: \(Excerpt.of(s.relative))")
        }
        let inside = String(resolved.dropFirst(path.count)).split(separator: "/").map(String.init)
        guard let base = inside.last else { return try openSource(Source(relative: "")) }
        let parent = openPath(inside.dropLast().joined(separator: "/"), flags: RootedPath.O_PATH | O_DIRECTORY)
        guard parent >= 0 else { throw TreeArchive.sys("open \(s.relative)") }
        return (parent, base)
    }

    static func pathOf(_ fd: Int32) -> String? {
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/fd/\(fd)", &buf, buf.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func entries(_ relative: String) -> [String] {
        let d = openPath(relative, flags: O_RDONLY | O_DIRECTORY)
        guard d >= 0 else { return [] }
        defer { close(d) }
        return TreeArchive.directoryEntries(d)
    }

    /// A digest of what the sources hold — names, types, modes, owners, sizes, contents and link
    /// targets, with ignored files left out (times are not part of it, as BuildKit leaves them
    /// out): the part of a COPY's cache key that changes when a source does.
    func contentDigest(_ sources: [Source]) throws(SwctrError) -> String {
        let hasher = Digest.Hasher()
        for s in sources {
            let (parent, base) = try openSource(s)
            defer { close(parent) }
            try hashEntry(parent, base, relative: s.relative, shown: s.relative.isEmpty ? "." : s.relative, into: hasher)
        }
        return hasher.finish()
    }

    private func hashEntry(_ parent: Int32, _ base: String, relative: String, shown: String, into hasher: Digest.Hasher) throws(SwctrError) {
        var st = stat()
        guard fstatat(parent, base, &st, AT_SYMLINK_NOFOLLOW) == 0 else { throw TreeArchive.sys("stat \(shown)") }
        let type = st.st_mode & S_IFMT
        hasher.update(Array("\(shown)\0\(st.st_mode)\0\(st.st_uid):\(st.st_gid)\0\(st.st_size)\0".utf8))
        switch type {
        case S_IFDIR:
            let d = openat(parent, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard d >= 0 else { throw TreeArchive.sys("open \(shown)") }
            defer { close(d) }
            for child in TreeArchive.directoryEntries(d).sorted() {
                let rel = relative.isEmpty ? child : relative + "/" + child
                if excluded(rel) { continue }
                try hashEntry(d, child, relative: rel, shown: shown + "/" + child, into: hasher)
            }
        case S_IFREG:
            let f = openat(parent, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
            guard f >= 0 else { throw TreeArchive.sys("open \(shown)") }
            defer { close(f) }
            var buf = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let n = buf.withUnsafeMutableBytes { read(f, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                guard n >= 0 else { throw TreeArchive.sys("read \(shown)") }
                if n == 0 { break }
                buf.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            }
        case S_IFLNK:
            hasher.update(Array((TreeArchive.readLink(parent, base) ?? "").utf8))
        default:
            hasher.update(Array("\(st.st_rdev)".utf8))
        }
    }
}
