import OCI

/// Parts of the config the parent resolves once, before it forks, into what the container's init
/// acts on: the init no longer parses or looks them up, and a value that cannot be used fails in
/// the parent with the config's field in the message.

/// A spec mount with its options parsed into flags, propagation and data.
struct PlannedMount {
    let mount: OCI.Mount
    let options: MountOptions

    static func plan(_ mounts: [OCI.Mount]) -> [PlannedMount] {
        mounts.map { PlannedMount(mount: $0, options: MountOptions($0.options ?? [])) }
    }
}

/// One `process.rlimits` entry with its kernel resource number.
struct ResolvedRlimit {
    /// Its place in process.rlimits, for errors.
    let index: Int
    let type: String
    let resource: Int32
    let soft: UInt64
    let hard: UInt64

    /// The known limits, in the config's order; names this kernel build does not know are
    /// skipped, as before (validation already refused malformed ones).
    static func resolve(_ limits: [Rlimit]) -> [ResolvedRlimit] {
        limits.enumerated().compactMap { (i, l) in
            KnownNames.rlimits[l.type].map { ResolvedRlimit(index: i, type: l.type, resource: $0, soft: l.soft, hard: l.hard) }
        }
    }
}

/// One `linux.sysctl` entry as the file the init writes.
struct SysctlWrite {
    let key: String
    let path: String
    let value: String

    /// In key order, as before.
    static func plan(_ sysctl: [String: String]?) -> [SysctlWrite] {
        (sysctl ?? [:]).sorted(by: { $0.key < $1.key }).map {
            SysctlWrite(key: $0.key, path: "/proc/sys/" + $0.key.replacingOccurrences(of: ".", with: "/"), value: $0.value)
        }
    }
}

extension String {
    func replacingOccurrences(of a: Character, with b: Character) -> String {
        String(map { $0 == a ? b : $0 })
    }
}
