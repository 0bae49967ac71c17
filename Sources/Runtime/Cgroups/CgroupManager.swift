import JSON
import HostOS
import Glibc
import OCI

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
    /// the container id relative to it. A path that resolves to a hierarchy's root, to the
    /// runtime's own cgroup, or outside the part of the hierarchy this process can see is refused:
    /// `delete` kills what is in the container's cgroup, and those hold the rest of the host.
    public static func manager(cgroupsPath: String?, id: String, layout: CgroupLayout) throws(RuntimeError) -> FSCgroupManager {
        let given = cgroupsPath ?? ""
        let inner = given.isEmpty ? id : cleanPath(given)
        let quoted = "\"\(Excerpt.of(given))\""
        var paths: [String: String] = [:]
        func resolve(_ h: CgroupLayout.Hierarchy, own: String?) throws(RuntimeError) -> String {
            let rel = inner.hasPrefix("/") ? inner : cleanPath(join(own ?? "/", inner))
            if rel == "/" {
                throw RuntimeError("linux.cgroupsPath: \(quoted) resolves to the root of the cgroup hierarchy")
            }
            if !inner.hasPrefix("/"), rel == cleanPath(own ?? "/") {
                throw RuntimeError("linux.cgroupsPath: \(quoted) resolves to the runtime's own cgroup")
            }
            // Inside a container the mount shows a subtree: strip its root from the cgroup path.
            var local = rel
            if h.mountRoot != "/" {
                guard rel.hasPrefix(h.mountRoot + "/") else {
                    throw RuntimeError("linux.cgroupsPath: \(quoted) is outside the cgroup tree visible here (\(h.mountRoot))")
                }
                local = String(rel.dropFirst(h.mountRoot.count))
            }
            return join(h.mountPoint, local)
        }
        for h in layout.v1 {
            let own = h.controllers.compactMap { layout.ownPaths[$0] }.first
            let path = try resolve(h, own: own)
            for c in h.controllers { paths[c] = path }
        }
        if let u = layout.unified { paths[""] = try resolve(u, own: layout.ownPaths[""]) }
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
///
/// Ownership: `owned` lists the directories this container created (recorded before they are
/// made); only those are removed. A directory that already existed is used only if it holds no
/// process, and is left in place at delete.
public struct FSCgroupManager: CgroupManager {
    public let paths: [String: String]
    /// Directories this container created; nil for records written before ownership was kept
    /// (every directory is then taken as the container's).
    public var owned: Set<String>?

    public init(paths: [String: String], owned: Set<String>? = nil) {
        self.paths = paths
        self.owned = owned
    }

    /// Distinct directories (co-mounted controllers share one).
    var directories: [String] { Array(Set(paths.values)).sorted() }

    /// The directories `create` will make: record them before calling it.
    public func missingDirectories() -> Set<String> {
        Set(directories.filter { !FileIO.exists($0) })
    }

    /// Makes the missing directories and checks that the existing ones are empty: a cgroup that
    /// already holds processes belongs to someone else, and delete would kill them.
    public func create() throws(RuntimeError) {
        for dir in directories {
            if FileIO.exists(dir) {
                let members = Self.members(of: dir)
                if !members.isEmpty {
                    let shown = members.prefix(3).map(String.init).joined(separator: ", ")
                    throw RuntimeError("linux.cgroupsPath: container's cgroup is not empty: \(dir) has processes (pid \(shown)\(members.count > 3 ? ", …" : ""))")
                }
                continue
            }
            try FileIO.mkdirAll(dir)
        }
        // A frozen cgroup (its own, or under a frozen parent) would freeze the init as it joins,
        // and create would wait for it until its timeout: refused at once, as runc refuses it.
        for dir in directories {
            let frozenV1 = (try? FileIO.readString(dir + "/freezer.state"))?.trimmed() == "FROZEN"
            let frozenV2 = (try? FileIO.readString(dir + "/cgroup.events"))?.contains("frozen 1") == true
            if frozenV1 || frozenV2 {
                throw RuntimeError("linux.cgroupsPath: container's cgroup unexpectedly frozen (\(dir)): thaw it first")
            }
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
                throw RuntimeError("error adding pid \(pid) to cgroup \(dir): \(error)", errno: error.errno)
            }
        }
    }

    public func pids() -> [Int32] {
        var all = Set<Int32>()
        for dir in directories { all.formUnion(Self.members(of: dir)) }
        return all.sorted()
    }

    static func members(of dir: String) -> [Int32] {
        guard let text = try? FileIO.readString("\(dir)/cgroup.procs") else { return [] }
        return text.split(separator: "\n").compactMap { Int32($0) }
    }

    /// The container's processes among the cgroup's members: with a pid namespace of its own,
    /// only those in that namespace (a process moved in from outside is not the container's).
    public func containerPids(pidNamespace: UInt64?) -> [Int32] {
        let all = pids()
        guard let pidNamespace else { return all }
        return all.filter { ProcStat.pidNamespace(of: $0).map { $0 == pidNamespace } ?? false }
    }

    /// Undoing a create that never ran a container process: only its own directories are
    /// touched, and nothing is killed in one that existed before.
    public func destroy() throws(RuntimeError) { try destroy(pidNamespace: nil, ran: false) }

    /// Kills the container's stragglers, then removes the directories it created (and the child
    /// cgroups made inside any of its directories). Fails naming what is left. `ran`: the
    /// container got to run, so members of a directory that existed before (and was empty at
    /// create) are its processes too; otherwise only the directories it made are emptied.
    public func destroy(pidNamespace: UInt64?, ran: Bool = true) throws(RuntimeError) {
        // A cgroup with members cannot be removed: kill the container's own processes first.
        let scope = ran ? self : FSCgroupManager(paths: paths.filter { owned?.contains($0.value) ?? true }, owned: owned)
        for _ in 0..<100 {
            let left = scope.containerPids(pidNamespace: pidNamespace)
            if left.isEmpty { break }
            for p in left { kill(p, SIGKILL) }
            usleep(10_000)
        }
        var failures: [String] = []
        var cause: Int32 = 0
        for dir in directories {
            let ours = owned?.contains(dir) ?? true
            if ours {
                if !removeRecursively(dir) { failures.append(dir); cause = errno }
            } else {
                for name in FileIO.listSubdirectories(dir) where !removeRecursively("\(dir)/\(name)") {
                    failures.append("\(dir)/\(name)")
                    cause = errno
                }
            }
        }
        if !failures.isEmpty {
            throw RuntimeError("remove cgroup \(failures.joined(separator: ", ")): \(String(cString: strerror(cause)))", errno: cause)
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
