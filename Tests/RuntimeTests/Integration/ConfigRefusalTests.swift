import Foundation
import Testing
import OCI

/// Configs a hostile or broken client might send, each refused at `create` with one line that
/// names the field — and, where runc is installed, the same configs checked against it.
@Suite("config refusals: ids, duplicate keys, NUL, ranges, one-line errors")
struct ConfigRefusalTests {
    /// Writes `spec`, then lets `edit` change the JSON text (for what the encoder cannot write).
    func create(_ b: TestBundle, edit: (String) -> String = { $0 }) throws -> Swrunc.Result {
        try b.write()
        let path = b.dir + "/config.json"
        try edit(try String(contentsOfFile: path, encoding: .utf8)).write(toFile: path, atomically: true, encoding: .utf8)
        return b.swrunc("create", "--bundle", b.dir, b.id)
    }

    func expectRefused(_ r: Swrunc.Result, _ b: TestBundle, naming field: String, _ what: String? = nil,
                       sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!r.ok, "created: \(field)", sourceLocation: sourceLocation)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].count < 400, "not one short line: \(r.stderr.prefix(300))", sourceLocation: sourceLocation)
        #expect(r.stderr.contains(field), "\(field) not named: \(r.stderr)", sourceLocation: sourceLocation)
        if let what { #expect(r.stderr.contains(what), "\(r.stderr)", sourceLocation: sourceLocation) }
        #expect(!FileManager.default.fileExists(atPath: b.swrunc.root + "/" + b.id), "state left", sourceLocation: sourceLocation)
        #expect(!FileManager.default.fileExists(atPath: "/sys/fs/cgroup/pids/\(b.cgroupParent)/\(b.id)"),
                "cgroup left", sourceLocation: sourceLocation)
    }

    /// kernel.hostname beside hostname would set one name twice: refused, as runc refuses it.
    @Test func hostnameSysctlBesideHostnameIsRefused() throws {
        let b = try TestBundle(args: ["true"])
        defer { b.cleanup() }
        b.spec.hostname = "box"
        b.spec.linux?.sysctl = ["kernel.hostname": "other"]
        expectRefused(try create(b), b, naming: "linux.sysctl.kernel.hostname", "hostname")
    }

    @Test func uidMinusOneIsNotRoot() throws {
        let b = try TestBundle(args: ["id"])
        b.spec.process?.user = User(uid: 4_294_967_295, gid: 4_294_967_295)
        expectRefused(try create(b), b, naming: "process.user.uid", "must be between 0 and 2147483647")
        b.spec.process?.user = User(uid: 1000, gid: 1000, additionalGids: [4_294_967_295])
        expectRefused(try create(b), b, naming: "process.user.additionalGids[0]")
        // The largest valid id runs as itself.
        b.spec.process?.user = User(uid: 2_147_483_647, gid: 2_147_483_647)
        let r = try b.run()
        #expect(r.ok && r.stdout.hasPrefix("uid=2147483647 gid=2147483647"), "\(r.stdout) \(r.stderr)")
        if let runc = RuncCompatibilityTests.runc {
            b.spec.process?.user = User(uid: 4_294_967_295, gid: 4_294_967_295)
            try b.write()
            let root = b.swrunc.root + "-runc"
            defer { _ = Swrunc.exec([runc, "--root", root, "delete", "-f", b.id + "r"]); try? FileManager.default.removeItem(atPath: root) }
            let rr = Swrunc.exec([runc, "--root", root, "run", "--bundle", b.dir, b.id + "r"])
            #expect(!rr.stdout.contains("uid=0"), "runc ran uid -1 as root: \(rr.stdout)")
        }
    }

    @Test func duplicateKeysAreRefusedNotResolvedEitherWay() throws {
        let b = try TestBundle(args: ["id"])
        b.spec.process?.user = User(uid: 0, gid: 0)
        let r = try create(b) { $0.replacingOccurrences(of: "\"user\" :", with: "\"user\" : {\"uid\" : 1000, \"gid\" : 1000}, \"user\" :") }
        expectRefused(r, b, naming: "process", "duplicate key \"user\"")
    }

    @Test func nulCannotTruncateWhatTheKernelSees() throws {
        let b = try TestBundle(args: ["sh"])
        expectRefused(try create(b) { $0.replacingOccurrences(of: "\"sh\"", with: "\"sh\\u0000junk\"") }, b, naming: "process.args[0]", "NUL")
        b.spec.process?.args = ["true"]
        b.spec.mounts?.append(Mount(destination: "/tmp", type: "tmpfs", source: "tmpfs"))
        expectRefused(try create(b) { $0.replacingOccurrences(of: "\"\\/tmp\"", with: "\"\\/tmp\\u0000\\/evil\"") }, b,
                      naming: "destination", "NUL")
    }

    @Test func valuesOutsideTheirRangeAreRefused() throws {
        let b = try TestBundle(args: ["true"])
        var r = Resources()
        r.devices = [DeviceCgroupRule(allow: true, type: "c", major: -5, access: "r")]
        b.spec.linux?.resources = r
        expectRefused(try create(b), b, naming: "linux.resources.devices[0].major")
        r = Resources(); r.memory = Memory(); r.memory?.swappiness = 101
        b.spec.linux?.resources = r
        expectRefused(try create(b), b, naming: "linux.resources.memory.swappiness", "between 0 and 100")
        r = Resources(); r.cpu = CPU(); r.cpu?.shares = 1
        b.spec.linux?.resources = r
        expectRefused(try create(b), b, naming: "linux.resources.cpu.shares")
        b.spec.linux?.resources = nil
        expectRefused(try create(b) { $0.replacingOccurrences(of: "\"linux\" : {", with: "\"linux\" : {\"intelRdt\": {\"closID\": \"x\"},") },
                      b, naming: "linux.intelRdt")
    }

    @Test func numbersAndEncodingErrorsNameTheField() throws {
        let b = try TestBundle(args: ["true"])
        b.spec.process?.user = User(uid: 7, gid: 0)
        for (bad, field) in [("-1", "process.user.uid"), ("1.5", "process.user.uid"), ("18446744073709551616", "process.user.uid")] {
            expectRefused(try create(b) { $0.replacingOccurrences(of: "\"uid\" : 7", with: "\"uid\" : \(bad)") }, b, naming: field)
        }
        b.spec.process?.user = User()
        b.spec.hostname = "HOSTMARK"
        try b.write()
        var bytes = try Data(contentsOf: URL(fileURLWithPath: b.dir + "/config.json"))
        let mark = Data("HOSTMARK".utf8)
        let at = try #require(bytes.range(of: mark))
        bytes.replaceSubrange(at, with: Data([0x48, 0xC3, 0x28, 0x48]))
        try bytes.write(to: URL(fileURLWithPath: b.dir + "/config.json"))
        expectRefused(b.swrunc("create", "--bundle", b.dir, b.id), b, naming: "hostname", "invalid UTF-8")
    }

    @Test func errorsStayOneLineWhateverTheInput() throws {
        let b = try TestBundle(args: [String(repeating: "A", count: 60_000)])
        let r = try create(b)
        expectRefused(r, b, naming: "executable file not found")
        let c = try TestBundle(args: ["true"])
        c.spec.linux?.cgroupsPath = "/x\ny"
        expectRefused(try create(c), c, naming: "linux.cgroupsPath")
    }

    /// Found by the config fuzzer: a warning quoted an unknown capability's newline raw.
    @Test func warningsStayOneLineToo() throws {
        let b = try TestBundle(args: ["true"])
        b.spec.process?.capabilities?.bounding = ["x\ny"]
        b.spec.hostname = "bad\u{1}name\u{7f}"
        let r = try create(b)
        let warning = r.stderr.split(separator: "\n").first { $0.hasPrefix("swrunc warning:") }
        #expect(warning?.contains("x\\ny") == true, "\(r.stderr)")
        #expect(!r.stderr.split(separator: "\n").contains("y"), "\(r.stderr)")
        _ = b.swrunc("delete", "--force", b.id)
    }

    @Test func aMemoryLimitTooLowToStartIsNamed() throws {
        let b = try TestBundle(args: ["true"])
        var r = Resources(); r.memory = Memory(); r.memory?.limit = 1
        b.spec.linux?.resources = r
        let res = try create(b)
        #expect(!res.ok)
        #expect(res.stderr.contains("linux.resources.memory.limit") && res.stderr.contains("OOM"), "\(res.stderr)")
        #expect(!res.stderr.contains("Connection reset"))
    }

    @Test func aMissingSeccompAgentIsNamedAsSuch() throws {
        let b = try TestBundle(args: ["true"])
        var seccomp = Seccomp(defaultAction: "SCMP_ACT_ALLOW", syscalls: [SeccompSyscall(names: ["mkdir"], action: "SCMP_ACT_NOTIFY")])
        seccomp.listenerPath = b.dir + "/no-agent.sock"
        b.spec.linux?.seccomp = seccomp
        let r = try create(b)
        #expect(!r.ok && r.stderr.contains("linux.seccomp.listenerPath: failed to connect with seccomp agent"), "\(r.stderr)")
        #expect(!r.stderr.contains("console"))
    }
}
