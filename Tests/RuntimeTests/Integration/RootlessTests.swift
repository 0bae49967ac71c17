import Foundation
import Testing
import OCI

/// swrunc run by an unprivileged user: containers under $XDG_RUNTIME_DIR, a user namespace with
/// the caller's own id (written directly) or its /etc/subuid range (through newuidmap), no
/// cgroup when none is delegated, exec joining through the user namespace.
@Suite("rootless: swrunc as an unprivileged user", .serialized)
struct RootlessTests {
    /// An unprivileged uid of its own (no passwd entry needed), with the bundle and runtime dir.
    final class User {
        let uid = UInt32.random(in: 40000..<50000)
        let bundle: TestBundle
        let xdg: String
        var id: String { bundle.id }

        init(_ name: String = #function, args: [String]) throws {
            bundle = try TestBundle(name, args: args)
            xdg = bundle.dir + "-xdg"
            try FileManager.default.createDirectory(atPath: xdg, withIntermediateDirectories: true)
            // The rootless config `swrunc spec --rootless` writes, for this uid.
            bundle.spec = Spec.defaultSpec(rootless: true, hostUID: uid, hostGID: uid)
            bundle.spec.process?.terminal = false
            bundle.spec.process?.args = args
        }

        /// Writes the config and hands the bundle and runtime dir to the user.
        func write() throws {
            try bundle.write()
            for path in [bundle.dir, xdg] {
                let r = Swrunc.exec(["/bin/chown", "-R", "\(uid):\(uid)", path])
                try #require(r.ok, "\(r.stderr)")
            }
        }

        func swrunc(_ args: String...) -> Swrunc.Result {
            Swrunc.exec(["/usr/bin/setpriv", "--reuid=\(uid)", "--regid=\(uid)", "--clear-groups",
                         "/usr/bin/env", "XDG_RUNTIME_DIR=\(xdg)", Swrunc.binary] + args, cwd: bundle.dir)
        }

        func cleanup() {
            _ = swrunc("delete", "--force", id)
            bundle.cleanup()
            try? FileManager.default.removeItem(atPath: xdg)
        }
    }

    @Test func runExecAndDeleteWithTheCallersOwnID() throws {
        let u = try User(args: ["sleep", "60"])
        defer { u.cleanup() }
        try u.write()
        let r = u.swrunc("run", "-d", u.id)
        try #require(r.ok, "\(r.stderr)")
        // State lives under $XDG_RUNTIME_DIR/swrunc; no cgroup was made for it.
        #expect(FileManager.default.fileExists(atPath: "\(u.xdg)/swrunc/\(u.id)"))
        #expect(!FileManager.default.fileExists(atPath: "/sys/fs/cgroup/pids/\(u.id)"))
        let e = u.swrunc("exec", u.id, "sh", "-c", "id -u; cat /proc/self/uid_map; echo $$")
        #expect(e.ok, "\(e.stderr)")
        let lines = e.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
        #expect(lines.first == "0")
        #expect(lines.dropFirst().first == "0 \(u.uid) 1")
        #expect(Int(lines.last ?? "") ?? 0 > 1, "the exec'd process is in the container's pid namespace")
        #expect(u.swrunc("list", "-q").stdout == "\(u.id)\n")
        #expect(u.swrunc("delete", "--force", u.id).ok)
        #expect(u.swrunc("list", "-q").stdout.isEmpty)
    }

    /// Without a cgroup, `kill --all` still reaches every process of the container: those in
    /// its pid namespace (a container manager's forced stop relies on it).
    @Test func killAllWithoutACgroupReachesTheWholePidNamespace() throws {
        let u = try User(args: ["sh", "-c", "trap '' TERM; sleep 300 & sleep 301 & wait"])
        defer { u.cleanup() }
        try u.write()
        try #require(u.swrunc("run", "-d", u.id).ok)
        let pids = { Swrunc.exec(["/usr/bin/pgrep", "-u", "\(u.uid)", "-x", "-f", "sleep 30[01]"]).stdout.split(separator: "\n") }
        for _ in 0..<100 where pids().count < 2 { usleep(20_000) }
        #expect(pids().count == 2)
        let k = u.swrunc("kill", "--all", u.id, "KILL")
        #expect(k.ok, "\(k.stderr)")
        for _ in 0..<100 where !pids().isEmpty { usleep(20_000) }
        #expect(pids().isEmpty, "sleeps left after kill --all")
        for _ in 0..<100 where !u.swrunc("state", u.id).stdout.contains("\"stopped\"") { usleep(20_000) }
        #expect(u.swrunc("state", u.id).stdout.contains("\"stopped\""))
    }

    @Test func limitsWithoutADelegatedCgroupAreRefused() throws {
        let u = try User(args: ["true"])
        defer { u.cleanup() }
        u.bundle.spec.linux?.resources = Resources()
        u.bundle.spec.linux?.resources?.pids = Pids(limit: 10)
        try u.write()
        let r = u.swrunc("run", u.id)
        #expect(!r.ok)
        #expect(r.stderr.contains("linux.resources: limits need a cgroup"), "\(r.stderr)")
        #expect(u.swrunc("list", "-q").stdout.isEmpty)
    }

    /// A range from /etc/subuid and /etc/subgid: mapped through newuidmap/newgidmap.
    @Test func subordinateRangesGoThroughNewuidmap() throws {
        let u = try User(args: ["sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; stat -c %u /tmp"])
        defer { u.cleanup() }
        // newuidmap wants the caller's name: a throwaway account, removed afterwards.
        let name = "swrunc-rl\(u.uid)"
        let group = Swrunc.exec(["/usr/sbin/groupadd", "-g", "\(u.uid)", name])
        try #require(group.ok, "\(group.stderr)")
        defer { _ = Swrunc.exec(["/usr/sbin/groupdel", name]) }
        let add = Swrunc.exec(["/usr/sbin/useradd", "-M", "-g", "\(u.uid)", "-K", "SUB_UID_COUNT=0", "-K", "SUB_GID_COUNT=0",
                               "-u", "\(u.uid)", "-s", "/usr/sbin/nologin", name])
        try #require(add.ok, "\(add.stderr)")
        defer { _ = Swrunc.exec(["/usr/sbin/userdel", name]) }
        let line = "\(name):\(u.uid * 10):65536\n"
        for file in ["/etc/subuid", "/etc/subgid"] {
            let old = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
            try (old + line).write(toFile: file, atomically: true, encoding: .utf8)
        }
        defer {
            for file in ["/etc/subuid", "/etc/subgid"] {
                let now = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
                try? now.replacingOccurrences(of: line, with: "").write(toFile: file, atomically: true, encoding: .utf8)
            }
        }
        let maps = [IDMapping(containerID: 0, hostID: u.uid, size: 1), IDMapping(containerID: 1, hostID: u.uid * 10, size: 65536)]
        u.bundle.spec.linux?.uidMappings = maps
        u.bundle.spec.linux?.gidMappings = maps
        try u.write()
        // /tmp inside belongs to container uid 1000: host uid*10 + 999.
        let tmp = u.bundle.rootfs + "/tmp"
        chown(tmp, u.uid * 10 + 999, u.uid * 10 + 999)
        let r = u.swrunc("run", u.id)
        #expect(r.ok, "\(r.stderr)")
        let squeezed = r.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
        #expect(squeezed == ["0 \(u.uid) 1", "1 \(u.uid * 10) 65536", "0 \(u.uid) 1", "1 \(u.uid * 10) 65536", "1000"], "\(r.stdout)")
    }
}
