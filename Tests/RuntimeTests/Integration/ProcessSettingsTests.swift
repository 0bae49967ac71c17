import Foundation
import Testing
import OCI

/// runtime-spec 1.2/1.3 process settings on the real kernel: scheduler, I/O priority,
/// personality, memory policy, and the CPU affinity a container process starts with.
@Suite("process settings: scheduler, ioprio, personality, memory policy, CPU affinity")
struct ProcessSettingsTests {
    /// Fields of /proc/self/stat after the command name: index 16 is nice, 38 the policy.
    static let statFields = "sed 's/.*) //' /proc/self/stat"

    @Test func schedulerAppliesToTheInitAndToExecs() throws {
        let b = try TestBundle(args: ["sleep", "60"])
        defer { b.cleanup() }
        b.spec.process?.scheduler = Scheduler(policy: "SCHED_BATCH", nice: 19)
        let r = try b.run("-d")
        try #require(r.ok, "\(r.stderr)")
        func policyAndNice(_ r: Swrunc.Result) -> (String, String) {
            let f = r.stdout.split(separator: " ").map(String.init)
            return f.count > 38 ? (f[38], f[16]) : ("?", "?")
        }
        // From config.json, inherited by exec (runc's rule)...
        let inherited = b.swrunc("--root", b.swrunc.root, "exec", b.id, "sh", "-c", Self.statFields)
        #expect(inherited.ok, "\(inherited.stderr)")
        #expect(policyAndNice(inherited) == ("3", "19"))  // SCHED_BATCH
        // ...and an exec's own document wins.
        let doc = #"{"args":["sh","-c","\#(Self.statFields)"],"cwd":"/","scheduler":{"policy":"SCHED_IDLE"}}"#
        let path = b.dir + "/proc.json"
        try doc.write(toFile: path, atomically: true, encoding: .utf8)
        let own = b.swrunc("--root", b.swrunc.root, "exec", "--process", path, b.id)
        #expect(own.ok, "\(own.stderr)")
        #expect(policyAndNice(own).0 == "5")  // SCHED_IDLE
    }

    @Test func deadlineWithACpusetNamesTheConflict() throws {
        let b = try TestBundle(args: ["true"])
        defer { b.cleanup() }
        b.spec.process?.scheduler = Scheduler(policy: "SCHED_DEADLINE", runtime: 42000, deadline: 1_000_000, period: 1_000_000)
        b.spec.linux?.resources = Resources()
        b.spec.linux?.resources?.cpu = CPU()
        b.spec.linux?.resources?.cpu?.cpus = "0"
        b.spec.linux?.resources?.cpu?.mems = "0"
        let r = try b.run()
        #expect(!r.ok)
        #expect(r.stderr.contains("process scheduler can't be used together with AllowedCPUs"), "\(r.stderr)")
    }

    @Test func ioPriorityPersonalityAndMemoryPolicy() throws {
        let b = try TestBundle(args: ["sh", "-c", "ionice; uname -m; grep -m1 -o 'interleave:[0-9]*' /proc/self/numa_maps"])
        defer { b.cleanup() }
        b.spec.process?.ioPriority = IOPriority(class: "IOPRIO_CLASS_BE", priority: 4)
        b.spec.linux?.personality = Personality(domain: "LINUX32")
        b.spec.linux?.memoryPolicy = MemoryPolicy(mode: "MPOL_INTERLEAVE", nodes: "0")
        let r = try b.run()
        #expect(r.ok, "\(r.stderr)")
        #expect(r.stdout.split(separator: "\n") == ["best-effort: prio 4", "i686", "interleave:0"], "\(r.stdout)")
    }

    @Test func badSettingsAreRefusedWithTheirPath() throws {
        let b = try TestBundle(args: ["true"])
        defer { b.cleanup() }
        b.spec.linux?.memoryPolicy = MemoryPolicy(mode: "MPOL_DEFAULT", nodes: "0-7")
        let r = try b.run()
        #expect(r.status == 1)
        #expect(r.stderr.contains("linux.memoryPolicy.nodes: memory policy mode requires 0 nodes but got 8"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: b.swrunc.root + "/" + b.id))
    }

    /// `taskset -c 0 swrunc run` must not pin the container to CPU 0: the process gets every CPU
    /// its cgroup allows (runc resets it the same way).
    @Test(.enabled(if: ProcessInfo.processInfo.activeProcessorCount > 1))
    func theCallersAffinityIsNotInherited() throws {
        let b = try TestBundle(args: ["grep", "Cpus_allowed_list", "/proc/self/status"])
        defer { b.cleanup() }
        try b.write()
        let host = try String(contentsOfFile: "/sys/devices/system/cpu/online", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let r = Swrunc.exec(["/usr/bin/taskset", "-c", "0", Swrunc.binary, "--root", b.swrunc.root, "run", "--bundle", b.dir, b.id])
        #expect(r.ok, "\(r.stderr)")
        #expect(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "Cpus_allowed_list:\t\(host)")
    }

    @Test(.enabled(if: ProcessInfo.processInfo.activeProcessorCount > 1))
    func execStartsOnItsInitialCPUsAndEndsOnItsFinalOnes() throws {
        let b = try TestBundle(args: ["sleep", "60"])
        defer { b.cleanup() }
        let r = try b.run("-d")
        try #require(r.ok, "\(r.stderr)")
        let doc = #"{"args":["grep","Cpus_allowed_list","/proc/self/status"],"cwd":"/","execCPUAffinity":{"initial":"1","final":"0"}}"#
        let path = b.dir + "/proc.json"
        try doc.write(toFile: path, atomically: true, encoding: .utf8)
        let e = b.swrunc("--root", b.swrunc.root, "--debug", "exec", "--process", path, b.id)
        #expect(e.ok, "\(e.stderr)")
        #expect(e.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "Cpus_allowed_list:\t0")
        // The debug log shows the affinity the process had before it joined the cgroup.
        #expect(e.stderr.contains(": affinity: 0x2\""), "\(e.stderr)")
        #expect(e.stderr.contains("level=debug"))
    }
}
