import Database
import Glibc
import HostOS

/// Rootless swctr: every command of an unprivileged user re-executes itself inside that user's
/// user and mount namespaces, held by one long-lived process (NamespaceHolder, started on first
/// use), where it is root over its own id and /etc/subuid range. Overlay mounts (`userxattr`),
/// the monitors and swrunc all live there; swrunc sees itself as root of a user namespace and
/// runs rootless (no cgroups unless delegated, devices bind-mounted).
///
/// The holder's pid is kept in `<state>/holder.pid` under `<state>/holder.lock`; a holder that
/// died (a reboot, a kill) is replaced by a new one at the next command.
public enum RootlessNamespace {
    /// Where the holder's pid lives: `$XDG_RUNTIME_DIR/swctr`, else `/tmp/swctr-run-UID`.
    public static func stateDirectory() throws(SwctrError) -> String {
        if let xdg = getenv("XDG_RUNTIME_DIR").map({ String(cString: $0) }), !xdg.isEmpty, access(xdg, W_OK) == 0 {
            return xdg + "/swctr"
        }
        return "/tmp/swctr-run-\(getuid())"
    }

    /// Re-executes this command (`arguments`, argv[0] first) inside the user's namespaces,
    /// starting their holder first when there is none. Returns only on failure.
    public static func reexecute(_ arguments: [String], monitor: String?) throws(SwctrError) -> Never {
        let dir = try stateDirectory()
        do { try FileIO.mkdirAll(dir, mode: 0o700) } catch { throw SwctrError(.failure, error.message) }
        // Only the user itself may own it: a /tmp directory someone else made is not ours.
        var st = stat()
        guard lstat(dir, &st) == 0, st.st_uid == getuid(), (st.st_mode & S_IFMT) == S_IFDIR else {
            throw SwctrError(.failure, "\(dir) is not a directory of uid \(getuid())")
        }
        let lock = open(dir + "/holder.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard lock >= 0 else { throw SwctrError(.failure, "open \(dir)/holder.lock: \(String(cString: strerror(errno)))") }
        while flock(lock, LOCK_EX) != 0 && errno == EINTR {}
        let fds: (Int32, Int32)
        if let found = openHolder(dir) {
            fds = found
        } else {
            guard let monitor else {
                close(lock)
                throw SwctrError(.failure, "swctr-monitor not found next to swctr or on PATH: run `make install`")
            }
            do throws(SwctrError) {
                let pid = try startHolder(monitor)
                try? FileIO.writeAtomic(dir + "/holder.pid", Array("\(pid)\n".utf8), mode: 0o600)
                guard let opened = openHolder(dir) else { throw SwctrError(.failure, "the namespace holder \(pid) exited at once") }
                fds = opened
            } catch {
                close(lock)
                throw error
            }
        }
        close(lock)
        setenv("_SWCTR_USERNS_FDS", "\(fds.0),\(fds.1)", 1)
        let argv = arguments.map { strdup($0) } + [nil]
        execv("/proc/self/exe", argv)
        let code = errno
        unsetenv("_SWCTR_USERNS_FDS")
        throw SwctrError(.failure, "re-execute swctr in its user namespace: \(String(cString: strerror(code)))")
    }

    /// The holder's user and mount namespace fds (inherited across exec), when the recorded pid
    /// is still a holder of this user's. The fds are opened before the process is checked, so a
    /// pid reused after the check cannot hand over someone else's namespaces.
    static func openHolder(_ dir: String) -> (Int32, Int32)? {
        guard let text = try? FileIO.readString(dir + "/holder.pid"), let pid = Int32(text.trimmed()), pid > 1 else { return nil }
        let user = open("/proc/\(pid)/ns/user", O_RDONLY)
        let mnt = open("/proc/\(pid)/ns/mnt", O_RDONLY)
        var stUser = stat(), stSelf = stat()
        guard user >= 0, mnt >= 0, isHolder(pid), fstat(user, &stUser) == 0, stat("/proc/self/ns/user", &stSelf) == 0,
              stUser.st_ino != stSelf.st_ino else {
            if user >= 0 { close(user) }
            if mnt >= 0 { close(mnt) }
            return nil
        }
        return (user, mnt)
    }

    static func isHolder(_ pid: Int32) -> Bool {
        guard let status = try? FileIO.readString("/proc/\(pid)/status"),
              let uidLine = status.split(separator: "\n").first(where: { $0.hasPrefix("Uid:") }),
              uidLine.split(whereSeparator: { $0 == "\t" || $0 == " " }).dropFirst().first == Substring(String(getuid())),
              let cmdline = try? FileIO.readString("/proc/\(pid)/cmdline") else { return false }
        return cmdline.split(separator: "\0").contains("--userns-holder")
    }

    /// Starts a holder and writes its id maps: the user's own id as root, its subordinate range
    /// as 1…N (through newuidmap/newgidmap). Without a range, or when the helpers refuse it, the
    /// namespace has the user's own id alone (with a warning): images whose files belong to
    /// other ids then show them as nobody.
    static func startHolder(_ monitor: String) throws(SwctrError) -> Int32 {
        let toHolder: (Int32, Int32), fromHolder: (Int32, Int32)
        do {
            toHolder = try ProcessControl.pipe()
            fromHolder = try ProcessControl.pipe()
        } catch { throw SwctrError(.failure, error.message) }
        defer { close(toHolder.1); close(fromHolder.0) }
        ProcessControl.setCloseOnExec(toHolder.0, false)
        ProcessControl.setCloseOnExec(fromHolder.1, false)
        let launcher: pid_t
        do {
            launcher = try Spawn.startQuiet([monitor, "--userns-holder", String(toHolder.0), String(fromHolder.1)], newSession: true)
        } catch {
            close(toHolder.0); close(fromHolder.1)
            throw SwctrError(.failure, "cannot start the namespace holder \(monitor): \(error.message)")
        }
        close(toHolder.0); close(fromHolder.1)
        _ = Spawn.wait(launcher)
        var reader = LineReader(fd: fromHolder.0)
        guard let first = reader.next(), first.hasPrefix("pid "), let pid = Int32(first.dropFirst(4)) else {
            throw SwctrError(.failure, "cannot make a user namespace for rootless containers")
        }
        func answer(_ text: String) { _ = try? FileIO.writeAll(toHolder.1, Array((text + "\n").utf8), what: "holder") }
        do {
            try writeMaps(pid)
        } catch {
            answer("stop")
            throw SwctrError(.failure, "rootless namespace: \(error.message)")
        }
        answer("go")
        guard reader.next() == "ok" else { throw SwctrError(.failure, "the namespace holder \(pid) failed to set up") }
        return pid
    }

    static func writeMaps(_ pid: Int32) throws(SystemError) {
        let uid = getuid(), gid = getgid()
        let name = getpwuid(uid).flatMap { $0.pointee.pw_name.map { String(cString: $0) } }
        let own = (uid: [IDRange(inside: 0, outside: uid, count: 1)], gid: [IDRange(inside: 0, outside: gid, count: 1)])
        guard let subuid = IDMaps.subordinateRange(file: "/etc/subuid", user: name, id: uid),
              let subgid = IDMaps.subordinateRange(file: "/etc/subgid", user: name, id: uid) else {
            FileIO.writeStderr("swctr: warning: no /etc/subuid and /etc/subgid range for \(name ?? String(uid)): containers get your own id alone\n")
            return try IDMaps.write(pid: pid, uid: own.uid, gid: own.gid)
        }
        let uids = own.uid + [IDRange(inside: 1, outside: subuid.start, count: subuid.count)]
        let gids = own.gid + [IDRange(inside: 1, outside: subgid.start, count: subgid.count)]
        do { try IDMaps.write(pid: pid, uid: uids, gid: gids) } catch {
            FileIO.writeStderr("swctr: warning: \(error.message): containers get your own id alone\n")
            try IDMaps.write(pid: pid, uid: own.uid, gid: own.gid)
        }
    }
}
