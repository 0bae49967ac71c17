import Foundation
import Testing
import OCI

/// CVE-2019-5736, as an attacker would run it: `/bin/evil` in the rootfs is a symlink to
/// /proc/self/exe, so whatever runtime process execs it runs the runtime's own binary inside the
/// container. A process in the container opens that process's /proc/<pid>/exe and, once the
/// binary is no longer busy, writes to it. The runtime under test is a *copy* (so a successful
/// attack cannot break the suite) and must come out byte for byte unchanged — for `exec`, for
/// `create` + `start` (the init is the evil program) and for `run`, and the same for runc.
@Suite("host binary: an exec target that resolves to the runtime cannot overwrite it", .serialized)
struct HostBinaryTests {
    /// Finds a process whose exe is neither busybox nor unreadable, opens its exe, lets it go
    /// (it is held on a fifo) and tries for two seconds to write through the fd.
    static let grab = """
    #!/bin/sh
    out=/result; : > $out
    end=$(( $(date +%s) + ${1:-20} )); found=""
    while [ -z "$found" ] && [ $(date +%s) -lt $end ]; do
      for p in /proc/[0-9]*; do
        pid=${p#/proc/}; [ "$pid" = "$$" ] && continue
        l=$(readlink $p/exe 2>/dev/null) || continue
        case "$l" in *busybox*|"") continue;; esac
        if exec 3<$p/exe 2>/dev/null; then found="$pid $l"; break; fi
      done
    done
    [ -z "$found" ] && { echo NOTFOUND >> $out; exit 0; }
    echo "OPENED $found" >> $out
    cat /tmp/hold > /dev/null &
    i=0
    while [ $i -lt 100 ]; do
      if (printf pwned > /proc/self/fd/3) 2>/tmp/err; then echo WROTE >> $out; exit 0; fi
      usleep 20000; i=$((i+1))
    done
    echo "DENIED $(cat /tmp/err)" >> $out
    """

    /// The runtime under test, copied; `name` also decides the flags (runc and swrunc share them).
    struct Copy {
        let dir: String
        let binary: String
        let original: Data

        init(of source: String) throws {
            dir = NSTemporaryDirectory() + "swrunc-copy-\(UUID().uuidString.prefix(8))"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            binary = dir + "/" + (source as NSString).lastPathComponent
            // cp writes the copy in its own process: a write fd opened here could be inherited by a
            // child another test forks at that moment, and exec would then fail with ETXTBSY.
            let cp = Swrunc.exec(["/bin/cp", source, binary])
            guard cp.status == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: binary]) }
            original = try Data(contentsOf: URL(fileURLWithPath: binary))
        }

        var unchanged: Bool { (try? Data(contentsOf: URL(fileURLWithPath: binary))) == original }
        func remove() { try? FileManager.default.removeItem(atPath: dir) }
    }

    func attackBundle(args: [String]) throws -> TestBundle {
        let b = try TestBundle(args: args)
        try FileManager.default.createSymbolicLink(atPath: b.rootfs + "/bin/evil", withDestinationPath: "/proc/self/exe")
        try Self.grab.write(toFile: b.rootfs + "/grab.sh", atomically: true, encoding: .utf8)
        for applet in ["usleep", "printf"] {
            try? FileManager.default.createSymbolicLink(atPath: b.rootfs + "/bin/" + applet, withDestinationPath: "busybox")
        }
        // The evil process blocks opening its --log for writing until the watcher reads.
        #expect(mkfifo(b.rootfs + "/tmp/hold", 0o666) == 0)
        return b
    }

    static let held = ["/bin/evil", "--log", "/tmp/hold", "list"]

    func result(_ b: TestBundle) -> String {
        for _ in 0..<150 {
            if let text = try? String(contentsOfFile: b.rootfs + "/result", encoding: .utf8),
               text.contains("WROTE") || text.contains("DENIED") || text.contains("NOTFOUND") { return text }
            usleep(100_000)
        }
        return (try? String(contentsOfFile: b.rootfs + "/result", encoding: .utf8)) ?? "(no result)"
    }

    /// `reached`: the runtime ran the target (so the attack got hold of a runtime process). runc
    /// 1.1 refuses to exec it at all ("no such file"), which is as good.
    func expectSurvived(_ copy: Copy, _ b: TestBundle, runtime: String, reached: Bool = true) {
        let text = reached ? result(b) : ((try? String(contentsOfFile: b.rootfs + "/result", encoding: .utf8)) ?? "")
        if reached {
            #expect(text.contains("OPENED"), "\(runtime): the attack never reached a runtime process: \(text)")
            #expect(text.contains("DENIED"), "\(runtime): \(text)")
        }
        #expect(!text.contains("WROTE"), "\(runtime): \(text)")
        #expect(copy.unchanged, "\(runtime): the runtime binary was overwritten from inside the container")
    }

    func run(_ copy: Copy, _ b: TestBundle, _ args: [String]) -> Swrunc.Result {
        Swrunc.exec([copy.binary, "--root", b.swrunc.root] + args)
    }

    /// `exec ID /bin/evil`: the exec helper must not become the host binary inside the container.
    func execAttack(runtime: String, scan: Int = 20) throws {
        let copy = try Copy(of: runtime)
        defer { copy.remove() }
        let b = try attackBundle(args: ["sh", "/grab.sh", "\(scan)"])
        defer { _ = run(copy, b, ["delete", "-f", b.id]) }
        try b.write()
        let started = run(copy, b, ["run", "-d", "--bundle", b.dir, b.id])
        try #require(started.ok, "\(started.stderr)")
        let exec = run(copy, b, ["exec", b.id] + Self.held)
        expectSurvived(copy, b, runtime: runtime, reached: exec.ok)
    }

    /// The container's own process is the evil one (create + start, or run -d). The watcher runs
    /// in a second container whose pid namespace the first one joins, as in a pod: the evil init
    /// can exit without taking the watcher with it.
    func initAttack(runtime: String, useRun: Bool, scan: Int = 20) throws {
        let copy = try Copy(of: runtime)
        defer { copy.remove() }
        let watcher = try attackBundle(args: ["sh", "/grab.sh", "\(scan)"])
        defer { _ = run(copy, watcher, ["delete", "-f", watcher.id]) }
        try watcher.write()
        let w = run(copy, watcher, ["run", "-d", "--bundle", watcher.dir, watcher.id])
        try #require(w.ok, "\(w.stderr)")
        let state = run(copy, watcher, ["state", watcher.id])
        let parsed = try JSONSerialization.jsonObject(with: Data(state.stdout.utf8)) as? [String: Any]
        let watcherPid = try #require(parsed?["pid"] as? Int, "\(state.stderr)")

        let evil = try TestBundle(args: Self.held)
        defer { _ = run(copy, evil, ["delete", "-f", evil.id]) }
        evil.spec.root?.path = watcher.rootfs
        let namespaces = (evil.spec.linux?.namespaces ?? []).map {
            $0.type == "pid" ? Namespace(type: "pid", path: "/proc/\(watcherPid)/ns/pid") : $0
        }
        evil.spec.linux?.namespaces = namespaces
        try evil.write()
        if useRun {
            _ = run(copy, evil, ["run", "-d", "--bundle", evil.dir, evil.id])
        } else if run(copy, evil, ["create", "--bundle", evil.dir, evil.id]).ok {
            _ = run(copy, evil, ["start", evil.id])
        }
        // Reached, the evil process blocks on the fifo and keeps running. runc 1.1, and swrunc
        // where the kernel will not execute the detached read-only copy through /proc/self/exe
        // (ENOENT on 6.18), start it and fail to exec the target: it stops at once and the
        // attack never gets a process — as good.
        let refused = eventually(3) {
            let state = run(copy, evil, ["state", evil.id])
            return !state.ok || state.stdout.contains("\"stopped\"")
        }
        expectSurvived(copy, watcher, runtime: runtime, reached: !refused)
    }

    @Test func execOfProcSelfExe() throws { try execAttack(runtime: Swrunc.binary) }
    @Test func createWithProcSelfExeAsTheProcess() throws { try initAttack(runtime: Swrunc.binary, useRun: false) }
    @Test func runWithProcSelfExeAsTheProcess() throws { try initAttack(runtime: Swrunc.binary, useRun: true) }

    @Test func runcSurvivesTheSameAttacks() throws {
        let runc = try #require(RuncCompatibilityTests.runc, "runc is installed by `make test`")
        try execAttack(runtime: runc, scan: 4)
        try initAttack(runtime: runc, useRun: false, scan: 4)
    }

    @Test func theCreatedInitRunsFromASealedCopy() throws {
        // Blocked before execve, the init is still the runtime: from the host, its exe must be a
        // file no one can write, not the installed binary.
        let b = try TestBundle(args: ["true"])
        let r = try b.create()
        try #require(r.ok, "\(r.stderr)")
        let pid = try #require(try b.state()["pid"] as? Int)
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe")) ?? ""
        #expect(!exe.isEmpty && exe != Swrunc.binary, "the init runs the host binary: \(exe)")
        let fd = open("/proc/\(pid)/exe", O_WRONLY)
        let code = errno
        #expect(fd < 0 && code == EROFS, "open for writing: fd \(fd), errno \(code)")
        if fd >= 0 { close(fd) }
    }

    /// A static binary (make's release build; a dynamic one's loader starts the C library before
    /// any entry point runs) has no PT_INTERP naming the dynamic loader.
    static let binaryIsStatic: Bool = {
        guard let head = FileManager.default.contents(atPath: Swrunc.binary)?.prefix(4096) else { return false }
        return head.range(of: Data("ld-linux".utf8)) == nil
    }()

    /// The process that only asks for the sealed copy does so before the C library starts
    /// (swrunc_entry): between its execve and the execveat of the copy, none of glibc's start-up
    /// calls (brk, arch_prctl for its TLS) — and the copy then starts normally.
    @Test(.enabled(if: binaryIsStatic, "a dynamically linked swrunc starts glibc in its loader"))
    func theSealedCopyIsAskedForBeforeTheCLibraryStarts() throws {
        let b = try TestBundle(args: ["true"])
        defer { b.cleanup() }
        try b.write()
        let trace = b.dir + "/trace"
        let r = Swrunc.exec(["/usr/bin/strace", "-o", trace, "-e", "trace=execve,execveat,brk,arch_prctl",
                             Swrunc.binary, "--root", b.swrunc.root, "run", "-b", b.dir, b.id])
        #expect(r.ok, "\(r.stderr)")
        let calls = try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n")
            .map { $0.prefix { $0 != "(" } }.filter { !$0.hasPrefix("+++") && !$0.hasPrefix("---") }
        let copy = try #require(calls.firstIndex(of: "execveat"), "no sealed re-exec: \(calls)")
        #expect(calls[..<copy] == ["execve"], "calls before the re-exec: \(calls[..<copy])")
        #expect(calls[(copy + 1)...].contains("arch_prctl"), "the copy starts glibc: \(calls)")
    }
}
