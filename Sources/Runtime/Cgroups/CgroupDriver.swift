import Glibc
import HostOS
import OCI

/// One container's cgroup, whatever the host's layout: its directories (made, joined, emptied
/// and removed the same way on every version), its limits, counters and freezer (which differ).
/// CgroupV1, CgroupV2 and HybridCgroup (both at once) are the cgroupfs drivers; a systemd
/// driver would be one more beside them.
///
/// Ownership: `owned` lists the directories this container created (recorded before they are
/// made); only those are removed. A directory that already existed is used only if it holds no
/// process, and is left in place at delete.
public protocol CgroupDriver: Sendable {
    /// Absolute directories by controller name ("" = cgroup2).
    var paths: [String: String] { get }
    /// Directories this container created; nil for records written before ownership was kept
    /// (every directory is then taken as the container's).
    var owned: Set<String>? { get set }
    /// Writes linux.resources (`includeDevices` false: the device rules are left as they are).
    func apply(_ resources: Resources, includeDevices: Bool) throws(RuntimeError)
    /// runc's `events` stats document.
    func stats() -> CgroupStats
    /// Current memory use in bytes.
    func memoryUsage() -> UInt64
    /// The kernel's count of OOM kills in the cgroup.
    func oomKills() -> UInt64
    var isFrozen: Bool { get }
    /// Freezes or thaws every process, waiting (bounded) until the kernel reports it done.
    func setFrozen(_ frozen: Bool) throws(RuntimeError)
}

extension CgroupDriver {
    public func apply(_ resources: Resources) throws(RuntimeError) { try apply(resources, includeDevices: true) }

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
                let members = CgroupFiles.members(of: dir)
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
            let frozenV2 = (try? FileIO.readString(dir + "/cgroup.events"))?.split(separator: "\n").contains("frozen 1") == true
            if frozenV1 || frozenV2 {
                throw RuntimeError("linux.cgroupsPath: container's cgroup unexpectedly frozen (\(dir)): thaw it first")
            }
        }
        if let cpuset = paths["cpuset"] { try CgroupFiles.fillCpuset(cpuset) }
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

    /// Every pid in the container's cgroup, across hierarchies.
    public func pids() -> [Int32] { CgroupFiles.pids(in: directories) }

    /// The container's processes among the cgroup's members: with a pid namespace of its own,
    /// only those in that namespace (a process moved in from outside is not the container's).
    public func containerPids(pidNamespace: UInt64?) -> [Int32] {
        CgroupFiles.containerPids(in: directories, pidNamespace: pidNamespace)
    }

    /// Sends `signal` to every process of the container (with a pid namespace of its own, those
    /// in it). With `freeze` the cgroup is frozen meanwhile, so nothing forks between the listing
    /// and the signal (runc's order); without a freezer it is signalled as it is.
    public func signalAll(_ signal: Int32, pidNamespace: UInt64?, freeze: Bool) {
        if freeze { try? setFrozen(true) }
        for pid in containerPids(pidNamespace: pidNamespace) { kill(pid, signal) }
        if freeze { try? setFrozen(false) }
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
        let scope = ran ? directories : directories.filter { owned?.contains($0) ?? true }
        for _ in 0..<100 {
            let left = CgroupFiles.containerPids(in: scope, pidNamespace: pidNamespace)
            if left.isEmpty { break }
            for p in left { kill(p, SIGKILL) }
            usleep(10_000)
        }
        var failures: [String] = []
        var cause: Int32 = 0
        for dir in directories {
            if owned?.contains(dir) ?? true {
                if !CgroupFiles.removeRecursively(dir) { failures.append(dir); cause = errno }
            } else {
                for name in FileIO.listSubdirectories(dir) where !CgroupFiles.removeRecursively("\(dir)/\(name)") {
                    failures.append("\(dir)/\(name)")
                    cause = errno
                }
            }
        }
        if !failures.isEmpty {
            throw RuntimeError("remove cgroup \(failures.joined(separator: ", ")): \(String(cString: strerror(cause)))", errno: cause)
        }
    }

    /// Writes knobs in order, each into its controller's directory. A controller the host lacks
    /// is an error naming the field, except for knobs the spec lets a runtime skip.
    func write(_ writes: [CgroupWrite]) throws(RuntimeError) {
        var pending = writes[...]
        while let w = pending.first {
            pending = pending.dropFirst()
            guard let dir = paths[w.controller] else {
                if w.optional { continue }
                throw RuntimeError("\(w.field): the \(w.controller) cgroup controller is not available on this host", field: w.field)
            }
            let path = "\(dir)/\(w.file)"
            if !FileIO.exists(path) {
                if w.optional { continue }
                if w.field.hasPrefix("linux.resources.unified"), paths.keys.contains(where: { !$0.isEmpty }) {
                    // A v2 key for a controller that cgroup v1 manages on this host (runc's words).
                    throw RuntimeError("\(w.field): invalid configuration: \(w.file) needs its controller in the cgroup v2 hierarchy, and this host manages it with cgroup v1", field: w.field, path: path)
                }
                throw RuntimeError("\(w.field): \(w.file) is not supported by this kernel", field: w.field, path: path)
            }
            do {
                try FileIO.writeExisting(path, w.value)
            } catch {
                // Pairs the kernel checks against each other (memory below memsw, a cfs or rt
                // period against its quota and the parent's share) are refused in one order and
                // fine in the other: retry with the partner written first.
                if let partnerFile = CgroupFiles.writtenTogether[w.file], let partner = pending.first(where: { $0.file == partnerFile }) {
                    try? FileIO.writeExisting("\(dir)/\(partner.file)", partner.value)
                    if (try? FileIO.writeExisting(path, w.value)) != nil { continue }
                }
                let cause = error.errno.map { String(cString: strerror($0)) } ?? error.message
                throw RuntimeError("\(w.field): write \(w.file)=\(w.value): \(cause)", errno: error.errno, field: w.field, path: path)
            }
        }
    }

    /// A counter file's number; "max" (no limit) and v1's huge "unlimited" sentinel read as 0,
    /// as runc reports them.
    func number(_ controller: String, _ file: String) -> UInt64 {
        guard let dir = paths[controller], let text = try? FileIO.readString("\(dir)/\(file)") else { return 0 }
        return UInt64(text.trimmed()) ?? 0
    }

    /// A flat-keyed file (`key value` lines).
    func keyed(_ controller: String, _ file: String) -> [String: UInt64] {
        guard let dir = paths[controller], let text = try? FileIO.readString("\(dir)/\(file)") else { return [:] }
        var out: [String: UInt64] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let v = UInt64(parts[1]) { out[String(parts[0])] = v }
        }
        return out
    }
}

/// The file-level helpers every driver shares.
enum CgroupFiles {
    /// v1 files written in this order, whose partner goes first when the kernel refuses that order.
    static let writtenTogether = [
        "memory.limit_in_bytes": "memory.memsw.limit_in_bytes",
        "cpu.cfs_period_us": "cpu.cfs_quota_us",
        "cpu.rt_period_us": "cpu.rt_runtime_us",
    ]

    static func members(of dir: String) -> [Int32] {
        guard let text = try? FileIO.readString("\(dir)/cgroup.procs") else { return [] }
        return text.split(separator: "\n").compactMap { Int32($0) }
    }

    static func pids(in directories: [String]) -> [Int32] {
        var all = Set<Int32>()
        for dir in directories { all.formUnion(members(of: dir)) }
        return all.sorted()
    }

    static func containerPids(in directories: [String], pidNamespace: UInt64?) -> [Int32] {
        let all = pids(in: directories)
        guard let pidNamespace else { return all }
        return all.filter { ProcStat.pidNamespace(of: $0).map { $0 == pidNamespace } ?? false }
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

    /// rmdir first: a cgroup without children goes at once, control files and all. Only a busy
    /// one is walked for child cgroups (by d_type, no stat per control file) and retried.
    static func removeRecursively(_ dir: String) -> Bool {
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
