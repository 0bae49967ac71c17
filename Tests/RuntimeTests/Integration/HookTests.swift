import Foundation
import Testing
import OCI

@Suite("hooks: order, state on stdin, namespaces, timeout, failure semantics")
struct HookTests {
    /// A hook that appends "<kind> <status> <pid> <id>" and its mount namespace to a log.
    func recorder(_ b: TestBundle, kind: String, log: String) -> Hook {
        let script = """
        read -r state; status=$(echo "$state" | sed 's/.*"status":"\\([a-z]*\\)".*/\\1/'); \
        id=$(echo "$state" | sed 's/.*"id":"\\([^"]*\\)".*/\\1/'); \
        echo "\(kind) $status $id $(readlink /proc/self/ns/mnt)" >> \(log)
        """
        return Hook(path: "/bin/sh", args: ["sh", "-c", script])
    }

    @Test func everyHookRunsInOrderWithTheStatusTheSpecRequires() throws {
        let b = try TestBundle(args: ["true"])
        let log = b.dir + "/hooks.log"
        // Hooks in the container namespace run with the container's view; give them a shell there.
        b.spec.mounts?.append(Mount(destination: b.dir, type: "bind", source: b.dir, options: ["bind"]))
        b.spec.hooks = Hooks(
            prestart: [recorder(b, kind: "prestart", log: log)],
            createRuntime: [recorder(b, kind: "createRuntime", log: log)],
            createContainer: [recorder(b, kind: "createContainer", log: log)],
            startContainer: [recorder(b, kind: "startContainer", log: log)],
            poststart: [recorder(b, kind: "poststart", log: log)],
            poststop: [recorder(b, kind: "poststop", log: log)])
        #expect(try b.create().ok)
        var lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        // Index only what is there: a crash would skip every test's cleanup.
        try #require(lines.count == 3 && lines.allSatisfy { $0.count == 4 }, "\(lines)")
        #expect(lines.map { $0[0] } == ["prestart", "createRuntime", "createContainer"])
        #expect(lines.allSatisfy { $0[1] == "creating" && $0[2] == b.id })
        let hostMnt = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/mnt")
        #expect(lines[1][3] == hostMnt, "createRuntime runs in the runtime namespace")
        #expect(lines[2][3] != hostMnt, "createContainer runs in the container namespace")

        #expect(b.swrunc("start", b.id).ok)
        #expect(eventually { (try? b.state()["status"] as? String) == "stopped" })
        #expect(b.swrunc("delete", b.id).ok)
        lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        try #require(lines.count == 6 && lines.allSatisfy { $0.count == 4 }, "\(lines)")
        #expect(lines.map { $0[0] } == ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"])
        #expect(lines[3][1] == "created")
        #expect(lines[3][3] != hostMnt, "startContainer runs in the container namespace")
        #expect(lines[4][1] == "running")
        #expect(lines[5][1] == "stopped")
    }

    @Test func failingCreateRuntimeHookFailsCreateAndLeavesNothing() throws {
        let b = try TestBundle(args: ["sleep", "60"])
        let log = b.dir + "/hooks.log"
        b.spec.hooks = Hooks(createRuntime: [Hook(path: "/bin/sh", args: ["sh", "-c", "echo broken >&2; exit 3"])],
                             poststop: [recorder(b, kind: "poststop", log: log)])
        let r = try b.create()
        #expect(!r.ok)
        #expect(r.stderr.contains("error running createRuntime hook #0:") && r.stderr.contains("exit status 3") && r.stderr.contains("broken"))
        #expect(!FileManager.default.fileExists(atPath: b.swrunc.root + "/" + b.id))
        #expect(!FileManager.default.fileExists(atPath: "/sys/fs/cgroup/pids/\(b.cgroupParent)/\(b.id)"))
        #expect((try? String(contentsOfFile: log, encoding: .utf8))?.hasPrefix("poststop") == true,
                "poststop hooks run after a failed create hook")
    }

    @Test func failingCreateContainerHookFailsCreate() throws {
        let b = try TestBundle(args: ["sleep", "60"])
        let log = b.dir + "/hooks.log"
        b.spec.hooks = Hooks(createContainer: [Hook(path: "/bin/false")],
                             poststop: [recorder(b, kind: "poststop", log: log)])
        let r = try b.create()
        #expect(!r.ok)
        #expect(r.stderr.contains("createContainer hook #0"))
        #expect(!FileManager.default.fileExists(atPath: b.swrunc.root + "/" + b.id))
        #expect((try? String(contentsOfFile: log, encoding: .utf8))?.hasPrefix("poststop") == true,
                "poststop hooks run after a failed createContainer hook")
    }

    @Test func failingPoststartHookIsOnlyAWarning() throws {
        let b = try TestBundle(args: ["echo", "still-runs"])
        b.spec.hooks = Hooks(poststart: [Hook(path: "/bin/false")])
        let r = try b.run()
        #expect(r.ok)
        #expect(r.stdout.contains("still-runs"))
        #expect(r.stderr.contains("poststart hook #0"))
    }

    /// A startContainer hook that names no environment runs with the process's, as runc's do.
    @Test func startContainerHooksGetTheProcessEnvironment() throws {
        let b = try TestBundle(args: ["true"])
        defer { b.cleanup() }
        try "#!/bin/sh\n[ \"$ONE\" = two ] && [ -n \"$HOME\" ] || { echo \"ONE=$ONE HOME=$HOME\"; exit 1; }\n"
            .write(toFile: b.rootfs + "/check-env.sh", atomically: true, encoding: .utf8)
        chmod(b.rootfs + "/check-env.sh", 0o755)
        b.spec.process?.env = ["ONE=two", "PATH=/bin"]
        b.spec.hooks = Hooks(startContainer: [Hook(path: "/check-env.sh")])
        let r = try b.run()
        #expect(r.ok, "\(r.stderr)")
    }

    /// createContainer hooks start in the container's root: a relative path names a rootfs file.
    @Test func createContainerHooksStartInTheRootfs() throws {
        let b = try TestBundle(args: ["cat", "/from-hook"])
        defer { b.cleanup() }
        b.spec.hooks = Hooks(createContainer: [Hook(path: "/bin/sh", args: ["sh", "-c", "echo made-here > ./from-hook"])])
        let r = try b.run()
        #expect(r.ok && r.stdout == "made-here\n", "\(r.stderr)")
    }

    @Test func hookTimeoutIsEnforced() throws {
        let b = try TestBundle(args: ["true"])
        b.spec.hooks = Hooks(prestart: [Hook(path: "/bin/sleep", args: ["sleep", "30"], timeout: 1)])
        let start = Date()
        let r = try b.run()
        #expect(!r.ok)
        #expect(r.stderr.contains("timed out after 1s"))
        #expect(Date().timeIntervalSince(start) < 20)
    }

    @Test func hookEnvAndArgsArePassed() throws {
        let b = try TestBundle(args: ["true"])
        let out = b.dir + "/env.out"
        b.spec.hooks = Hooks(createRuntime: [Hook(path: "/bin/sh", args: ["sh", "-c", "echo \"$0 $MYVAR\" > \(out)", "arg0"], env: ["MYVAR=hello"])])
        #expect(try b.run().ok)
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "arg0 hello\n")
    }
}
