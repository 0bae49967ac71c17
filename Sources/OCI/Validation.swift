import JSON
// Semantic checks on a decoded config: the first problem is reported with its JSON path.
// These are the checks that need nothing from the host; the runtime checks the rest
// (paths that must exist, kernel support) when it acts.

extension Spec {
    public func validate() throws(SpecError) {
        let major = ociVersion.split(separator: ".").first.flatMap { Int($0) }
        guard major == 1 else {
            throw SpecError("ociVersion", "unsupported version \"\(Excerpt.of(ociVersion))\" (want 1.x)")
        }
        guard let root, !root.path.isEmpty else { throw SpecError("root.path", "required field is missing") }
        // The spec needs a process only for `start`: a config without one can still be created.
        try process?.validate(at: "process")

        let namespaces = linux?.namespaces ?? []
        var seen = Set<String>()
        for (i, ns) in namespaces.enumerated() {
            guard NamespaceType(rawValue: ns.type) != nil else {
                throw SpecError("linux.namespaces[\(i)].type", "unknown namespace type \"\(Excerpt.of(ns.type))\"")
            }
            guard seen.insert(ns.type).inserted else {
                throw SpecError("linux.namespaces[\(i)].type", "duplicate namespace type \"\(Excerpt.of(ns.type))\"")
            }
            // An empty path means a new namespace, as runc reads it.
            if let path = ns.path, !path.isEmpty, !path.hasPrefix("/") {
                throw SpecError("linux.namespaces[\(i)].path", "must be an absolute path, got \"\(Excerpt.of(path))\"")
            }
        }
        let newUser = namespaces.contains { $0.type == "user" && ($0.path ?? "").isEmpty }
        let hasUser = seen.contains("user")
        if let maps = linux?.uidMappings, !maps.isEmpty, !hasUser {
            throw SpecError("linux.uidMappings", "set, but no user namespace is configured")
        }
        if let maps = linux?.gidMappings, !maps.isEmpty, !hasUser {
            throw SpecError("linux.gidMappings", "set, but no user namespace is configured")
        }
        if newUser && (linux?.uidMappings ?? []).isEmpty {
            throw SpecError("linux.uidMappings", "a new user namespace needs uid mappings")
        }
        if newUser && (linux?.gidMappings ?? []).isEmpty {
            throw SpecError("linux.gidMappings", "a new user namespace needs gid mappings")
        }
        for (field, maps) in [("uidMappings", linux?.uidMappings), ("gidMappings", linux?.gidMappings)] {
            for (i, m) in (maps ?? []).enumerated() {
                try m.validate(at: "linux.\(field)[\(i)]")
            }
        }
        for (i, mount) in (mounts ?? []).enumerated() {
            for (field, maps) in [("uidMappings", mount.uidMappings), ("gidMappings", mount.gidMappings)] {
                for (j, m) in (maps ?? []).enumerated() { try m.validate(at: "mounts[\(i)].\(field)[\(j)]") }
            }
        }
        if let path = linux?.cgroupsPath, path.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) {
            throw SpecError("linux.cgroupsPath", "contains a control character (\"\(Excerpt.of(path))\")")
        }
        try linux?.resources?.validate(at: "linux.resources")
        if let offsets = linux?.timeOffsets, !offsets.isEmpty {
            guard namespaces.contains(where: { $0.type == "time" && ($0.path ?? "").isEmpty }) else {
                throw SpecError("linux.timeOffsets", "set, but no new time namespace is configured")
            }
            for key in offsets.keys where key != "monotonic" && key != "boottime" {
                throw SpecError("linux.timeOffsets.\(key)", "unknown clock (want monotonic or boottime)")
            }
        }
        if let hostname, !hostname.isEmpty, !seen.contains("uts") {
            throw SpecError("hostname", "cannot set a hostname without a private UTS namespace")
        }
        if let domainname, !domainname.isEmpty, !seen.contains("uts") {
            throw SpecError("domainname", "cannot set a domainname without a private UTS namespace")
        }
        if let propagation = linux?.rootfsPropagation, !propagation.isEmpty,
           !KnownNames.propagations.contains(propagation) {
            throw SpecError("linux.rootfsPropagation", "unknown propagation \"\(Excerpt.of(propagation))\"")
        }
        for (i, mount) in (mounts ?? []).enumerated() {
            if mount.destination.isEmpty {
                throw SpecError("mounts[\(i)].destination", "must not be empty")
            }
            let resolved = mount.destination.split(separator: "/").reduce(into: [Substring]()) { parts, c in
                if c == ".." { _ = parts.popLast() } else if c != "." { parts.append(c) }
            }
            if resolved.isEmpty {
                throw SpecError("mounts[\(i)].destination", "\"\(Excerpt.of(mount.destination))\" is the container's root")
            }
            for (j, option) in (mount.options ?? []).enumerated() where option.isEmpty {
                throw SpecError("mounts[\(i)].options[\(j)]", "empty mount option")
            }
            try mount.validateIDMapping(at: "mounts[\(i)]", hasUserNamespace: hasUser)
        }
        for (i, device) in (linux?.devices ?? []).enumerated() {
            try device.validate(at: "linux.devices[\(i)]")
        }
        for (kind, list) in hooks?.all ?? [] {
            for (i, hook) in list.enumerated() where !hook.path.hasPrefix("/") {
                throw SpecError("hooks.\(kind)[\(i)].path", "must be an absolute path, got \"\(Excerpt.of(hook.path))\"")
            }
            for (i, hook) in list.enumerated() {
                if let timeout = hook.timeout, timeout <= 0 {
                    throw SpecError("hooks.\(kind)[\(i)].timeout", "must be greater than zero, got \(timeout)")
                }
            }
        }
        for key in (linux?.sysctl ?? [:]).keys.sorted() {
            try validateSysctl(key, namespaces: seen)
        }
        _ = try linux?.memoryPolicy?.resolve(at: "linux.memoryPolicy")
        _ = try linux?.personality?.resolve(at: "linux.personality")
    }

    private func validateSysctl(_ key: String, namespaces: Set<String>) throws(SpecError) {
        let path = "linux.sysctl.\(key)"
        if key.contains("..") || key.hasPrefix("/") || key.isEmpty {
            throw SpecError(path, "invalid sysctl name")
        }
        let ipc = ["kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall",
                   "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"]
        if ipc.contains(key) || key.hasPrefix("fs.mqueue.") {
            if !namespaces.contains("ipc") { throw SpecError(path, "requires a new IPC namespace") }
            return
        }
        if key.hasPrefix("net.") {
            if !namespaces.contains("network") { throw SpecError(path, "requires a network namespace") }
            return
        }
        if key == "kernel.hostname" || key == "kernel.domainname" {
            if !namespaces.contains("uts") { throw SpecError(path, "requires a new UTS namespace") }
            // Two values for one name, as runc refuses them.
            let field = key == "kernel.hostname" ? "hostname" : "domainname"
            if !((key == "kernel.hostname" ? hostname : domainname) ?? "").isEmpty {
                throw SpecError(path, "cannot be set together with \(field)")
            }
            return
        }
        throw SpecError(path, "sysctl is not namespaced and cannot be set in a container")
    }
}

extension Hooks {
    /// Every hook list with its JSON name, in lifecycle order.
    public var all: [(String, [Hook])] {
        [("prestart", prestart ?? []), ("createRuntime", createRuntime ?? []),
         ("createContainer", createContainer ?? []), ("startContainer", startContainer ?? []),
         ("poststart", poststart ?? []), ("poststop", poststop ?? [])]
    }
}

extension Process {
    public func validate(at base: String) throws(SpecError) {
        if (args ?? []).isEmpty && (commandLine ?? "").isEmpty {
            throw SpecError("\(base).args", "must contain at least one argument")
        }
        if !cwd.hasPrefix("/") {
            throw SpecError("\(base).cwd", "must be an absolute path, got \"\(Excerpt.of(cwd))\"")
        }
        var seen = Set<String>()
        for (i, limit) in (rlimits ?? []).enumerated() {
            guard KnownNames.rlimits[limit.type] != nil else {
                throw SpecError("\(base).rlimits[\(i)].type", "unknown rlimit \"\(Excerpt.of(limit.type))\"")
            }
            guard seen.insert(limit.type).inserted else {
                throw SpecError("\(base).rlimits[\(i)].type", "duplicate rlimit \"\(Excerpt.of(limit.type))\"")
            }
            if limit.soft > limit.hard {
                throw SpecError("\(base).rlimits[\(i)]", "soft limit \(limit.soft) exceeds hard limit \(limit.hard)")
            }
        }
        for (i, entry) in (env ?? []).enumerated() where !entry.contains("=") {
            throw SpecError("\(base).env[\(i)]", "expected KEY=VALUE, got \"\(Excerpt.of(entry))\"")
        }
        try user.validate(at: "\(base).user")
        if let caps = capabilities, let effective = caps.effective {
            // The kernel refuses (EPERM) an effective set that is not part of the permitted one.
            let permitted = Set(caps.permitted ?? [])
            if let missing = effective.first(where: { !permitted.contains($0) }) {
                throw SpecError("\(base).capabilities.effective", "\(Excerpt.of(missing)) is not in the permitted set")
            }
        }
        if let adj = oomScoreAdj, adj < -1000 || adj > 1000 {
            throw SpecError("\(base).oomScoreAdj", "must be between -1000 and 1000, got \(adj)")
        }
        _ = try scheduler?.resolve(at: "\(base).scheduler")
        _ = try ioPriority?.resolve(at: "\(base).ioPriority")
        _ = try execCPUAffinity?.resolve(at: "\(base).execCPUAffinity")
    }
}

extension Device {
    func validate(at base: String) throws(SpecError) {
        guard ["c", "b", "u", "p"].contains(type) else {
            throw SpecError("\(base).type", "unknown device type \"\(Excerpt.of(type))\"")
        }
        guard path.hasPrefix("/dev/") || path.hasPrefix("/") else {
            throw SpecError("\(base).path", "must be an absolute path, got \"\(Excerpt.of(path))\"")
        }
        if type != "p" && (major == nil || minor == nil) {
            throw SpecError(base, "device type \"\(Excerpt.of(type))\" needs major and minor numbers")
        }
        if let major { try DeviceNumbers.check(major, max: DeviceNumbers.maxMajor, at: "\(base).major") }
        if let minor { try DeviceNumbers.check(minor, max: DeviceNumbers.maxMinor, at: "\(base).minor") }
        if let uid { try IDRange.check(uid, at: "\(base).uid") }
        if let gid { try IDRange.check(gid, at: "\(base).gid") }
        if let mode = fileMode, mode > 0o7777 {
            throw SpecError("\(base).fileMode", "must be a permission mode (at most 0o7777), got \(mode)")
        }
    }
}

extension Mount {
    /// runtime-spec 1.2 id-mapped mounts: bind mounts only, with both mapping lists or neither
    /// (then the container's user namespace lends its own).
    func validateIDMapping(at path: String, hasUserNamespace: Bool) throws(SpecError) {
        let options = self.options ?? []
        let uid = uidMappings ?? [], gid = gidMappings ?? []
        guard options.contains("idmap") || options.contains("ridmap") || !uid.isEmpty || !gid.isEmpty else { return }
        guard type == "bind" || options.contains("bind") || options.contains("rbind") else {
            throw SpecError("\(path).options", "id-mapped mounts are only supported for bind mounts")
        }
        if uid.isEmpty != gid.isEmpty {
            throw SpecError("\(path).\(uid.isEmpty ? "uidMappings" : "gidMappings")",
                            "an id-mapped mount needs both uid and gid mappings")
        }
        if uid.isEmpty && !hasUserNamespace {
            throw SpecError("\(path).uidMappings",
                            "an id-mapped mount without mappings takes the user namespace's, but none is configured")
        }
    }
}
