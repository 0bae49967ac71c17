import Foundation
import Testing
import OCI

@Suite("pause, resume and ps")
struct PauseAndPsTests {
    @Test func pauseFreezesAndResumeThaws() throws {
        let b = try TestBundle(args: ["sh", "-c", "while true; do date +%s%N > /tmp/tick; sleep 0.05; done"])
        #expect(try b.run("-d").ok)
        usleep(200_000)
        #expect(b.swrunc("pause", b.id).ok)
        #expect(try b.state()["status"] as? String == "paused")
        let frozen = try String(contentsOfFile: "/sys/fs/cgroup/freezer/\(b.cgroupParent)/\(b.id)/freezer.state", encoding: .utf8)
        #expect(frozen.hasPrefix("FROZEN"))
        let before = try String(contentsOfFile: b.rootfs + "/tmp/tick", encoding: .utf8)
        usleep(300_000)
        #expect(try String(contentsOfFile: b.rootfs + "/tmp/tick", encoding: .utf8) == before, "nothing runs while paused")
        let twice = b.swrunc("pause", b.id)
        #expect(!twice.ok && twice.stderr.contains("already paused"))
        let exec = b.swrunc("exec", b.id, "true")
        #expect(!exec.ok && exec.stderr.contains("paused"))
        #expect(b.swrunc("resume", b.id).ok)
        #expect(try b.state()["status"] as? String == "running")
        #expect(eventually { (try? String(contentsOfFile: b.rootfs + "/tmp/tick", encoding: .utf8)) != before })
        let again = b.swrunc("resume", b.id)
        #expect(!again.ok && again.stderr.contains("not paused"))
    }

    /// exec refuses a paused container (255) unless --ignore-paused: then the process runs once
    /// the container is resumed.
    @Test func execIntoAPausedContainer() throws {
        let b = try TestBundle(args: ["sleep", "60"])
        defer { b.cleanup() }
        #expect(try b.run("-d").ok)
        #expect(b.swrunc("pause", b.id).ok)
        let refused = b.swrunc("exec", b.id, "echo", "ok")
        #expect(refused.status == 255 && refused.stderr.contains("cannot exec in a paused container"))
        let sw = "\(Swrunc.binary) --root \(b.swrunc.root)"
        let r = Swrunc.sh("(sleep 1; \(sw) resume \(b.id)) & \(sw) exec --ignore-paused \(b.id) echo ok; rc=$?; wait; exit $rc")
        #expect(r.ok, "\(r.stderr)")
        #expect(r.stdout == "ok\n")
    }

    @Test func deleteForceOfAPausedContainer() throws {
        let b = try TestBundle(args: ["sleep", "60"])
        #expect(try b.run("-d").ok)
        #expect(b.swrunc("pause", b.id).ok)
        #expect(b.swrunc("delete", "--force", b.id).ok)
        #expect(!b.swrunc("state", b.id).ok)
    }

    @Test func psListsTheContainersProcesses() throws {
        let b = try TestBundle(args: ["sh", "-c", "sleep 60 & wait"])
        #expect(try b.run("-d").ok)
        usleep(200_000)
        let json = b.swrunc("ps", "--format", "json", b.id)
        let pids = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [Int])
        #expect(pids.count == 2)
        #expect(pids.contains(try #require(try b.state()["pid"] as? Int)))
        let table = b.swrunc("ps", b.id)
        #expect(table.ok, "\(table.stderr)")
        #expect(table.stdout.hasPrefix("UID") && table.stdout.contains("sleep 60"))
        #expect(table.stdout.split(separator: "\n").count == 3)
        let custom = b.swrunc("ps", b.id, "-o", "pid,comm")
        #expect(custom.ok && custom.stdout.hasPrefix("    PID COMMAND") || custom.stdout.contains("PID COMMAND"), "\(custom.stdout) \(custom.stderr)")
    }
}

@Suite("events: stats and the interval stream")
struct EventsTests {
    @Test func statsOneShotAndStream() throws {
        let b = try TestBundle(args: ["sh", "-c", "a=$(head -c 4m /dev/zero | tr '\\0' x); sleep 60"])
        var r = Resources(); r.pids = Pids(limit: 64)
        var m = Memory(); m.limit = 256 << 20
        r.memory = m
        b.spec.linux?.resources = r
        #expect(try b.run("-d").ok)
        usleep(300_000)
        let one = b.swrunc("events", "--stats", b.id)
        #expect(one.ok, "\(one.stderr)")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(one.stdout.utf8)) as? [String: Any])
        #expect(doc["type"] as? String == "stats" && doc["id"] as? String == b.id)
        let data = try #require(doc["data"] as? [String: Any])
        let pids = try #require(data["pids"] as? [String: Any])
        #expect(pids["limit"] as? Int == 64)
        #expect((pids["current"] as? Int ?? 0) >= 1)
        let memory = try #require((data["memory"] as? [String: Any])?["usage"] as? [String: Any])
        #expect(memory["limit"] as? Int == 256 << 20)
        #expect((memory["usage"] as? Int ?? 0) > 0)
        let cpu = try #require((data["cpu"] as? [String: Any])?["usage"] as? [String: Any])
        #expect((cpu["total"] as? Int ?? 0) > 0)
        // The stream ends when the container stops.
        let stopper = b.swrunc
        let id = b.id
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.5) { stopper("kill", id, "KILL") }
        let stream = b.swrunc("events", "--interval", "100ms", b.id)
        #expect(stream.ok, "\(stream.stderr)")
        #expect(stream.stdout.split(separator: "\n").count >= 2)
    }
}
