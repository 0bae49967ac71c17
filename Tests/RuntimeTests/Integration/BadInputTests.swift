import Foundation
import Testing
import OCI

@Suite("bad input: one-line errors, non-zero exit, nothing left behind")
struct BadInputTests {
    func expectNothingLeft(_ b: TestBundle) {
        #expect(!FileManager.default.fileExists(atPath: b.swrunc.root + "/" + b.id), "state left behind")
        for c in ["pids", "memory", "cpu", "freezer", "unified"] {
            #expect(!FileManager.default.fileExists(atPath: "/sys/fs/cgroup/\(c)/\(b.cgroupParent)/\(b.id)"), "\(c) cgroup left behind")
        }
        let mounts = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
        #expect(!mounts.contains(b.dir), "mount left behind")
    }

    func oneLine(_ r: Swrunc.Result) -> Bool {
        r.stderr.split(separator: "\n").count == 1
    }

    @Test func malformedJSON() throws {
        let b = try TestBundle()
        try b.write()
        try "{\"ociVersion\": \"1.0.2\", ".write(toFile: b.dir + "/config.json", atomically: true, encoding: .utf8)
        let r = b.swrunc("create", "--bundle", b.dir, b.id)
        #expect(!r.ok)
        #expect(oneLine(r) && r.stderr.contains("config.json") && r.stderr.contains("invalid JSON"))
        expectNothingLeft(b)
    }

    @Test func invalidFieldNamesItsJSONPath() throws {
        let b = try TestBundle()
        b.spec.linux?.namespaces?.append(Namespace(type: "foo"))
        let r = try b.create()
        #expect(!r.ok)
        #expect(r.stderr.contains("linux.namespaces[5].type: unknown namespace type \"foo\""), "\(r.stderr)")
        #expect(oneLine(r))
        expectNothingLeft(b)
    }

    @Test func wrongTypeNamesItsJSONPath() throws {
        let b = try TestBundle()
        try b.write()
        var text = try String(contentsOfFile: b.dir + "/config.json", encoding: .utf8)
        text = text.replacingOccurrences(of: "\"uid\" : 0", with: "\"uid\" : \"root\"")
        try text.write(toFile: b.dir + "/config.json", atomically: true, encoding: .utf8)
        let r = b.swrunc("create", "--bundle", b.dir, b.id)
        #expect(!r.ok)
        #expect(r.stderr.contains("process.user.uid"), "\(r.stderr)")
        expectNothingLeft(b)
    }

    @Test func missingConfigAndMissingRootfs() throws {
        let b = try TestBundle()
        let r = b.swrunc("create", "--bundle", b.dir, b.id)
        #expect(!r.ok && r.stderr.contains("config.json") && r.stderr.contains("No such file"))
        b.spec.root?.path = "nope"
        let r2 = try b.create()
        #expect(!r2.ok && r2.stderr.contains("root.path") && r2.stderr.contains("nope"), "\(r2.stderr)")
        expectNothingLeft(b)
    }

    @Test func duplicateIDIsRefusedAndTheFirstKept() throws {
        let b = try TestBundle(args: ["sleep", "60"])
        #expect(try b.create().ok)
        let r = try b.create()
        #expect(!r.ok && r.stderr.contains("exists"))
        #expect(try b.state()["status"] as? String == "created")
    }

    @Test func invalidIDs() throws {
        let b = try TestBundle()
        try b.write()
        for bad in ["../escape", "a/b", "..", "with space"] {
            let r = b.swrunc("create", "--bundle", b.dir, bad)
            #expect(!r.ok && r.stderr.contains("invalid container id"), "\(bad): \(r.stderr)")
        }
    }

    @Test func unknownContainerForEveryCommand() throws {
        let b = try TestBundle()
        for cmd in [["start"], ["state"], ["kill"], ["delete"]] {
            let r = b.swrunc.run(["--root", b.swrunc.root] + cmd + ["ghost-\(b.id)"])
            #expect(!r.ok && r.stderr.contains("does not exist"), "\(cmd): \(r.stderr)")
            #expect(oneLine(r))
        }
    }

    @Test func missingExecutableFailsCreate() throws {
        let b = try TestBundle(args: ["/no/such/binary"])
        let r = try b.create()
        #expect(!r.ok && r.stderr.contains("/no/such/binary"), "\(r.stderr)")
        expectNothingLeft(b)
        let b2 = try TestBundle(args: ["not-in-path"])
        let r2 = try b2.create()
        #expect(!r2.ok && r2.stderr.contains("executable file not found in $PATH"), "\(r2.stderr)")
        expectNothingLeft(b2)
    }

    @Test func badMountIsRolledBack() throws {
        let b = try TestBundle(args: ["true"])
        b.spec.mounts?.append(Mount(destination: "/data", type: "bind", source: "/definitely/not/here", options: ["bind"]))
        let r = try b.create()
        #expect(!r.ok && r.stderr.contains("/definitely/not/here"), "\(r.stderr)")
        expectNothingLeft(b)
    }

    /// The parent makes id-mapped mounts mid-setup: one it cannot make fails the whole create,
    /// naming the mount, and the half-set-up container is rolled back.
    @Test func idmapMountOfAMissingSourceIsAClearError() throws {
        let b = try TestBundle()
        var m = Mount(destination: "/data", type: "bind", source: "/definitely/not/here", options: ["bind", "idmap"])
        m.uidMappings = [IDMapping(containerID: 0, hostID: 100000, size: 65536)]
        m.gidMappings = [IDMapping(containerID: 0, hostID: 100000, size: 65536)]
        b.spec.mounts?.append(m)
        let r = try b.create()
        #expect(!r.ok && r.stderr.contains("open_tree /definitely/not/here"), "\(r.stderr)")
        expectNothingLeft(b)
    }

    @Test func hostnameWithoutUTSNamespace() throws {
        let b = try TestBundle()
        b.spec.linux?.namespaces?.removeAll { $0.type == "uts" }
        b.spec.hostname = "x"
        let r = try b.create()
        #expect(!r.ok && r.stderr.contains("hostname"))
        expectNothingLeft(b)
    }

    @Test func impossibleRlimitIsAnErrorNamingIt() throws {
        let b = try TestBundle()
        // The sandbox cannot raise hard limits (no CAP_SYS_RESOURCE), and nothing can exceed nr_open.
        b.spec.process?.rlimits = [Rlimit(type: "RLIMIT_NOFILE", hard: 1 << 40, soft: 1 << 40)]
        let r = try b.create()
        #expect(!r.ok && r.stderr.contains("RLIMIT_NOFILE"), "\(r.stderr)")
        expectNothingLeft(b)
    }

    @Test func terminalWithoutConsoleSocket() throws {
        let b = try TestBundle()
        b.spec.process?.terminal = true
        let r = try b.create()
        #expect(!r.ok && r.stderr.contains("console-socket"))
        expectNothingLeft(b)
    }
}
