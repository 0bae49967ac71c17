import Glibc

/// One container's cgroup across every hierarchy of the host. Drivers differ in where paths
/// live; callers only create, join, list, and destroy.
public protocol CgroupManager: Sendable {
    /// Absolute directories by controller name ("" = cgroup2).
    var paths: [String: String] { get }
    func create() throws(RuntimeError)
    func add(pid: Int32) throws(RuntimeError)
    /// Every pid in the container's cgroup.
    func pids() -> [Int32]
    /// Kills what is left and removes the directories.
    func destroy() throws(RuntimeError)
}

public enum Cgroups {
    /// Resolves a spec `cgroupsPath` the way runc's cgroupfs driver does: absolute paths hang off
    /// each hierarchy root, relative ones off this process's own cgroup, and an empty one means
    /// the container id relative to it.
    public static func manager(cgroupsPath: String?, id: String, layout: CgroupLayout) -> FSCgroupManager {
        let inner = (cgroupsPath?.isEmpty ?? true) ? id : cleanPath(cgroupsPath!)
        var paths: [String: String] = [:]
        func resolve(_ h: CgroupLayout.Hierarchy, own: String?) -> String {
            let rel: String
            if inner.hasPrefix("/") {
                rel = inner
            } else {
                rel = join(own ?? "/", inner)
            }
            // Inside a container the mount shows a subtree: strip its root from the cgroup path.
            var local = rel
            if h.mountRoot != "/" && local.hasPrefix(h.mountRoot) { local = String(local.dropFirst(h.mountRoot.count)) }
            return join(h.mountPoint, local)
        }
        for h in layout.v1 {
            let own = h.controllers.compactMap { layout.ownPaths[$0] }.first
            let path = resolve(h, own: own)
            for c in h.controllers { paths[c] = path }
        }
        if let u = layout.unified { paths[""] = resolve(u, own: layout.ownPaths[""]) }
        return FSCgroupManager(paths: paths)
    }

    public static func cleanPath(_ p: String) -> String {
        var parts: [Substring] = []
        for comp in p.split(separator: "/") {
            if comp == "." { continue }
            if comp == ".." { if !parts.isEmpty { parts.removeLast() }; continue }
            parts.append(comp)
        }
        return (p.hasPrefix("/") ? "/" : "") + parts.joined(separator: "/")
    }

    public static func join(_ a: String, _ b: String) -> String {
        let left = a.hasSuffix("/") ? String(a.dropLast()) : a
        let right = b.hasPrefix("/") ? String(b.dropFirst()) : b
        if right.isEmpty { return left.isEmpty ? "/" : left }
        return left + "/" + right
    }
}

/// The cgroupfs driver for v1, v2 and hybrid layouts: one directory per hierarchy.
public struct FSCgroupManager: CgroupManager {
    public let paths: [String: String]

    public init(paths: [String: String]) { self.paths = paths }

    /// Distinct directories (co-mounted controllers share one).
    var directories: [String] { Array(Set(paths.values)).sorted() }

    public func create() throws(RuntimeError) {
        for dir in directories {
            try FileIO.mkdirAll(dir)
        }
        if let cpuset = paths["cpuset"] { try Self.fillCpuset(cpuset) }
    }

    /// A new v1 cpuset cgroup starts with empty cpus/mems and refuses tasks until they are set:
    /// copy them down from the nearest ancestor that has them.
    static func fillCpuset(_ dir: String) throws(RuntimeError) {
        for file in ["cpuset.cpus", "cpuset.mems"] {
            var chain: [String] = []
            var cur = dir
            while true {
                guard let value = try? FileIO.readString("\(cur)/\(file)") else { break }
                if !value.trimmed().isEmpty { break }
                chain.append(cur)
                guard let slash = cur.lastIndex(of: "/"), slash != cur.startIndex else { break }
                cur = String(cur[..<slash])
            }
            guard let source = try? FileIO.readString("\(cur)/\(file)").trimmed(), !source.isEmpty else { continue }
            for d in chain.reversed() {
                try FileIO.writeExisting("\(d)/\(file)", source)
            }
        }
    }

    public func add(pid: Int32) throws(RuntimeError) {
        for dir in directories {
            do {
                try FileIO.writeExisting("\(dir)/cgroup.procs", String(pid))
            } catch {
                throw RuntimeError("join cgroup \(dir): \(error)", errno: error.errno)
            }
        }
    }

    public func pids() -> [Int32] {
        var all = Set<Int32>()
        for dir in directories {
            guard let text = try? FileIO.readString("\(dir)/cgroup.procs") else { continue }
            for line in text.split(separator: "\n") { if let p = Int32(line) { all.insert(p) } }
        }
        return all.sorted()
    }

    public func destroy() throws(RuntimeError) {
        // Kill stragglers first: a cgroup with members cannot be removed.
        for _ in 0..<100 {
            let left = pids()
            if left.isEmpty { break }
            for p in left { kill(p, SIGKILL) }
            usleep(10_000)
        }
        var failures: [String] = []
        // Deepest first, so nested cgroups created by the container go before their parent.
        for dir in directories {
            if !removeRecursively(dir) { failures.append(dir) }
        }
        if !failures.isEmpty {
            throw RuntimeError("remove cgroup \(failures.joined(separator: ", ")): \(String(cString: strerror(errno)))")
        }
    }

    /// rmdir first: a cgroup without children goes at once, control files and all. Only a busy
    /// one is walked for child cgroups (by d_type, no stat per control file) and retried.
    private func removeRecursively(_ dir: String) -> Bool {
        for attempt in 0..<50 {
            if rmdir(dir) == 0 || errno == ENOENT { return true }
            if errno != EBUSY && errno != ENOTEMPTY { return false }
            for name in FileIO.listSubdirectories(dir) { _ = removeRecursively("\(dir)/\(name)") }
            if rmdir(dir) == 0 || errno == ENOENT { return true }
            usleep(UInt32(min(1000 * (attempt + 1), 20_000)))
        }
        return false
    }
}
