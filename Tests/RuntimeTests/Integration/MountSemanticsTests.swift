import Foundation
import Testing
import OCI

/// runc's finer mount rules: tmpcopyup, read-only tmpfs and /dev made read-only last, a tmpfs
/// taking the mode of the directory it covers, read-only cgroup mounts in a cgroup namespace,
/// later bind mounts whose source is an earlier one inside the rootfs, and masked paths.
@Suite("mount semantics: tmpcopyup, late read-only, tmpfs modes, mount order, masking")
struct MountSemanticsTests {
    static func tmpfs(_ dest: String, _ options: [String]) -> Mount {
        Mount(destination: dest, type: "tmpfs", source: "tmpfs", options: options)
    }

    @Test func tmpcopyupKeepsWhatTheImageHad() throws {
        let b = try TestBundle(args: ["sh", "-c", "stat -c %a /data/sub; cat /data/sub/f; grep -c ' /data tmpfs' /proc/mounts"])
        defer { b.cleanup() }
        try FileManager.default.createDirectory(atPath: b.rootfs + "/data/sub", withIntermediateDirectories: true)
        chmod(b.rootfs + "/data/sub", 0o777)
        try "kept\n".write(toFile: b.rootfs + "/data/sub/f", atomically: true, encoding: .utf8)
        b.spec.mounts?.append(Self.tmpfs("/data", ["tmpcopyup"]))
        let r = try b.run()
        #expect(r.ok, "\(r.stderr)")
        #expect(r.stdout == "777\nkept\n1\n", "\(r.stdout)")
    }

    /// A read-only /dev still gets its device nodes and /dev/pts; it is read-only once they are made.
    @Test func readOnlyDevIsMadeReadOnlyLast() throws {
        let b = try TestBundle(args: ["sh", "-c", "grep '^tmpfs /dev ' /proc/mounts | cut -d' ' -f4 | cut -d, -f1; test -d /dev/pts && echo pts; echo x > /dev/null && echo null; touch /dev/new 2>&1 || true"])
        defer { b.cleanup() }
        b.spec.mounts = b.spec.mounts?.map { m in
            guard m.destination == "/dev" else { return m }
            var ro = m
            ro.options = (m.options ?? []) + ["ro"]
            return ro
        }
        let r = try b.run()
        #expect(r.ok, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.prefix(3) == ["ro", "pts", "null"], "\(r.stdout)")
        #expect(r.stdout.contains("Read-only file system"), "\(r.stdout)")
    }

    /// Without `mode=`, a tmpfs over an existing directory takes its mode; `mode=` wins; over a
    /// directory that had to be made, the kernel's default (1777).
    @Test func tmpfsTakesTheModeOfTheDirectoryItCovers() throws {
        let b = try TestBundle(args: ["sh", "-c", "stat -c %a /inherit /explicit /fresh; grep ' /inherit ' /proc/mounts"])
        defer { b.cleanup() }
        for d in ["inherit", "explicit"] {
            try FileManager.default.createDirectory(atPath: b.rootfs + "/" + d, withIntermediateDirectories: true)
            chmod(b.rootfs + "/" + d, 0o710)
        }
        b.spec.mounts? += [Self.tmpfs("/inherit", ["rw", "nodev", "nosuid"]), Self.tmpfs("/explicit", ["mode=750"]),
                           Self.tmpfs("/fresh", [])]
        let r = try b.run()
        #expect(r.ok, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.prefix(3) == ["710", "750", "1777"], "\(r.stdout)")
        #expect(lines.last?.contains("mode=710") == true, "\(r.stdout)")
    }

    /// A read-only tmpfs is writable while the mounts under it are made, then read-only.
    @Test func readOnlyTmpfsWithAMountInside() throws {
        let b = try TestBundle(args: ["sh", "-c", "cat /ro/inner/f; touch /ro/x 2>&1 || true"])
        defer { b.cleanup() }
        try FileManager.default.createDirectory(atPath: b.dir + "/src", withIntermediateDirectories: true)
        try "inner\n".write(toFile: b.dir + "/src/f", atomically: true, encoding: .utf8)
        b.spec.mounts? += [Self.tmpfs("/ro", ["ro"]),
                           Mount(destination: "/ro/inner", type: "bind", source: b.dir + "/src", options: ["bind"])]
        let r = try b.run()
        #expect(r.ok, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("inner\n") && r.stdout.contains("Read-only file system"), "\(r.stdout)")
    }

    /// With a cgroup namespace every cgroup mount under a read-only /sys/fs/cgroup is read-only.
    @Test func readOnlyCgroupMountsInACgroupNamespace() throws {
        let b = try TestBundle(args: ["sh", "-c", "grep ' /sys/fs/cgroup' /proc/mounts | cut -d' ' -f4 | cut -d, -f1 | sort -u"])
        defer { b.cleanup() }
        b.spec.linux?.namespaces?.append(Namespace(type: "cgroup"))
        b.spec.mounts?.removeAll { $0.destination == "/sys/fs/cgroup" }
        b.spec.mounts?.append(Mount(destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup",
                                    options: ["nosuid", "noexec", "nodev", "relatime", "ro"]))
        let r = try b.run()
        #expect(r.ok, "\(r.stderr)")
        #expect(r.stdout == "ro\n", "\(r.stdout)")
    }

    /// Bind mounts whose source is a path inside the rootfs see the mounts made there before
    /// them (a destination may spell out the rootfs's host path, as runc allows); the same for
    /// an id-mapped one, which the parent makes in the container's mount namespace.
    @Test(arguments: [false, true]) func laterMountsSeeEarlierOnesInTheRootfs(idmap: Bool) throws {
        let b = try TestBundle(args: ["cat", "/final/x/y/file"])
        defer { b.cleanup() }
        for (d, content) in [("a", "from-a"), ("b", "from-b")] {
            try FileManager.default.createDirectory(atPath: b.dir + "/src/\(d)", withIntermediateDirectories: true)
            try "\(content)\n".write(toFile: b.dir + "/src/\(d)/file", atomically: true, encoding: .utf8)
        }
        for d in ["mnt", "final"] {
            try FileManager.default.createDirectory(atPath: b.rootfs + "/" + d, withIntermediateDirectories: true)
        }
        var last = Mount(destination: b.rootfs + "/final", type: "bind", source: b.rootfs + "/mnt", options: ["rbind"])
        if idmap {
            last.uidMappings = [IDMapping(containerID: 0, hostID: 0, size: 65536)]
            last.gidMappings = [IDMapping(containerID: 0, hostID: 0, size: 65536)]
        }
        b.spec.mounts? += [Mount(destination: "/mnt", type: "bind", source: b.dir + "/src/a", options: ["bind"]),
                           Mount(destination: "/mnt/x", type: "bind", source: b.dir + "/src/a", options: ["bind"]),
                           Mount(destination: b.rootfs + "/mnt/x/y", type: "bind", source: b.dir + "/src/b", options: ["bind"]),
                           last]
        let r = try b.run()
        #expect(r.ok, "\(r.stderr)")
        #expect(r.stdout == "from-b\n", "\(r.stdout)")
    }

    /// A path masked twice is masked once; masked directories share one read-only tmpfs.
    @Test func maskedPathsAreMountedOnceAndShareATmpfs() throws {
        let b = try TestBundle(args: ["sh", "-c", "grep -c ' /m1 ' /proc/mounts; grep -c ' /f ' /proc/mounts; stat -c %d /m1 /m2 /m3 | sort -u | wc -l; touch /m2/x 2>&1 || true"])
        defer { b.cleanup() }
        for d in ["m1", "m2", "m3"] {
            try FileManager.default.createDirectory(atPath: b.rootfs + "/" + d, withIntermediateDirectories: true)
        }
        try "secret\n".write(toFile: b.rootfs + "/f", atomically: true, encoding: .utf8)
        b.spec.linux?.maskedPaths = ["/m1", "/f", "/m2", "/m1", "/m3", "/f"]
        let r = try b.run()
        #expect(r.ok, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.prefix(3) == ["1", "1", "1"], "\(r.stdout)")
        #expect(r.stdout.contains("Read-only file system"), "\(r.stdout)")
    }

    /// procfs on a symlink (or a file) is refused with runc's words.
    @Test func procOnASymlinkIsRefused() throws {
        let b = try TestBundle(args: ["true"])
        defer { b.cleanup() }
        try FileManager.default.removeItem(atPath: b.rootfs + "/proc")
        try FileManager.default.createSymbolicLink(atPath: b.rootfs + "/proc", withDestinationPath: "/elsewhere")
        let r = try b.run()
        #expect(r.status == 1 && r.stderr.contains("must be mounted on ordinary directory"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: b.rootfs + "/elsewhere"))
    }
}
