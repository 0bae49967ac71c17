import HostOS
import Glibc
import CShim
import OCI
import JSON

/// Bind mounts the runtime's parent makes for the init, as detached trees (open_tree) the init
/// attaches with move_mount; it asks by the mount's index over the sync channel (runc's split too):
/// - runtime-spec 1.2 id-mapped mounts (`uidMappings`/`gidMappings`, `idmap`, `ridmap`):
///   MOUNT_ATTR_IDMAP needs CAP_SYS_ADMIN over the user namespace the filesystem belongs to (the
///   host's, for ext4 and the like), which an init in a user namespace of its own never has;
/// - a source the container's root cannot reach (a 0700 directory of the host's root on the
///   way): the host's root opens it before the user namespace is in the way.
enum DetachedMount {
    /// A mount is id-mapped when it names mappings or the `idmap`/`ridmap` option.
    static func isIDMapped(_ m: OCI.Mount, options: MountOptions) -> Bool {
        options.idmap != nil || !(m.uidMappings ?? []).isEmpty || !(m.gidMappings ?? []).isEmpty
    }

    /// The parent's side: a detached clone of the source (with its submounts for `rbind`). An
    /// id-mapped mount's ids are mapped through its own mappings or, when it names none, through
    /// the container's user namespace (`containerUserNS`, a /proc/<pid>/ns/user path); `ridmap`
    /// maps the submounts too, `idmap` and bare mappings the top mount only. A source inside the
    /// rootfs is looked up in the container's mount namespace (`containerMountNS`), where the
    /// mounts made before this one are, as with runc; any other in the host's, where no mount is
    /// locked to the ones around it.
    static func make(_ m: OCI.Mount, index: Int, bundle: String, rootfs: String, containerUserNS: String?,
                     containerMountNS: String) throws(RuntimeError) -> Int32 {
        let options = MountOptions(m.options ?? [])
        guard var source = m.source, !source.isEmpty else { throw RuntimeError("bind mount: no source") }
        if !source.hasPrefix("/") { source = bundle + "/" + source }
        let rootPrefix = rootfs.hasSuffix("/") ? rootfs : rootfs + "/"
        let lookupNS: String? = source.hasPrefix(rootPrefix) || source == rootfs ? containerMountNS : nil
        let cloneFlags = OPEN_TREE_CLONE | UInt32(O_CLOEXEC) | (options.flags & UInt(MS_REC) != 0 ? AT_RECURSIVE : 0)
        guard isIDMapped(m, options: options) else {
            return try inMountNamespace(lookupNS) { () throws(RuntimeError) -> Int32 in
                try check("open_tree \(source)") { cshim_open_tree(AT_FDCWD, source, cloneFlags) }
            }
        }
        let uid = m.uidMappings ?? [], gid = m.gidMappings ?? []
        let usernsFD: Int32
        if !uid.isEmpty || !gid.isEmpty {
            usernsFD = try UserNamespaceFD.make(uidMappings: uid, gidMappings: gid, field: "mounts[\(index)].")
        } else if let path = containerUserNS {
            usernsFD = try check("open user namespace \(path)") { cshim_open(path, O_RDONLY | O_CLOEXEC, 0) }
        } else {
            throw RuntimeError("id-mapped mount of \(source): no uidMappings/gidMappings and no user namespace to take them from")
        }
        defer { close(usernsFD) }
        let tree = try inMountNamespace(lookupNS) { () throws(RuntimeError) -> Int32 in
            try check("open_tree \(source)") { cshim_open_tree(AT_FDCWD, source, cloneFlags) }
        }
        let attrFlags = UInt32(AT_EMPTY_PATH) | (options.idmap == .recursive ? AT_RECURSIVE : 0)
        if cshim_mount_setattr(tree, "", attrFlags, MOUNT_ATTR_IDMAP, 0, 0, usernsFD) != 0 {
            let code = errno
            close(tree)
            let hint = code == EINVAL ? " (the filesystem may not support id-mapped mounts)" : ""
            throw .sys("id-map the mount of \(source)\(hint)", code)
        }
        return tree
    }

    /// Runs `body` with this (single-threaded) process in mount namespace `path` (nil: its own), then puts it
    /// back in its own, working directory included (setns resets it).
    private static func inMountNamespace<T>(_ path: String?, _ body: () throws(RuntimeError) -> T) throws(RuntimeError) -> T {
        guard let path else { return try body() }
        let own = try check("open own mount namespace") { cshim_open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC, 0) }
        defer { close(own) }
        let cwd = try check("open working directory") { cshim_open(".", O_PATH | O_DIRECTORY | O_CLOEXEC, 0) }
        defer { close(cwd) }
        let target = try check("open mount namespace \(path)") { cshim_open(path, O_RDONLY | O_CLOEXEC, 0) }
        try check("join mount namespace \(path)") {
            let rc = cshim_setns(target, CLONE_NEWNS)
            close(target)
            return rc
        }
        defer {
            // Failing to come back would leave the runtime in the container's mounts: not survivable.
            if cshim_setns(own, CLONE_NEWNS) != 0 || fchdir(cwd) != 0 {
                let line = "swrunc: cannot return to its own mount namespace\n"
                _ = line.withCString { write(2, $0, strlen($0)) }
                _exit(255)
            }
        }
        return try body()
    }

    /// The init's side: attach the detached tree on `dest` inside the rootfs (made first as a
    /// directory or a file, like the source), then the bind's flags and propagation.
    static func attach(_ sys: any Syscalls, _ tree: Int32, dest: String, root: SafeRoot) throws(RuntimeError) {
        defer { close(tree) }
        var st = stat()
        try check("stat mount source") { fstat(tree, &st) }
        let target = try root.openMountTarget(dest, sourceMode: st.st_mode)
        defer { close(target) }
        try check("attach mount on \(Excerpt.of(dest, limit: 200))") {
            sys.moveMount(tree, to: target)
        }
    }
}

/// An fd of a fresh user namespace with the given mappings, for MOUNT_ATTR_IDMAP: a child is
/// cloned into it only long enough for its maps to be written and its namespace opened.
enum UserNamespaceFD {
    static func make(uidMappings: [IDMapping], gidMappings: [IDMapping], field: String) throws(RuntimeError) -> Int32 {
        let pid = cshim_clone(UInt(UInt32(bitPattern: CLONE_NEWUSER)))
        if pid < 0 { throw .sys("create a user namespace for an id-mapped mount") }
        if pid == 0 {
            Lifeline.bind()
            while true { pause() }
        }
        defer {
            Glibc.kill(pid, SIGKILL)
            reap(pid)
        }
        try IDMapFiles.write(pid: pid, uid: uidMappings, gid: gidMappings, prefix: field)
        return try check("open the id-mapped mount's user namespace") {
            cshim_open("/proc/\(pid)/ns/user", O_RDONLY | O_CLOEXEC, 0)
        }
    }
}
