import Glibc
import CShim

/// Small file helpers on raw fds: the runtime's hot paths avoid Foundation's file APIs.
public enum FileIO {
    public static func read(_ path: String) throws(SystemError) -> [UInt8] {
        let fd = try check("open \(path)", path: path) { cshim_open(path, O_RDONLY | O_CLOEXEC, 0) }
        defer { close(fd) }
        return try readAll(fd, what: path)
    }

    public static func readString(_ path: String) throws(SystemError) -> String {
        String(decoding: try read(path), as: UTF8.self)
    }

    /// Reads straight into the result, sized from fstat for a regular file (the state and config
    /// files every command reads: no 64 KiB bounce buffer to fault in), growing for pipes and
    /// procfs files, which report no size.
    public static func readAll(_ fd: Int32, what: String) throws(SystemError) -> [UInt8] {
        var st = stat()
        let hint = fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG && st.st_size > 0 ? Int(st.st_size) + 1 : 4096
        var out = [UInt8](repeating: 0, count: hint)
        var used = 0
        while true {
            if used == out.count { out.append(contentsOf: repeatElement(0, count: out.count)) }
            let n = out.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress.map { $0 + used }, $0.count - used) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .sys("read \(what)")
            }
            if n == 0 {
                out.removeLast(out.count - used)
                return out
            }
            used += n
        }
    }

    /// Best effort to stderr: a message that cannot be written has nowhere else to go.
    public static func writeStderr(_ text: String) { _ = try? writeAll(2, Array(text.utf8), what: "stderr") }

    public static func writeAll(_ fd: Int32, _ bytes: some Collection<UInt8>, what: String) throws(SystemError) {
        let buffer = Array(bytes)
        var offset = 0
        while offset < buffer.count {
            let n = buffer.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .sys("write \(what)")
            }
            offset += n
        }
    }

    /// Writes an existing file in place (cgroup and procfs knobs, uid_map): one write call.
    public static func writeExisting(_ path: String, _ content: String) throws(SystemError) {
        let fd = try check("open \(path)", path: path) { cshim_open(path, O_WRONLY | O_CLOEXEC, 0) }
        defer { close(fd) }
        let bytes = Array(content.utf8)
        let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        if n < 0 { throw .sys("write \(path)", path: path) }
    }

    /// Creates or truncates `path` with `mode`; `sync` fsyncs before returning (content that
    /// must survive a crash before it is renamed into place).
    public static func writeFile(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644, sync: Bool = false) throws(SystemError) {
        let fd = try check("create \(path)", path: path) { cshim_open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, UInt32(mode)) }
        defer { close(fd) }
        try writeAll(fd, bytes, what: path)
        if sync, fsync(fd) != 0 { throw .sys("fsync \(path)", path: path) }
    }

    /// Replaces `path` atomically: write a temporary file beside it, then rename over.
    public static func writeAtomic(_ path: String, _ bytes: some Collection<UInt8>, mode: mode_t = 0o644) throws(SystemError) {
        let tmp = "\(path).tmp\(getpid())"
        let fd = try check("create \(tmp)", path: tmp) { cshim_open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, UInt32(mode)) }
        do {
            try writeAll(fd, bytes, what: tmp)
            close(fd)
            try check("rename \(tmp) to \(path)", path: path) { rename(tmp, path) }
        } catch {
            close(fd)
            unlink(tmp)
            throw error
        }
    }

    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// mkdir -p; existing directories are fine.
    public static func mkdirAll(_ path: String, mode: mode_t = 0o755) throws(SystemError) {
        // The common case is one missing leaf: try it before walking every component.
        if mkdir(path, mode) == 0 || errno == EEXIST && isDirectory(path) { return }
        if errno != ENOENT { throw .sys("mkdir \(path)", path: path) }
        var current = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            current += "/" + part
            if mkdir(current, mode) != 0 && errno != EEXIST {
                throw .sys("mkdir \(current)", path: current)
            }
        }
    }

    /// rm -rf for the runtime's own state directories (never follows symlinks).
    public static func removeTree(_ path: String) {
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            if let dir = opendir(path) {
                while let entry = readdir(dir) {
                    let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                        String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
                    }
                    if name == "." || name == ".." { continue }
                    removeTree(path + "/" + name)
                }
                closedir(dir)
            }
            rmdir(path)
        } else {
            unlink(path)
        }
    }

    /// Names of the subdirectories, from readdir's d_type (cgroupfs and sysfs always fill it).
    public static func listSubdirectories(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            guard entry.pointee.d_type == UInt8(DT_DIR) else { continue }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    public static func listDirectory(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }
}
