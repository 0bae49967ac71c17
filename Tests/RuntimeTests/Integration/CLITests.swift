import Foundation
import Testing
import OCI

@Suite("CLI compatibility: flags, spec, features, version, logs")
struct CLITests {
    @Test func versionPrintsRuncsFormat() throws {
        let r = Swrunc(root: "/tmp").run(["--version"])
        let lines = r.stdout.split(separator: "\n")
        try #require(lines.count >= 3)
        #expect(lines[0].hasPrefix("swrunc version "))
        #expect(lines[1].hasPrefix("commit: "))
        #expect(lines[2].hasPrefix("spec: 1."))
    }

    /// runc's help shape: NAME first ("swrunc create - …"); an unknown command's help fails.
    @Test func helpInRuncsShape() throws {
        let sw = Swrunc(root: "/tmp")
        let root = sw.run(["-h"])
        #expect(root.ok && root.stdout.hasPrefix("NAME:\n   swrunc - Open Container Initiative runtime"), "\(root.stdout)")
        for command in ["create", "exec", "features"] {
            let r = sw.run([command, "--help"])
            let lines = r.stdout.split(separator: "\n")
            #expect(r.ok && lines.first == "NAME:" && lines.dropFirst().first?.hasPrefix("   swrunc \(command) - ") == true, "\(r.stdout)")
        }
        let foo = sw.run(["foo", "-h"])
        #expect(!foo.ok && foo.stderr.contains("No help topic for 'foo'"))
    }

    /// JSON keys in runc's order, which clients match textually.
    @Test func eventsAndStateKeepRuncsKeyOrder() throws {
        let b = try TestBundle(args: ["sleep", "60"])
        defer { b.cleanup() }
        #expect(try b.run("-d").ok)
        let e = b.swrunc("events", "--stats", b.id)
        #expect(e.stdout.hasPrefix("{\"type\":\"stats\",\"id\":\"\(b.id)\",\"data\":"), "\(e.stdout.prefix(80))")
        let s = b.swrunc("state", b.id)
        #expect(s.stdout.hasPrefix("{\n  \"ociVersion\": "), "\(s.stdout.prefix(80))")
    }

    @Test func goStyleAndEqualsFlagsAreAccepted() throws {
        let b = try TestBundle(args: ["echo", "ok"])
        try b.write()
        let r = b.swrunc.run(["-root", b.swrunc.root, "--log-format=json", "run", "-bundle", b.dir, "--keep=true", b.id])
        #expect(r.ok, "\(r.stderr)")
        #expect(r.stdout == "ok\n")
        #expect(try b.state()["status"] as? String == "stopped")
        let r2 = b.swrunc.run(["--root=\(b.swrunc.root)", "delete", "--force=true", b.id])
        #expect(r2.ok, "\(r2.stderr)")
    }

    /// The lifecycle commands are read without ArgumentParser when their arguments are plain;
    /// options after the id, short names and `=` values work there too, and anything else (an
    /// unknown flag, an extra argument) still gets ArgumentParser's error.
    @Test func fastReadingOfLifecycleCommandsMatchesArgumentParser() throws {
        let b = try TestBundle(args: ["sleep", "60"])
        defer { b.cleanup() }
        try b.write()
        let pidFile = b.dir + "/pid"
        let created = b.swrunc("create", b.id, "-b", b.dir, "--pid-file=\(pidFile)", "--no-new-keyring")
        #expect(created.ok, "\(created.stderr)")
        let pid = (try? String(contentsOfFile: pidFile, encoding: .utf8)) ?? ""
        let statePid = try b.state()["pid"] as? Int
        #expect(Int32(pid) != nil && statePid.map(String.init) == pid)
        #expect(b.swrunc("start", b.id).ok)
        let extra = b.swrunc("state", b.id, "other")
        #expect(!extra.ok && extra.stderr.contains("Unexpected argument 'other'"), "\(extra.stderr)")
        let unknown = b.swrunc("kill", "--bogus", b.id)
        #expect(!unknown.ok && unknown.stderr.contains("Unknown option '--bogus'"), "\(unknown.stderr)")
        let exec = b.swrunc("exec", "-e", "A=1", "--env=B=2", "--cwd", "/tmp", b.id, "sh", "-c", "echo $A$B $(pwd)")
        #expect(exec.ok && exec.stdout == "12 /tmp\n", "\(exec.stdout) \(exec.stderr)")
        let badNumber = b.swrunc("exec", "--preserve-fds", "x", b.id, "true")
        #expect(!badNumber.ok && badNumber.stderr.contains("preserve-fds"), "\(badNumber.stderr)")
        #expect(b.swrunc("kill", b.id, "KILL").ok)
        #expect(b.swrunc("delete", "-f", b.id).ok)
        #expect(b.swrunc("state", b.id).stderr.contains("does not exist"))
    }

    @Test func specWritesTheDefaultConfigAndRefusesToOverwrite() throws {
        let dir = NSTemporaryDirectory() + "swrunc-spec-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let s = Swrunc(root: "/tmp")
        #expect(s.run(["spec", "--bundle", dir]).ok)
        let spec = try Spec.load(Array(Data(contentsOf: URL(fileURLWithPath: dir + "/config.json"))))
        #expect(spec.process?.args == ["sh"])
        #expect(spec.linux?.namespaces?.map(\.type) == ["pid", "network", "ipc", "uts", "mount"])
        let again = s.run(["spec", "--bundle", dir])
        #expect(!again.ok)
        #expect(again.stderr.contains("exists"))
        try FileManager.default.removeItem(atPath: dir + "/config.json")
        #expect(s.run(["spec", "--rootless", "--bundle", dir]).ok)
        let rootless = try Spec.load(Array(Data(contentsOf: URL(fileURLWithPath: dir + "/config.json"))))
        #expect(rootless.linux?.namespaces?.contains { $0.type == "user" } == true)
        #expect(rootless.linux?.uidMappings?.first?.hostID == getuid())
    }

    @Test func featuresListsWhatWorks() throws {
        let r = Swrunc(root: "/tmp").run(["features"])
        #expect(r.ok)
        let f = try JSONDecoder().decode(Features.self, from: Data(r.stdout.utf8))
        #expect(f.hooks.contains("createRuntime"))
        #expect(Set(f.linux.namespaces) == Set(["pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time"]))
        #expect(f.linux.capabilities.contains("CAP_SYS_ADMIN"))
        #expect(f.mountOptions.contains("rbind"))
    }

    @Test func jsonLogRecordsErrors() throws {
        let b = try TestBundle()
        let log = b.dir + "/log.json"
        let r = b.swrunc.run(["--root", b.swrunc.root, "--log", log, "--log-format", "json", "state", "nope-\(b.id)"])
        #expect(!r.ok)
        let line = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").last.map(String.init) ?? ""
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(obj["level"] as? String == "error")
        #expect((obj["msg"] as? String)?.contains("does not exist") == true)
        #expect(obj["time"] != nil)
    }

    /// An error about a config value carries its JSON path as `field` in the --log line, beside
    /// the message that starts with it (a mount that fails in the init, a cgroup knob); the file
    /// or mount point at fault as `path`, and the container as `id`.
    @Test func jsonLogNamesTheConfigField() throws {
        let b = try TestBundle()
        defer { b.cleanup() }
        b.spec.mounts = (b.spec.mounts ?? []) + [Mount(destination: "/mnt/x", type: "bind", source: "/nonexistent-\(b.id)", options: ["bind"])]
        try b.write()
        let log = b.dir + "/log.json"
        let r = b.swrunc.run(["--root", b.swrunc.root, "--log", log, "--log-format", "json", "run", "-b", b.dir, b.id])
        #expect(!r.ok && r.stderr.contains("mounts[\((b.spec.mounts ?? []).count - 1)]: "), "\(r.stderr)")
        let line = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").last.map(String.init) ?? ""
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(obj["field"] as? String == "mounts[\((b.spec.mounts ?? []).count - 1)]" && obj["errno"] as? Int == Int(ENOENT), "\(line)")
        #expect(obj["path"] as? String == "/mnt/x" && obj["id"] as? String == b.id && obj["stage"] as? String == "rootfs", "\(line)")
        let c = try TestBundle()
        defer { c.cleanup() }
        var resources = c.spec.linux?.resources ?? Resources()
        resources.unified = ["memory.nosuchknob": "1"]
        c.spec.linux?.resources = resources
        try c.write()
        let log2 = c.dir + "/log.json"
        let r2 = c.swrunc.run(["--root", c.swrunc.root, "--log", log2, "--log-format", "json", "run", "-b", c.dir, c.id])
        let line2 = try String(contentsOfFile: log2, encoding: .utf8).split(separator: "\n").last.map(String.init) ?? ""
        let obj2 = try #require(try JSONSerialization.jsonObject(with: Data(line2.utf8)) as? [String: Any])
        #expect(!r2.ok && obj2["field"] as? String == "linux.resources.unified.memory.nosuchknob", "\(line2)")
        #expect((obj2["path"] as? String)?.hasSuffix("/memory.nosuchknob") == true && obj2["id"] as? String == c.id, "\(line2)")
        #expect(obj2["stage"] as? String == "cgroup", "\(line2)")
        // A command about a container that does not exist names it too.
        let r3 = c.swrunc.run(["--root", c.swrunc.root, "--log", log2, "--log-format", "json", "state", c.id + "-missing"])
        let line3 = try String(contentsOfFile: log2, encoding: .utf8).split(separator: "\n").last.map(String.init) ?? ""
        let obj3 = try #require(try JSONSerialization.jsonObject(with: Data(line3.utf8)) as? [String: Any])
        #expect(!r3.ok && obj3["id"] as? String == c.id + "-missing" && obj3["path"] == nil && obj3["stage"] as? String == "lookup", "\(line3)")
        // A config the runtime refuses fails in the config stage, naming the field.
        var config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: c.dir + "/config.json"))) as? [String: Any])
        var process = try #require(config["process"] as? [String: Any])
        process["cwd"] = 7
        config["process"] = process
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: c.dir + "/config.json"))
        let r4 = c.swrunc.run(["--root", c.swrunc.root, "--log", log2, "--log-format", "json", "run", "-b", c.dir, c.id])
        let line4 = try String(contentsOfFile: log2, encoding: .utf8).split(separator: "\n").last.map(String.init) ?? ""
        let obj4 = try #require(try JSONSerialization.jsonObject(with: Data(line4.utf8)) as? [String: Any])
        #expect(!r4.ok && obj4["stage"] as? String == "config" && obj4["field"] as? String == "process.cwd", "\(line4)")
    }

    /// A --log that cannot be opened and a --root that does not exist are errors, as in runc.
    @Test func badLogPathAndMissingRootAreRefused() throws {
        let b = try TestBundle()
        defer { b.cleanup() }
        let r = b.swrunc.run(["--root", b.swrunc.root, "--log", b.dir + "/no/such/dir/log", "list"])
        #expect(!r.ok && r.stderr.contains("--log") && r.stderr.contains("No such file"), "\(r.stderr)")
        let l = b.swrunc.run(["--root", b.dir + "/no-such-root", "list"])
        #expect(!l.ok && l.stderr.contains("no-such-root"), "\(l.stderr)")
    }

    @Test func systemdCgroupIsAClearErrorWithoutSystemd() throws {
        try #require(!FileManager.default.fileExists(atPath: "/run/systemd/system"), "host runs systemd")
        let b = try TestBundle()
        try b.write()
        let r = b.swrunc.run(["--root", b.swrunc.root, "--systemd-cgroup", "run", "--bundle", b.dir, b.id])
        #expect(!r.ok)
        #expect(r.stderr.contains("systemd"))
    }
}
