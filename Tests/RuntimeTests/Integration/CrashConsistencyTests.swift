import Foundation
import Testing
import OCI

/// `create` SIGKILLed at a random point, then `delete --force`: every try must end with nothing
/// left — no state, no cgroup in any hierarchy, no process (a half-set-up init or a forked
/// swrunc), no mount on the host.
@Suite("crash consistency: a killed create is cleaned up completely by delete --force")
struct CrashConsistencyTests {
    static let tries = 100

    /// Processes whose command line or environment mentions `marker`.
    func processes(mentioning marker: String) -> [String] {
        let me = getpid()
        var found: [String] = []
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), pid != me else { continue }
            for file in ["cmdline", "environ"] {
                if let data = FileManager.default.contents(atPath: "/proc/\(pid)/\(file)"),
                   data.range(of: Data(marker.utf8)) != nil {
                    let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
                    if !stat.contains(") Z ") { found.append("\(pid) (\(file))") }
                }
            }
        }
        return found
    }

    @Test func killedCreateThenDeleteForceLeavesNothing() throws {
        let b = try TestBundle(args: ["sleep", "1000"])
        let hierarchies = ((try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? [])
            .map { "/sys/fs/cgroup/\($0)" }.filter { FileManager.default.fileExists(atPath: $0 + "/cgroup.procs") }
        var stopped = [0, 0]  // killed before it finished, finished first
        for attempt in 0..<Self.tries {
            let id = "\(b.id)-\(attempt)"
            b.track(id)
            b.spec.linux?.cgroupsPath = "/\(b.cgroupParent)/\(id)"
            b.spec.process?.env = ["PATH=/bin", "CRASH_MARK=\(id)"]
            try b.write()
            let pid = spawnProcess([Swrunc.binary, "--root", b.swrunc.root, "create", "--bundle", b.dir, id])
            try #require(pid > 0)
            usleep(UInt32.random(in: 0...40_000))
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            stopped[(status & 0x7f) == SIGKILL ? 0 : 1] += 1
            let del = b.swrunc("delete", "--force", id)
            #expect(del.ok, "try \(attempt): delete --force failed: \(del.stderr)")
            #expect(!FileManager.default.fileExists(atPath: b.swrunc.root + "/" + id), "try \(attempt): state left")
            for h in hierarchies {
                #expect(!FileManager.default.fileExists(atPath: "\(h)/\(b.cgroupParent)/\(id)"), "try \(attempt): \(h) cgroup left")
            }
            let left = processes(mentioning: id)
            #expect(left.isEmpty, "try \(attempt): processes left: \(left)")
            let mounts = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
            #expect(!mounts.contains(b.dir), "try \(attempt): mount left")
        }
        // Both outcomes must have been exercised for the test to mean anything.
        #expect(stopped[0] > Self.tries / 10, "only \(stopped[0]) of \(Self.tries) creates were killed mid-way")
    }
}
