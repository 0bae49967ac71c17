import HostOS
import JSON

public enum Cgroups {
    /// Resolves a spec `cgroupsPath` the way runc's cgroupfs driver does: absolute paths hang off
    /// each hierarchy root, relative ones off this process's own cgroup, and an empty one means
    /// the container id relative to it. A path that resolves to a hierarchy's root, to the
    /// runtime's own cgroup, or outside the part of the hierarchy this process can see is refused:
    /// `delete` kills what is in the container's cgroup, and those hold the rest of the host.
    public static func driver(cgroupsPath: String?, id: String, layout: CgroupLayout) throws(RuntimeError) -> any CgroupDriver {
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
        return driver(paths: paths)
    }

    /// The driver for recorded paths: v1 without the unified hierarchy, v2 with it alone, hybrid
    /// with both. No paths at all (rootless without a delegated cgroup) is a v1 driver over nothing.
    public static func driver(paths: [String: String], owned: Set<String>? = nil) -> any CgroupDriver {
        guard let unified = paths[""] else { return CgroupV1(paths: paths, owned: owned) }
        if paths.count == 1 { return CgroupV2(path: unified, owned: owned) }
        return HybridCgroup(paths: paths, owned: owned)
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
