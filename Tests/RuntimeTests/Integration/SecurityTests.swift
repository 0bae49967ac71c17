import Foundation
import Testing
import OCI

@Suite("hardening: host binary, fds, cwd, /proc and /sys targets, LSM requests")
struct SecurityTests {
    @Test func hostBinaryIsNeverReachableFromInside() throws {
        // The container watches every process it can see for an exe that is the host's swrunc,
        // while execs come and go (each exec child lives in the container's pid namespace).
        let watcher = """
        end=$(( $(date +%s) + 4 )); while [ $(date +%s) -lt $end ]; do \
        for p in /proc/[0-9]*; do l=$(readlink $p/exe 2>/dev/null); case "$l" in *swrunc*) echo "LEAK $p $l";; esac; \
        (exec 3>>$p/exe) 2>/dev/null && echo "WRITABLE $p"; done; done; echo watched
        """
        let b = try TestBundle(args: ["sleep", "60"])
        #expect(try b.run("-d").ok)
        let before = try Data(contentsOf: URL(fileURLWithPath: Swrunc.binary))
        let watch = DispatchQueue.global()
        nonisolated(unsafe) var watchResult: Swrunc.Result?
        let done = DispatchSemaphore(value: 0)
        let swrunc = b.swrunc, id = b.id
        watch.async {
            watchResult = swrunc("exec", id, "sh", "-c", watcher)
            done.signal()
        }
        for _ in 0..<20 { _ = b.swrunc("exec", b.id, "true") }
        done.wait()
        let r = try #require(watchResult)
        #expect(r.stdout.contains("watched"), "\(r.stderr)")
        #expect(!r.stdout.contains("LEAK") && !r.stdout.contains("WRITABLE"), "\(r.stdout)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: Swrunc.binary)) == before)
    }

    @Test func cwdCannotPointOutsideTheRootfs() throws {
        let b = try TestBundle(args: ["sh", "-c", "pwd; ls /proc/self/cwd/ | head -3"])
        try FileManager.default.createSymbolicLink(atPath: b.rootfs + "/up", withDestinationPath: "../../../../../../")
        b.spec.process?.cwd = "/up/../../../tmp"
        let r = try b.run()
        #expect(r.ok, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("/tmp\n"))
        // CVE-2024-21626: a cwd through a leaked host fd must not resolve.
        let b2 = try TestBundle(args: ["pwd"])
        b2.spec.process?.cwd = "/proc/self/fd/7"
        try b2.write()
        let leak = Swrunc.sh("exec 7</; \(Swrunc.binary) --root \(b2.swrunc.root) run --bundle \(b2.dir) \(b2.id)")
        #expect(!leak.ok, "cwd resolved through an inherited fd: \(leak.stdout)")
    }

    @Test func procAndSysMustNotBeSymlinks() throws {
        let b = try TestBundle(args: ["true"])
        try FileManager.default.removeItem(atPath: b.rootfs + "/proc")
        let decoy = NSTemporaryDirectory() + "swrunc-decoy-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: decoy, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: decoy) }
        try FileManager.default.createSymbolicLink(atPath: b.rootfs + "/proc", withDestinationPath: decoy)
        let r = try b.create()
        #expect(!r.ok && r.stderr.contains("mount proc on /proc: filesystem \"proc\" must be mounted on ordinary directory"), "\(r.stderr)")
        let mounts = try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
        #expect(!mounts.contains(decoy))
        #expect(!FileManager.default.fileExists(atPath: b.swrunc.root + "/" + b.id))
    }

    @Test func unsupportedLSMRequestsAreErrors() throws {
        try #require(!FileManager.default.fileExists(atPath: "/sys/fs/selinux/enforce"), "host has SELinux")
        let b = try TestBundle(args: ["true"])
        b.spec.process?.selinuxLabel = "system_u:system_r:container_t:s0"
        let r = try b.create()
        #expect(!r.ok && r.stderr.contains("process.selinuxLabel: SELinux is not enabled"), "\(r.stderr)")
        b.spec.process?.selinuxLabel = nil
        b.spec.linux?.mountLabel = "system_u:object_r:container_file_t:s0"
        let r2 = try b.create()
        #expect(!r2.ok && r2.stderr.contains("linux.mountLabel"), "\(r2.stderr)")
        b.spec.linux?.mountLabel = nil
        if !((try? String(contentsOfFile: "/sys/module/apparmor/parameters/enabled", encoding: .utf8))?.hasPrefix("Y") ?? false) {
            b.spec.process?.apparmorProfile = "docker-default"
            let r3 = try b.create()
            #expect(!r3.ok && r3.stderr.contains("process.apparmorProfile: AppArmor is not enabled"), "\(r3.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: b.swrunc.root + "/" + b.id))
    }

    /// --no-pivot leaves the host's mounts under the chroot; a fully visible proc among them lets
    /// a process in a new user namespace mount a fresh, unmasked proc (the kernel allows a proc
    /// mount where one is fully visible). They are detached first: the mount is refused, as it
    /// is with pivot_root and with runc (the unfixed swrunc answered MOUNTED here).
    @Test func noPivotLeavesNoHostProcToMountAgain() throws {
        let b = try TestBundle(args: ["sh", "-c", "unshare -mrpf sh -c 'mount -t proc none /proc && echo MOUNTED' 2>/dev/null || echo REFUSED"])
        defer { b.cleanup() }
        try FileManager.default.createSymbolicLink(atPath: b.rootfs + "/bin/unshare", withDestinationPath: "busybox")
        // Root in the container with what mapping root in a new user namespace takes.
        let caps = ["CAP_SYS_ADMIN", "CAP_SETUID", "CAP_SETGID", "CAP_SETFCAP"]
        b.spec.process?.capabilities = Capabilities(bounding: caps, effective: caps, permitted: caps)
        let r = try b.run("--no-pivot")
        #expect(r.ok, "\(r.stderr)")
        #expect(r.stdout == "REFUSED\n", "\(r.stdout)")
    }
}
