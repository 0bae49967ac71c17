import Foundation
import Testing
import OCI

@Suite("rootfs: mounts, devices, masked and readonly paths, sysctl, readonly root")
struct RootfsTests {
    @Test func mountsInConfigOrderWithOptions() throws {
        let src = NSTemporaryDirectory() + "swrunc-bind-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: src, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: src) }
        try "from-host".write(toFile: src + "/file", atomically: true, encoding: .utf8)
        let b = try TestBundle(args: ["sh", "-c", "cat /mnt/ro/file; echo; touch /mnt/ro/x 2>/dev/null && echo writable || echo readonly; grep -E ' /(mnt/ro|scratch|scratch/inner) ' /proc/self/mountinfo"])
        b.spec.mounts? += [
            Mount(destination: "/mnt/ro", type: "bind", source: src, options: ["rbind", "ro", "nosuid", "nodev"]),
            Mount(destination: "/scratch", type: "tmpfs", source: "tmpfs", options: ["size=1m", "mode=700", "noexec"]),
            Mount(destination: "/scratch/inner", type: "tmpfs", source: "tmpfs", options: ["size=64k"]),
        ]
        let r = try b.run()
        #expect(r.ok, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "from-host")
        #expect(lines.dropFirst().first == "readonly")
        let ro = lines.first { $0.contains(" /mnt/ro ") } ?? ""
        #expect(ro.contains(" ro,") && ro.contains("nosuid") && ro.contains("nodev"))
        let scratch = lines.first { $0.contains(" /scratch ") } ?? ""
        #expect(scratch.contains("noexec") && scratch.contains("size=1024k") && scratch.contains("mode=700"))
        // /scratch/inner is mounted after /scratch, on top of it.
        let order = lines.firstIndex { $0.contains(" /scratch ") } ?? 99
        let inner = lines.firstIndex { $0.contains(" /scratch/inner ") } ?? -1
        #expect(order < inner)
    }

    @Test func bindMountOfAFileAndPropagation() throws {
        let src = NSTemporaryDirectory() + "swrunc-file-\(UUID().uuidString)"
        try "one-file".write(toFile: src, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: src) }
        let b = try TestBundle(args: ["sh", "-c", "cat /etc/injected; grep ' /mnt/shared ' /proc/self/mountinfo"])
        b.spec.mounts? += [
            Mount(destination: "/etc/injected", type: "bind", source: src, options: ["bind", "ro"]),
            Mount(destination: "/mnt/shared", type: "tmpfs", source: "tmpfs", options: ["rshared"]),
        ]
        let r = try b.run()
        #expect(r.ok, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("one-file"))
        #expect(r.stdout.contains("shared:"))
    }

    @Test func mountTargetSymlinkCannotEscapeTheRootfs() throws {
        let b = try TestBundle(args: ["sh", "-c", "grep ' /escape ' /proc/self/mountinfo | wc -l"])
        let outside = NSTemporaryDirectory() + "swrunc-outside-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: outside) }
        // A symlink in the image pointing at a host path: the mount must land inside the rootfs.
        try FileManager.default.createSymbolicLink(atPath: b.rootfs + "/escape", withDestinationPath: outside)
        b.spec.mounts?.append(Mount(destination: "/escape", type: "tmpfs", source: "tmpfs", options: ["size=64k"]))
        let r = try b.run()
        #expect(r.ok, "\(r.stderr)")
        let hostMounts = try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
        #expect(!hostMounts.contains(outside))
        #expect(FileManager.default.fileExists(atPath: b.rootfs + outside), "the link was followed inside the rootfs")
    }

    @Test func readonlyRoot() throws {
        let b = try TestBundle(args: ["sh", "-c", "touch /newfile 2>/dev/null && echo writable || echo readonly; touch /dev/shm/ok && echo tmpfs-ok"])
        b.spec.root?.readonly = true
        let r = try b.run()
        #expect(r.stdout == "readonly\ntmpfs-ok\n", "\(r.stderr)")
    }

    @Test func defaultDevicesAndSymlinks() throws {
        let b = try TestBundle(args: ["sh", "-c", "for d in null zero full random urandom tty; do stat -c '%n %F %t:%T %a' /dev/$d; done; for l in fd stdin stdout stderr ptmx; do echo $l=$(readlink /dev/$l); done; ls /dev/pts"])
        let r = try b.run()
        #expect(r.ok, "\(r.stderr)")
        #expect(r.stdout.contains("/dev/null character special file 1:3 666"))
        #expect(r.stdout.contains("/dev/urandom character special file 1:9 666"))
        #expect(r.stdout.contains("/dev/tty character special file 5:0 666"))
        #expect(r.stdout.contains("fd=/proc/self/fd"))
        #expect(r.stdout.contains("stderr=/proc/self/fd/2"))
        #expect(r.stdout.contains("ptmx=pts/ptmx"))
        #expect(r.stdout.contains("ptmx"))
    }

    @Test func linuxDevicesAreCreatedWithModeAndOwner() throws {
        let b = try TestBundle(args: ["sh", "-c", "stat -c '%F %t:%T %a %u:%g' /dev/custom/kmsg-like /dev/fifo0"])
        b.spec.linux?.devices = [
            Device(type: "c", path: "/dev/custom/kmsg-like", major: 1, minor: 11, fileMode: 0o640, uid: 7, gid: 8),
            Device(type: "p", path: "/dev/fifo0", fileMode: 0o600),
        ]
        let r = try b.run()
        #expect(r.ok, "\(r.stderr)")
        #expect(r.stdout == "character special file 1:b 640 7:8\nfifo 0:0 600 0:0\n")
    }

    @Test func maskedAndReadonlyPaths() throws {
        let b = try TestBundle(args: ["sh", "-c", "wc -c < /etc/masked-file; ls /sys/firmware | wc -l; ls /etc/masked-dir | wc -l; wc -c < /proc/timer_list; echo 1 > /proc/sys/kernel/domainname 2>/dev/null && echo sys-writable || echo sys-readonly; touch /etc/ro-dir/x 2>/dev/null || echo ro-dir"])
        try "secret".write(toFile: b.rootfs + "/etc/masked-file", atomically: true, encoding: .utf8)
        for d in ["/etc/masked-dir", "/etc/ro-dir"] {
            try FileManager.default.createDirectory(atPath: b.rootfs + d, withIntermediateDirectories: true)
            try "x".write(toFile: b.rootfs + d + "/content", atomically: true, encoding: .utf8)
        }
        b.spec.linux?.maskedPaths? += ["/etc/masked-file", "/etc/masked-dir", "/does/not/exist"]
        b.spec.linux?.readonlyPaths? += ["/etc/ro-dir", "/does/not/exist/either"]
        let r = try b.run()
        #expect(r.ok, "\(r.stderr)")
        #expect(r.stdout == "0\n0\n0\n0\nsys-readonly\nro-dir\n")
    }

    @Test func maskedPathSymlinkIsNotFollowed() throws {
        let b = try TestBundle(args: ["sh", "-c", "cat /etc/secret-link"])
        try "keep-me".write(toFile: b.rootfs + "/etc/target", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: b.rootfs + "/etc/secret-link", withDestinationPath: "/etc/target")
        b.spec.linux?.maskedPaths = ["/etc/secret-link"]
        let r = try b.run()
        #expect(r.ok, "\(r.stderr)")
        // Masking a symlink must not mask (or follow to) its target.
        #expect(r.stdout == "keep-me")
    }

    @Test func sysctlsAreWritten() throws {
        let b = try TestBundle(args: ["sh", "-c", "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni"])
        b.spec.linux?.sysctl = ["net.ipv4.ip_forward": "1", "kernel.shmmni": "1234"]
        b.spec.linux?.readonlyPaths = []
        let r = try b.run()
        #expect(r.stdout == "1\n1234\n", "\(r.stderr)")
    }

    @Test func cgroupMountShowsTheContainersOwnCgroup() throws {
        let b = try TestBundle(args: ["sh", "-c", "ls /sys/fs/cgroup; cat /sys/fs/cgroup/pids/cgroup.procs | wc -l; touch /sys/fs/cgroup/x 2>/dev/null || echo ro"])
        let r = try b.run()
        #expect(r.ok, "\(r.stderr)")
        #expect(r.stdout.contains("memory") && r.stdout.contains("pids") && r.stdout.contains("cpu"))
        #expect(r.stdout.contains("ro\n"))
    }

    @Test func rootfsPropagation() throws {
        let b = try TestBundle(args: ["sh", "-c", "awk '$5 == \"/\"' /proc/self/mountinfo"])
        b.spec.linux?.rootfsPropagation = "rprivate"
        let r = try b.run()
        #expect(r.ok, "\(r.stderr)")
        #expect(!r.stdout.isEmpty)
        #expect(!r.stdout.contains("shared:") && !r.stdout.contains("master:"))
    }
}
