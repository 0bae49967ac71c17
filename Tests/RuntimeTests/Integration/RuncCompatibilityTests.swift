import Foundation
import Testing
import OCI

/// A bundle made by `runc spec` runs under swrunc with the same observable result as under runc.
@Suite("runc compatibility: the same bundle under runc and swrunc")
struct RuncCompatibilityTests {
    static let runc = ["/usr/sbin/runc", "/usr/bin/runc"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// What the container sees of itself; lines that legitimately differ are filtered by the caller.
    static let facts = """
    hostname; id; grep -E '^(Cap|NoNewPrivs|Seccomp:)' /proc/self/status; ls -l /dev | awk '{print $1, $5, $6, $NF}'; \
    sed 's/ - / | /' /proc/self/mountinfo | awk '{print $5, $6}'; grep 'open files' /proc/self/limits; ls /sys/class/net; \
    umask; pwd; env | sort; cat /proc/self/oom_score_adj; cat /proc/self/uid_map
    """

    func runcBundle() throws -> (dir: String, cleanup: () -> Void) {
        let dir = NSTemporaryDirectory() + "swrunc-compat-\(UUID().uuidString.prefix(8))"
        try TestBundle.makeRootfs(at: dir + "/rootfs")
        let runc = try #require(Self.runc, "runc is installed by `make test`")
        let r = Swrunc.exec([runc, "spec"], cwd: dir)
        try #require(r.ok, "runc spec: \(r.stderr)")
        return (dir, { try? FileManager.default.removeItem(atPath: dir) })
    }

    /// With `tty`, each runtime runs under script(1): runc insists on a real terminal for a
    /// `terminal: true` config, and that is how people run such a bundle.
    func runBoth(_ dir: String, stdin: String? = nil, tty: Bool = false) throws -> (runc: Swrunc.Result, swrunc: Swrunc.Result) {
        let runc = try #require(Self.runc)
        let suffix = UUID().uuidString.prefix(8).lowercased()
        let state = dir + "-state"
        defer {
            _ = Swrunc.exec([runc, "--root", state + "/runc", "delete", "-f", "c-runc-\(suffix)"])
            _ = Swrunc.exec([Swrunc.binary, "--root", state + "/swrunc", "delete", "-f", "c-sw-\(suffix)"])
            try? FileManager.default.removeItem(atPath: state)
        }
        func run(_ argv: [String]) -> Swrunc.Result {
            tty ? Swrunc.exec(["/usr/bin/script", "-qec", argv.joined(separator: " "), "/dev/null"], stdin: stdin)
                : Swrunc.exec(argv, stdin: stdin)
        }
        let a = run([runc, "--root", state + "/runc", "run", "--bundle", dir, "c-runc-\(suffix)"])
        let b = run([Swrunc.binary, "--root", state + "/swrunc", "run", "--bundle", dir, "c-sw-\(suffix)"])
        return (a, b)
    }

    @Test func unchangedRuncSpecBundle() throws {
        // terminal: true, args ["sh"], read-only root: exactly what `runc spec` wrote.
        let (dir, cleanup) = try runcBundle()
        defer { cleanup() }
        let (a, b) = try runBoth(dir, stdin: "echo hello from $(hostname); exit 4\n", tty: true)
        #expect(a.status == 4)
        #expect(b.status == a.status, "swrunc: \(b.stderr)")
        #expect(a.stdout.contains("hello from runc"))
        #expect(b.stdout.contains("hello from runc"))
    }

    @Test func sameViewFromInside() throws {
        let (dir, cleanup) = try runcBundle()
        defer { cleanup() }
        let config = dir + "/config.json"
        var spec = try Spec.decode(Array(Data(contentsOf: URL(fileURLWithPath: config))))
        spec.process?.terminal = false
        spec.process?.args = ["sh", "-c", Self.facts]
        try JSONEncoder().encode(spec).write(to: URL(fileURLWithPath: config))
        let (a, b) = try runBoth(dir)
        #expect(a.ok, "runc: \(a.stderr)")
        #expect(b.ok, "swrunc: \(b.stderr)")
        // swrunc also shows the hybrid host's cgroup2 hierarchy and honours "ro" on the cgroup
        // tmpfs (runc 1.1 leaves it rw); everything else must match line for line.
        func comparable(_ s: String) -> [String] {
            s.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("/sys/fs/cgroup") && $0 != "unified" }
        }
        #expect(comparable(a.stdout).count > 40)
        #expect(comparable(b.stdout) == comparable(a.stdout))
    }
}
