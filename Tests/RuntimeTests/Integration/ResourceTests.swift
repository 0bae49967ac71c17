import Foundation
import Testing
import OCI

@Suite("cgroup v1 resources: read back, enforced, updated")
struct ResourceTests {
    func cgroupFile(_ b: TestBundle, _ controller: String, _ file: String) -> String {
        ((try? String(contentsOfFile: "/sys/fs/cgroup/\(controller)/\(b.cgroupParent)/\(b.id)/\(file)", encoding: .utf8)) ?? "")
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func limitsAreWrittenToTheContainersCgroup() throws {
        let b = try TestBundle(args: ["sleep", "60"])
        var r = Resources()
        var m = Memory(); m.limit = 64 << 20; m.reservation = 32 << 20; m.swap = 128 << 20; m.swappiness = 10
        r.memory = m
        var c = CPU(); c.shares = 512; c.quota = 50000; c.period = 100000; c.cpus = "0"; c.mems = "0"
        r.cpu = c
        r.pids = Pids(limit: 42)
        b.spec.linux?.resources = r
        #expect(try b.run("-d").ok)
        #expect(cgroupFile(b, "memory", "memory.limit_in_bytes") == String(64 << 20))
        #expect(cgroupFile(b, "memory", "memory.soft_limit_in_bytes") == String(32 << 20))
        #expect(cgroupFile(b, "memory", "memory.memsw.limit_in_bytes") == String(128 << 20))
        #expect(cgroupFile(b, "memory", "memory.swappiness") == "10")
        #expect(cgroupFile(b, "cpu", "cpu.shares") == "512")
        #expect(cgroupFile(b, "cpu", "cpu.cfs_quota_us") == "50000")
        #expect(cgroupFile(b, "cpu", "cpu.cfs_period_us") == "100000")
        #expect(cgroupFile(b, "cpuset", "cpuset.cpus") == "0")
        #expect(cgroupFile(b, "pids", "pids.max") == "42")
        // Seen from inside too (the cgroup mount shows the container's own directory).
        let inside = b.swrunc("exec", b.id, "cat", "/sys/fs/cgroup/pids/pids.max")
        #expect(inside.stdout == "42\n", "\(inside.stderr)")
    }

    @Test func memoryHogIsOOMKilled() throws {
        let b = try TestBundle(args: ["sh", "-c", "a=$(head -c 64m /dev/zero | tr '\\0' x); echo survived ${#a}"])
        var m = Memory(); m.limit = 16 << 20; m.swap = 16 << 20
        var r = Resources(); r.memory = m
        b.spec.linux?.resources = r
        let run = try b.run()
        #expect(!run.stdout.contains("survived"))
        #expect(run.status == 137, "the hog is OOM-killed (SIGKILL): \(run.status) \(run.stderr)")
    }

    @Test func forkBombStopsAtPidsMax() throws {
        let b = try TestBundle(args: ["sh", "-c", "for i in $(seq 1 30); do sleep 30 & done 2>/dev/null; wait"])
        var r = Resources(); r.pids = Pids(limit: 10)
        b.spec.linux?.resources = r
        #expect(try b.run("-d").ok)
        #expect(eventually { cgroupFile(b, "pids", "pids.events").hasPrefix("max ") && !cgroupFile(b, "pids", "pids.events").hasPrefix("max 0") })
        #expect((Int(cgroupFile(b, "pids", "pids.current")) ?? 99) <= 10)
    }

    @Test func deviceRulesAreEnforced() throws {
        let b = try TestBundle(args: ["sh", "-c", "head -c 1 /dev/zero > /dev/null && echo zero-ok || echo zero-denied; echo x > /dev/null && echo null-ok"])
        var r = Resources()
        r.devices = [DeviceCgroupRule(allow: false, access: "rwm"), DeviceCgroupRule(allow: false, type: "c", major: 1, minor: 5, access: "rwm")]
        b.spec.linux?.resources = r
        // The defaults are allowed after the config's rules, as runc does; deny zero after them.
        b.spec.linux?.devices = []
        let first = try b.run()
        #expect(first.stdout.contains("null-ok"), "\(first.stderr)")
        let list = cgroupFile(b, "devices", "devices.list")
        #expect(list.isEmpty, "container gone: its devices cgroup is removed")
        // A deny placed explicitly takes effect: emulate docker's --device-cgroup-rule deny.
        let b2 = try TestBundle(args: ["sh", "-c", "head -c 1 /dev/full > /dev/null && echo full-ok || echo full-denied"])
        var r2 = Resources()
        r2.devices = [DeviceCgroupRule(allow: false, access: "rwm")]
        b2.spec.linux?.resources = r2
        #expect(try b2.run().stdout.contains("full-ok"), "default allowed device")
        let b3 = try TestBundle(args: ["sh", "-c", "head -c 1 /dev/fuse-like 2>&1; echo rc=$?"])
        var r3 = Resources()
        r3.devices = [DeviceCgroupRule(allow: false, access: "rwm")]
        b3.spec.linux?.resources = r3
        b3.spec.mounts?.append(Mount(destination: "/dev/fuse-like", type: "bind", source: "/dev/kmsg", options: ["bind"]))
        let denied = try b3.run()
        #expect(denied.stdout.contains("Operation not permitted"), "\(denied.stdout) \(denied.stderr)")
    }

    @Test func updateChangesLimitsAndRecordsThem() throws {
        let b = try TestBundle(args: ["sleep", "60"])
        var r = Resources(); r.pids = Pids(limit: 50)
        var m = Memory(); m.limit = 64 << 20
        r.memory = m
        b.spec.linux?.resources = r
        #expect(try b.run("-d").ok)
        // Until an update changes it, the copy is the bundle's file as it was (not re-encoded).
        let copyPath = b.swrunc.root + "/" + b.id + "/config.json"
        #expect(FileManager.default.contents(atPath: copyPath) == FileManager.default.contents(atPath: b.dir + "/config.json"))
        let u = b.swrunc("update", "--memory", "128m", "--pids-limit", "77", "--cpu-shares", "256", b.id)
        #expect(u.ok, "\(u.stderr)")
        #expect(cgroupFile(b, "memory", "memory.limit_in_bytes") == String(128 << 20))
        #expect(cgroupFile(b, "pids", "pids.max") == "77")
        #expect(cgroupFile(b, "cpu", "cpu.shares") == "256")
        let json = b.swrunc.run(["--root", b.swrunc.root, "update", "--resources", "-", b.id], stdin: #"{"pids":{"limit":88}}"#)
        #expect(json.ok, "\(json.stderr)")
        #expect(cgroupFile(b, "pids", "pids.max") == "88")
        #expect(cgroupFile(b, "memory", "memory.limit_in_bytes") == String(128 << 20), "sections not given are kept")
        // The container's config copy records the new limits (exec and later updates read it).
        let config = try String(contentsOfFile: copyPath, encoding: .utf8)
        #expect(config.contains("\"limit\":88"))
        // runc's spellings: `--memory -1` (a negative number is the value, not an option),
        // `--cpu-share`.
        let runc = b.swrunc("update", "--memory", "-1", "--memory-swap", "-1", "--cpu-share", "512", b.id)
        #expect(runc.ok, "\(runc.stderr)")
        #expect((Int64(cgroupFile(b, "memory", "memory.limit_in_bytes")) ?? 0) > 1 << 40)
        #expect(cgroupFile(b, "cpu", "cpu.shares") == "512")
    }

    /// Paired v1 files the kernel checks against each other go in whichever order it accepts:
    /// a shorter cfs period with a proportionally smaller quota under a parent capped at 50%,
    /// and pids.limit 0 (runc's "1"); removing the memory limit removes memory+swap with it.
    @Test func pairedWritesInTheOrderTheKernelTakes() throws {
        let b = try TestBundle(args: ["sleep", "60"])
        defer { b.cleanup() }
        let parent = "/sys/fs/cgroup/cpu/\(b.cgroupParent)"
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        try "50000".write(toFile: parent + "/cpu.cfs_quota_us", atomically: false, encoding: .utf8)
        b.spec.linux?.resources = Resources()
        b.spec.linux?.resources?.cpu = CPU()
        b.spec.linux?.resources?.cpu?.quota = 500_000
        b.spec.linux?.resources?.cpu?.period = 1_000_000
        b.spec.linux?.resources?.memory = Memory()
        b.spec.linux?.resources?.memory?.limit = 64 << 20
        b.spec.linux?.resources?.memory?.swap = 96 << 20
        #expect(try b.run("-d").ok)
        let dir = "/sys/fs/cgroup/cpu/\(b.cgroupParent)/\(b.id)"
        func value(_ file: String, _ controller: String = "cpu") -> String {
            ((try? String(contentsOfFile: "/sys/fs/cgroup/\(controller)/\(b.cgroupParent)/\(b.id)/\(file)", encoding: .utf8)) ?? "")
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
        #expect(!b.swrunc("update", "--cpu-quota", "600000", b.id).ok, "above the parent's share")
        let u = b.swrunc("update", "--cpu-period", "10000", "--cpu-quota", "3000", b.id)
        #expect(u.ok, "\(u.stderr)")
        #expect(value("cpu.cfs_period_us") == "10000" && value("cpu.cfs_quota_us") == "3000", "\(dir)")
        #expect(b.swrunc("update", "--pids-limit", "0", b.id).ok)
        #expect(value("pids.max", "pids") == "1")
        let m = b.swrunc("update", "--memory", "-1", b.id)
        #expect(m.ok, "\(m.stderr)")
        #expect(value("memory.limit_in_bytes", "memory") == value("memory.memsw.limit_in_bytes", "memory"))
        #expect(Int64(value("memory.limit_in_bytes", "memory")) ?? 0 > 1 << 40)
    }

    @Test func checkBeforeUpdateRefusesALimitBelowUsage() throws {
        // tmpfs pages are charged to the cgroup and stay: a stable usage of 16 MiB.
        let b = try TestBundle(args: ["sh", "-c", "head -c 16m /dev/zero > /dev/shm/fill; sleep 60"])
        var m = Memory(); m.limit = 256 << 20; m.checkBeforeUpdate = true
        var r = Resources(); r.memory = m
        b.spec.linux?.resources = r
        #expect(try b.run("-d").ok)
        #expect(eventually(20) { (Int(cgroupFile(b, "memory", "memory.usage_in_bytes")) ?? 0) > 12 << 20 })
        let u = b.swrunc("update", "--memory", "1m", b.id)
        #expect(!u.ok && u.stderr.contains("checkBeforeUpdate"), "\(u.stderr)")
        #expect(cgroupFile(b, "memory", "memory.limit_in_bytes") == String(256 << 20))
    }

    @Test func deleteKillsEveryProcessInTheCgroup() throws {
        let b = try TestBundle(args: ["sh", "-c", "sleep 60 & sleep 60 & sleep 60"])
        b.spec.linux?.namespaces?.removeAll { $0.type == "pid" }
        #expect(try b.run("-d").ok)
        #expect(eventually { cgroupFile(b, "pids", "cgroup.procs").split(separator: "\n").count == 3 })
        let pids = cgroupFile(b, "pids", "cgroup.procs").split(separator: "\n").compactMap { Int($0) }
        #expect(b.swrunc("delete", "--force", b.id).ok)
        #expect(pids.allSatisfy { processGone($0) }, "children outlived the container")
        #expect(!FileManager.default.fileExists(atPath: "/sys/fs/cgroup/pids/\(b.cgroupParent)/\(b.id)"))
    }

    @Test func execIntoASubCgroup() throws {
        let b = try TestBundle(args: ["sleep", "60"])
        #expect(try b.run("-d").ok)
        for c in ["pids", "memory", "cpu", "cpuacct", "cpuset", "devices", "freezer", "blkio", "systemd", "unified"] {
            let dir = "/sys/fs/cgroup/\(c)/\(b.cgroupParent)/\(b.id)/sub"
            try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        }
        let cpuset = "/sys/fs/cgroup/cpuset/\(b.cgroupParent)/\(b.id)"
        for f in ["cpuset.cpus", "cpuset.mems"] {
            try? String(contentsOfFile: cpuset + "/" + f, encoding: .utf8).write(toFile: cpuset + "/sub/" + f, atomically: false, encoding: .utf8)
        }
        let r = b.swrunc("exec", "--cgroup", "sub", b.id, "cat", "/proc/self/cgroup")
        #expect(r.ok && r.stdout.contains(":pids:/\(b.cgroupParent)/\(b.id)/sub"), "\(r.stdout) \(r.stderr)")
    }

    @Test func badValuesNameTheFieldAndLeaveNothing() throws {
        let b = try TestBundle(args: ["sleep", "60"])
        var c = CPU(); c.cpus = "999"
        var r = Resources(); r.cpu = c
        b.spec.linux?.resources = r
        let run = try b.create()
        #expect(!run.ok && run.stderr.contains("linux.resources.cpu.cpus") && run.stderr.contains("cpuset.cpus=999"), "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "/sys/fs/cgroup/cpuset/\(b.cgroupParent)/\(b.id)"))
        #expect(!FileManager.default.fileExists(atPath: b.swrunc.root + "/" + b.id))
        let missing = b.swrunc("update", "--memory", "1g", "ghost-\(b.id)")
        #expect(!missing.ok && missing.stderr.contains("does not exist"))
        var n = Network(); n.classID = 7
        var r2 = Resources(); r2.network = n
        b.spec.linux?.resources = r2
        let noController = try b.create()
        #expect(!noController.ok && noController.stderr.contains("net_cls"), "\(noController.stderr)")
    }
}
