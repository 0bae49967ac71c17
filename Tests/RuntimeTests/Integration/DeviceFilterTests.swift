import Foundation
import Testing
@testable import Runtime
import OCI

/// The cgroup v2 device controller (an eBPF program) on the real kernel: attached to a cgroup2
/// directory this test creates under the host's unified mount, then exercised by a shell moved
/// into it.
@Suite("cgroup v2 eBPF device filter")
struct DeviceFilterTests {
    @Test func programEnforcesTheRuleList() throws {
        try #require(getuid() == 0)
        let layout = try CgroupLayout.current()
        let unified = try #require(layout.unified, "no cgroup2 mount on this host").mountPoint
        let dir = unified + "/swrunc-test-bpf-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        defer { rmdir(dir) }
        let rules = [
            DeviceRule(allow: false, type: "a", major: nil, minor: nil, access: "rwm"),
            DeviceRule(allow: true, type: "c", major: 1, minor: 3, access: "rwm"),   // null
            DeviceRule(allow: true, type: "c", major: 1, minor: 5, access: "r"),     // zero, read only
            DeviceRule(allow: true, type: "c", major: 1, minor: 7, access: "rwm"),   // full …
            DeviceRule(allow: false, type: "c", major: 1, minor: 7, access: "w"),    // … but not writing (last rule wins)
        ]
        try DeviceFilter.attach(rules, to: dir)
        let script = """
        echo $$ > \(dir)/cgroup.procs; \
        (echo x > /dev/null) 2>/dev/null && echo null-write-ok; \
        (head -c1 /dev/zero > /dev/null) 2>/dev/null && echo zero-read-ok; \
        (echo x > /dev/zero) 2>/dev/null || echo zero-write-denied; \
        (head -c1 /dev/full > /dev/null) 2>/dev/null && echo full-read-ok; \
        (echo x > /dev/full) 2>&1 | grep -q 'not permitted' && echo full-write-denied; \
        (head -c1 /dev/urandom > /dev/null) 2>/dev/null || echo urandom-denied
        """
        let r = Swrunc.exec(["/bin/busybox", "sh", "-c", script])
        #expect(r.stdout == "null-write-ok\nzero-read-ok\nzero-write-denied\nfull-read-ok\nfull-write-denied\nurandom-denied\n",
                "\(r.stdout) \(r.stderr)")
    }

    @Test func noRulesMeansAllowAllAndTheProgramLoads() throws {
        let p = DeviceFilter.program([])
        #expect(p.count == 8, "prologue plus the default allow")
        let effective = DeviceRule.effective([DeviceCgroupRule(allow: false, access: "rwm")])
        #expect(effective.first == DeviceRule(allow: false, type: "a", major: nil, minor: nil, access: "rwm"))
        #expect(effective.contains(DeviceRule(allow: true, type: "c", major: 136, minor: nil, access: "rwm")))
    }
}
