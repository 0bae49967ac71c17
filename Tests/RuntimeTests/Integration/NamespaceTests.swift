import Foundation
import Testing
import OCI

@Suite("namespaces: new, joined by path, user with mappings, time offsets, hostname")
struct NamespaceTests {
    func hostNamespace(_ name: String) -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/\(name)")) ?? "?"
    }

    @Test func everyRequestedNamespaceIsNew() throws {
        let b = try TestBundle(args: ["sh", "-c", "for n in pid net ipc uts mnt cgroup; do echo $n=$(readlink /proc/self/ns/$n); done; echo pid1=$$"])
        b.spec.linux?.namespaces?.append(Namespace(type: "cgroup"))
        let r = try b.run()
        #expect(r.ok, "\(r.stderr)")
        for name in ["pid", "net", "ipc", "uts", "mnt", "cgroup"] {
            #expect(r.stdout.contains("\(name)=") && !r.stdout.contains("\(name)=\(hostNamespace(name))"), "\(name) is shared with the host")
        }
        #expect(r.stdout.contains("pid1=1"))
    }

    @Test func hostnameAndDomainname() throws {
        let b = try TestBundle(args: ["sh", "-c", "hostname; cat /proc/sys/kernel/domainname"])
        b.spec.hostname = "box-one"
        b.spec.domainname = "example.test"
        let r = try b.run()
        #expect(r.stdout == "box-one\nexample.test\n", "\(r.stderr)")
    }

    @Test func networkNamespaceHasOnlyLoopback() throws {
        let b = try TestBundle(args: ["sh", "-c", "ls /sys/class/net"])
        let r = try b.run()
        #expect(r.stdout == "lo\n", "\(r.stderr)")
    }

    @Test func joiningANamespaceByPath() throws {
        let a = try TestBundle(args: ["sleep", "60"])
        a.spec.hostname = "holder"
        #expect(try a.run("-d").ok)
        let pid = try #require(try a.state()["pid"] as? Int)
        let b = try TestBundle(args: ["sh", "-c", "hostname; readlink /proc/self/ns/net"])
        b.spec.hostname = nil
        let current = b.spec.linux?.namespaces ?? []
        b.spec.linux?.namespaces = current.map { ns in
            switch ns.type {
            case "uts": return Namespace(type: "uts", path: "/proc/\(pid)/ns/uts")
            case "network": return Namespace(type: "network", path: "/proc/\(pid)/ns/net")
            default: return ns
            }
        }
        let r = try b.run()
        #expect(r.ok, "\(r.stderr)")
        let netA = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/net")
        #expect(r.stdout == "holder\n\(netA)\n")
    }

    @Test func joiningAPidNamespaceByPath() throws {
        let a = try TestBundle(args: ["sleep", "60"])
        #expect(try a.run("-d").ok)
        let pid = try #require(try a.state()["pid"] as? Int)
        let b = try TestBundle(args: ["sh", "-c", "echo $$; ls /proc | grep -c '^[0-9]'"])
        let current = b.spec.linux?.namespaces ?? []
        b.spec.linux?.namespaces = current.map { ns in
            ns.type == "pid" ? Namespace(type: "pid", path: "/proc/\(pid)/ns/pid") : ns
        }
        let r = try b.run()
        #expect(r.ok, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.first != "1", "the joined namespace already has an init")
    }

    @Test func userNamespaceWithMappings() throws {
        let b = try TestBundle(args: ["sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; id -u; touch /tmp/owned; stat -c %u:%g /tmp/owned"])
        b.spec.linux?.namespaces?.append(Namespace(type: "user"))
        b.spec.linux?.uidMappings = [IDMapping(containerID: 0, hostID: 100000, size: 65536)]
        b.spec.linux?.gidMappings = [IDMapping(containerID: 0, hostID: 100000, size: 65536)]
        // The unprivileged container root must be able to use its rootfs.
        try chownTree(b.rootfs, uid: 100000, gid: 100000)
        let r = try b.run()
        #expect(r.ok, "\(r.stderr)")
        let words = r.stdout.split(whereSeparator: { $0 == " " || $0 == "\n" })
        #expect(Array(words.prefix(6)) == ["0", "100000", "65536", "0", "100000", "65536"])
        #expect(r.stdout.contains("\n0\n"))
        let attrs = try FileManager.default.attributesOfItem(atPath: b.rootfs + "/tmp/owned")
        #expect((attrs[.ownerAccountID] as? NSNumber)?.intValue == 100000)
    }

    @Test func userNamespaceDevicesAreBindMounted() throws {
        let b = try TestBundle(args: ["sh", "-c", "echo hi > /dev/null && head -c 4 /dev/zero | wc -c"])
        b.spec.linux?.namespaces?.append(Namespace(type: "user"))
        b.spec.linux?.uidMappings = [IDMapping(containerID: 0, hostID: 200000, size: 65536)]
        b.spec.linux?.gidMappings = [IDMapping(containerID: 0, hostID: 200000, size: 65536)]
        try chownTree(b.rootfs, uid: 200000, gid: 200000)
        let r = try b.run()
        #expect(r.ok, "\(r.stderr)")
        #expect(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "4")
    }

    /// A new network namespace has lo up (runc's behaviour): 127.0.0.1 answers in a container
    /// with no other interface.
    @Test func newNetworkNamespaceHasLoopbackUp() throws {
        let b = try TestBundle(args: ["sh", "-c", "ip -o link show lo; ip -o -4 addr show lo"])
        defer { b.cleanup() }
        let r = try b.run()
        #expect(r.ok, "\(r.stderr)")
        #expect(r.stdout.contains(",UP") && r.stdout.contains("127.0.0.1/8"), "\(r.stdout)")
    }

    @Test func timeNamespaceOffsets() throws {
        let b = try TestBundle(args: ["sh", "-c", "cat /proc/self/timens_offsets; cut -d. -f1 /proc/uptime"])
        b.spec.linux?.namespaces?.append(Namespace(type: "time"))
        b.spec.linux?.timeOffsets = ["boottime": TimeOffset(secs: 86400 * 365, nanosecs: 0),
                                     "monotonic": TimeOffset(secs: 1000, nanosecs: 0)]
        let r = try b.run()
        #expect(r.ok, "\(r.stderr)")
        #expect(r.stdout.contains("monotonic") && r.stdout.contains("1000"))
        let uptime = Int(r.stdout.split(separator: "\n").last ?? "") ?? 0
        #expect(uptime >= 86400 * 365)
    }
}

func chownTree(_ path: String, uid: uid_t, gid: gid_t) throws {
    lchown(path, uid, gid)
    let e = FileManager.default.enumerator(atPath: path)
    while let item = e?.nextObject() as? String {
        lchown(path + "/" + item, uid, gid)
    }
}
