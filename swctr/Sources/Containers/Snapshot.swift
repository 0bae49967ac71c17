import Database
import Glibc
import HostOS
import Images

/// A container's root filesystem: an overlay of its image's layers (read-only) under its own
/// upper directory, mounted while it runs (and briefly at create, to read the image's users).
public enum Snapshot {
    public static func prepare(_ dir: String) throws(SwctrError) {
        for d in [dir + "/upper", dir + "/work", dir + "/rootfs"] {
            do { try FileIO.mkdirAll(d, mode: 0o755) } catch { throw SwctrError(.failure, error.message) }
        }
    }

    public static func isMounted(_ rootfs: String) -> Bool {
        guard let info = try? FileIO.readString("/proc/self/mountinfo") else { return false }
        return info.split(separator: "\n").contains { line in
            let f = line.split(separator: " ", maxSplits: 5)
            return f.count > 4 && f[4] == rootfs
        }
    }

    public static func mount(_ dir: String, layers: [String], store: ImageStore) throws(SwctrError) {
        let rootfs = dir + "/rootfs"
        if isMounted(rootfs) { return }
        // overlayfs lists the top layer first; an image without layers gets an empty one.
        var lower = layers.reversed().map { store.layerPath($0) }
        for l in lower where !FileIO.exists(l) {
            throw SwctrError(.notFound, "layer \(l) is missing from the store (pull the image again)")
        }
        if lower.isEmpty {
            let empty = dir + "/empty"
            try? FileIO.mkdirAll(empty)
            lower = [empty]
        }
        var opts = "lowerdir=\(lower.joined(separator: ":")),upperdir=\(dir)/upper,workdir=\(dir)/work"
        // A rootless store keeps overlay's marks in user.* xattrs (trusted.* needs the host's root).
        if store.rootless { opts += ",userxattr" }
        guard Glibc.mount("overlay", rootfs, "overlay", 0, opts) == 0 else {
            throw SwctrError(.failure, "mount overlay on \(rootfs): \(String(cString: strerror(errno)))")
        }
    }

    public static func unmount(_ dir: String) {
        let rootfs = dir + "/rootfs"
        while isMounted(rootfs) {
            if umount2(rootfs, Int32(MNT_DETACH)) != 0 { break }
        }
    }
}
