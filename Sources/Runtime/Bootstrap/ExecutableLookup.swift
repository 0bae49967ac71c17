import JSON
import HostOS
import Glibc
import OCI

/// Finds the program to exec in the container (after pivot_root) and builds its environment.
enum ExecutableLookup {
    static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    static func find(_ process: ResolvedProcess) throws(RuntimeError) -> String {
        guard let name = process.args.first, !name.isEmpty else {
            throw RuntimeError("process.args: must contain at least one argument")
        }
        if name.utf8.contains(UInt8(ascii: "/")) {
            let full = name.hasPrefix("/") ? name : process.cwd + "/" + name
            try checkExecutable(full, name: name)
            return full
        }
        let path = process.env.last { $0.hasPrefix("PATH=") }.map { String($0.dropFirst(5)) } ?? defaultPath
        for dir in path.split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = (dir.isEmpty ? "." : String(dir)) + "/" + name
            if isExecutableFile(candidate) { return candidate }
        }
        throw RuntimeError("exec: \"\(Excerpt.of(name))\": executable file not found in $PATH", errno: ENOENT, stage: "exec")
    }

    private static func checkExecutable(_ path: String, name: String) throws(RuntimeError) {
        var st = stat()
        if stat(path, &st) != 0 {
            var e = RuntimeError.sys("exec: \"\(Excerpt.of(name))\"")
            e.stage = "exec"
            throw e
        }
        if (st.st_mode & S_IFMT) == S_IFDIR { throw RuntimeError("exec: \"\(Excerpt.of(name))\": is a directory", errno: EISDIR, stage: "exec") }
        if !isExecutable(st) { throw RuntimeError("exec: \"\(Excerpt.of(name))\": permission denied", errno: EACCES, stage: "exec") }
    }

    private static func isExecutableFile(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && isExecutable(st)
    }

    private static func isExecutable(_ st: stat) -> Bool {
        (st.st_mode & S_IFMT) == S_IFREG && st.st_mode & 0o111 != 0
    }

    /// process.env as runc hands it over: a variable given twice keeps its first place and its
    /// last value. Resolved by the parent.
    static func merged(_ list: [String]) -> [String] {
        var env: [String] = []
        var index: [Substring: Int] = [:]
        for kv in list {
            let key = kv.prefix { $0 != "=" }
            if let i = index[key] { env[i] = kv } else {
                index[key] = env.count
                env.append(kv)
            }
        }
        return env
    }

    /// The merged environment with a HOME that is missing or empty taken from the container's
    /// /etc/passwd: only the init, inside the container, can read it.
    static func environment(_ process: ResolvedProcess) -> [String] {
        var env = process.env
        if let i = env.firstIndex(where: { $0.prefix { $0 != "=" } == "HOME" }) {
            if env[i] == "HOME=" { env[i] = "HOME=" + home(uid: process.user.uid) }
        } else {
            env.append("HOME=" + home(uid: process.user.uid))
        }
        return env
    }

    /// HOME from the container's /etc/passwd, "/" when the user has no entry.
    static func home(uid: UInt32) -> String {
        guard let text = try? FileIO.readString("/etc/passwd") else { return "/" }
        let home = Passwd.parseUsers(text).first { $0.uid == uid }?.home ?? ""
        return home.isEmpty ? "/" : home
    }
}
