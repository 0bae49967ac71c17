import HostOS
import Glibc

/// Where each cgroup controller lives on this host, read from /proc/self/mountinfo and
/// /proc/self/cgroup. On a hybrid host v1 controllers have their own mounts and the cgroup2
/// mount (if any) holds the rest; `unified` is that cgroup2 mount.
public struct CgroupLayout: Sendable, Equatable {
    public struct Hierarchy: Sendable, Equatable {
        /// Controllers (and `name=` tags) of a v1 mount; empty for cgroup2.
        public var controllers: [String]
        public var mountPoint: String
        /// The cgroup path that the mount point shows (not "/" inside a container).
        public var mountRoot: String
        public var mountOptions: String
    }

    public var v1: [Hierarchy]
    public var unified: Hierarchy?
    /// This process's own cgroup per v1 controller, and under "" the cgroup2 path.
    public var ownPaths: [String: String]

    /// Pure cgroup v2 host: every controller under one hierarchy.
    public var isUnifiedOnly: Bool { v1.isEmpty && unified != nil }

    public static func current() throws(RuntimeError) -> CgroupLayout {
        try parse(mountinfo: FileIO.readString("/proc/self/mountinfo"),
                  cgroup: FileIO.readString("/proc/self/cgroup"))
    }

    public static func parse(mountinfo: String, cgroup: String) -> CgroupLayout {
        var v1: [Hierarchy] = []
        var unified: Hierarchy?
        for line in mountinfo.split(separator: "\n") {
            // Spaces in paths are escaped (\040), so fields split on spaces; a lone "-" ends the
            // optional fields and comes before the filesystem type, source and options.
            let fields = line.split(separator: " ")
            guard let dash = fields.indices.first(where: { $0 >= 5 && fields[$0] == "-" }) else { continue }
            let left = fields[..<dash]
            let right = Array(fields[(dash + 1)...])
            guard left.count >= 5, right.count >= 3 else { continue }
            let fstype = right[0]
            let mountRoot = unescape(String(left[3]))
            let mountPoint = unescape(String(left[4]))
            if fstype == "cgroup2" {
                if unified == nil {
                    unified = Hierarchy(controllers: [], mountPoint: mountPoint, mountRoot: mountRoot,
                                        mountOptions: String(right[2]))
                }
            } else if fstype == "cgroup" {
                let known = Set(["cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids",
                                 "net_cls", "net_prio", "perf_event", "hugetlb", "rdma", "misc"])
                let controllers = right[2].split(separator: ",").map(String.init)
                    .filter { known.contains($0) || $0.hasPrefix("name=") }
                if !controllers.isEmpty && !v1.contains(where: { $0.controllers == controllers }) {
                    v1.append(Hierarchy(controllers: controllers, mountPoint: mountPoint, mountRoot: mountRoot,
                                        mountOptions: String(right[2])))
                }
            }
        }
        var own: [String: String] = [:]
        for line in cgroup.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            if parts[1].isEmpty {
                own[""] = String(parts[2])
            } else {
                for c in parts[1].split(separator: ",") { own[String(c)] = String(parts[2]) }
            }
        }
        return CgroupLayout(v1: v1, unified: unified, ownPaths: own)
    }

    /// mountinfo escapes space, tab, newline and backslash as octal.
    static func unescape(_ s: String) -> String {
        guard s.contains("\\") else { return s }
        var out = [UInt8]()
        let bytes = Array(s.utf8)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "\\"), i + 3 < bytes.count,
               let v = UInt8(String(decoding: bytes[(i + 1)...(i + 3)], as: UTF8.self), radix: 8) {
                out.append(v)
                i += 4
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
