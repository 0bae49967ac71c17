import Foundation
import Testing
import OCI

/// Configs runc runs that swrunc used to refuse or get wrong, each run for real (and under runc
/// too where it is installed, so the two stay comparable).
@Suite("runc parity: dangling symlink targets, joined mount namespaces, propagation, optional process, caps, no mount namespace")
struct RuncParityTests {
    @Test func aFileBindOntoADanglingSymlinkCreatesItsTarget() throws {
        // Ubuntu images ship /etc/resolv.conf -> ../run/systemd/resolve/stub-resolv.conf, and
        // Docker and podman bind a file there in every container.
        let b = try TestBundle(args: ["sh", "-c", "cat /etc/resolv.conf; ls /run/systemd/resolve"])
        try FileManager.default.createSymbolicLink(atPath: b.rootfs + "/etc/resolv.conf",
                                                   withDestinationPath: "../run/systemd/resolve/stub-resolv.conf")
        let source = b.dir + "/resolv.conf"
        try "nameserver 10.0.0.53\n".write(toFile: source, atomically: true, encoding: .utf8)
        b.spec.mounts?.append(Mount(destination: "/etc/resolv.conf", type: "bind", source: source, options: ["bind", "ro"]))
        let r = try b.run()
        #expect(r.ok, "\(r.stderr)")
        #expect(r.stdout.contains("nameserver 10.0.0.53") && r.stdout.contains("stub-resolv.conf"), "\(r.stdout)")
        // Created inside the rootfs, not on the host.
        #expect(FileManager.default.fileExists(atPath: b.rootfs + "/run/systemd/resolve/stub-resolv.conf"))
        #expect(!FileManager.default.fileExists(atPath: "/run/systemd/resolve/stub-resolv.conf") ||
                (try? String(contentsOfFile: "/run/systemd/resolve/stub-resolv.conf", encoding: .utf8))?.contains("10.0.0.53") != true)
    }

    @Test func aDanglingSymlinkOutOfTheRootfsStaysInside() throws {
        let b = try TestBundle(args: ["cat", "/etc/x.conf"])
        let outside = "/tmp/swrunc-escape-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createSymbolicLink(atPath: b.rootfs + "/etc/x.conf", withDestinationPath: "../../../../.." + outside)
        let source = b.dir + "/x.conf"
        try "inside\n".write(toFile: source, atomically: true, encoding: .utf8)
        b.spec.mounts?.append(Mount(destination: "/etc/x.conf", type: "bind", source: source, options: ["bind"]))
        let r = try b.run()
        #expect(r.ok && r.stdout == "inside\n", "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: outside), "created a file on the host")
        try? FileManager.default.removeItem(atPath: outside)
    }

    @Test func joiningAnExistingMountNamespaceByPath() throws {
        // A mount namespace of its own that still sees the host's files, as a sandbox would set up.
        let pid = spawnProcess(["/usr/bin/unshare", "--mount", "--propagation", "slave", "/bin/sleep", "30"])
        try #require(pid > 0)
        defer { stopProcess(pid) }
        let own = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/mnt")
        #expect(eventually { (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/mnt")) != own })
        let b = try TestBundle(args: ["sh", "-c", "echo joined; ls /"])
        let namespaces = (b.spec.linux?.namespaces ?? []).map {
            $0.type == "mount" ? Namespace(type: "mount", path: "/proc/\(pid)/ns/mnt") : $0
        }
        b.spec.linux?.namespaces = namespaces
        let r = try b.run()
        #expect(r.ok && r.stdout.contains("joined"), "\(r.stderr)")
    }

    @Test func unbindableRootfsPropagation() throws {
        let b = try TestBundle(args: ["sh", "-c", "awk '$5 == \"/\"' /proc/self/mountinfo"])
        b.spec.linux?.rootfsPropagation = "unbindable"
        let r = try b.run()
        #expect(r.ok, "\(r.stderr)")
        #expect(r.stdout.contains("unbindable"), "\(r.stdout)")
    }

    @Test func aConfigWithoutProcessIsCreatedButCannotStart() throws {
        let b = try TestBundle(args: ["true"])
        b.spec.process = nil
        let c = try b.create()
        #expect(c.ok, "\(c.stderr)")
        #expect(try b.state()["status"] as? String == "created")
        let s = b.swrunc("start", b.id)
        #expect(!s.ok && s.stderr.contains("has no process"), "\(s.stderr)")
        #expect(b.swrunc("delete", b.id).ok)
        #expect(!FileManager.default.fileExists(atPath: b.swrunc.root + "/" + b.id))
        let r = try b.run()
        #expect(!r.ok && r.stderr.contains("process"), "\(r.stderr)")
    }

    @Test func aCapabilityTheHostCannotGrantIsAWarning() throws {
        // This sandbox withholds CAP_SYS_RESOURCE from swrunc itself.
        let bounding = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
            .split(separator: "\n").first { $0.hasPrefix("CapBnd:") }.map { UInt64($0.dropFirst(7).trimmingCharacters(in: .whitespaces), radix: 16) ?? 0 } ?? 0
        try #require(bounding & (1 << 24) == 0, "CAP_SYS_RESOURCE is available here: nothing to test")
        let b = try TestBundle(args: ["sh", "-c", "grep CapEff /proc/self/status"])
        let caps = ["CAP_CHOWN", "CAP_SYS_RESOURCE"]
        b.spec.process?.capabilities = Capabilities(bounding: caps, effective: caps, permitted: caps)
        let r = try b.run()
        #expect(r.ok, "\(r.stderr)")
        #expect(r.stderr.contains("CAP_SYS_RESOURCE"), "no warning: \(r.stderr)")
        #expect(r.stdout.contains("0000000000000001"), "\(r.stdout)")
    }

    /// An ambient capability outside the inheritable set cannot be raised: a warning in runc's
    /// words, the others still raised, the container runs.
    @Test func anAmbientCapabilityOutsideInheritableIsAWarning() throws {
        let b = try TestBundle(args: ["grep", "CapAmb", "/proc/self/status"])
        defer { b.cleanup() }
        let all = ["CAP_CHOWN", "CAP_KILL"]
        b.spec.process?.capabilities = Capabilities(bounding: all, effective: all, permitted: all)
        b.spec.process?.capabilities?.inheritable = ["CAP_KILL"]
        b.spec.process?.capabilities?.ambient = ["CAP_KILL", "CAP_CHOWN"]
        let r = try b.run()
        #expect(r.ok, "\(r.stderr)")
        #expect(r.stderr.contains("can't raise ambient capability CAP_CHOWN: "), "\(r.stderr)")
        #expect(r.stdout == "CapAmb:\t0000000000000020\n", "\(r.stdout)")
    }

    @Test func withoutAMountNamespaceItRunsAndDeleteRemovesItsMounts() throws {
        let b = try TestBundle(args: ["sh", "-c", "ls /proc/self >/dev/null && echo in-rootfs $(ls /bin/busybox)"])
        b.spec.linux?.namespaces?.removeAll { $0.type == "mount" }
        b.spec.linux?.maskedPaths = ["/proc/kcore"]
        #expect(try b.create().ok)
        let mounted = (try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)).contains(b.rootfs)
        #expect(mounted, "its mounts are on the host while it exists")
        #expect(b.swrunc("start", b.id).ok)
        #expect(eventually { (try? b.state()["status"] as? String) == "stopped" })
        let del = b.swrunc("delete", b.id)
        #expect(del.ok, "\(del.stderr)")
        let after = try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
        #expect(!after.contains(b.rootfs), "mounts left on the host")
        // And after a killed create, delete --force finds them from the create's record.
        b.spec.process?.args = ["sleep", "30"]
        try b.write()
        let id = b.id + "-k"
        b.track(id)
        let r = Swrunc.sh("\(Swrunc.binary) --root \(b.swrunc.root) create --bundle \(b.dir) \(id)")
        #expect(r.ok)
        #expect(b.swrunc("delete", "--force", id).ok)
        #expect(!(try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)).contains(b.rootfs))
    }
}
