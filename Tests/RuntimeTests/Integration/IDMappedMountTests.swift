import Foundation
import Testing
import OCI

/// runtime-spec 1.2 id-mapped bind mounts: the ids a container sees through a mount with
/// `uidMappings`/`gidMappings`, `idmap` (top mount only) and `ridmap` (submounts too), with and
/// without a user namespace of the container's, and what is refused.
@Suite(.serialized) struct IDMappedMountTests {
    /// A source tree in the bundle: top/foo owned 0:0, top/owned 100:211, and a submount
    /// top/sub (a host bind mount of sub) holding bar owned 101:222. Unmounted by `cleanup`.
    final class Tree {
        let bundle: TestBundle
        var top: String { bundle.dir + "/top" }
        init(_ bundle: TestBundle) throws {
            self.bundle = bundle
            let r = Swrunc.sh("""
                set -e; cd '\(bundle.dir)'; mkdir -p top/sub sub; touch top/foo top/owned sub/bar
                chown 100:211 top/owned; chown 101:222 sub/bar; mount --bind sub top/sub
                """)
            try #require(r.ok, "\(r.stderr)")
        }
        func cleanup() {
            _ = Swrunc.sh("umount -l '\(top)/sub' 2>/dev/null")
            bundle.cleanup()
        }
    }

    static func map(_ c: UInt32, _ h: UInt32, _ n: UInt32) -> [IDMapping] { [IDMapping(containerID: c, hostID: h, size: n)] }

    static func mount(_ dest: String, _ options: [String], uid: [IDMapping]? = nil, gid: [IDMapping]? = nil) -> OCI.Mount {
        var m = OCI.Mount(destination: dest, type: "bind", source: "top", options: options)
        m.uidMappings = uid
        m.gidMappings = gid
        return m
    }

    static func addUserNamespace(_ b: TestBundle) throws {
        b.spec.linux?.namespaces?.append(Namespace(type: "user"))
        b.spec.linux?.uidMappings = map(0, 100000, 65536)
        b.spec.linux?.gidMappings = map(0, 100000, 65536)
        try chownTree(b.rootfs, uid: 100000, gid: 100000)
    }

    static let statAll = "stat -c %n=%u:%g /m/foo /m/owned /m/sub/bar /r/foo /r/owned /r/sub/bar"

    /// No user namespace: disk id k shows as its mapped host id; `idmap`-less mappings and
    /// `rbind` map the top mount only, `ridmap` the submount too.
    @Test func mappingsWithoutAUserNamespace() throws {
        let b = try TestBundle(args: ["sh", "-c", Self.statAll])
        let tree = try Tree(b)
        defer { tree.cleanup() }
        let maps = (Self.map(0, 100000, 65536), Self.map(0, 200000, 65536))
        b.spec.mounts? += [Self.mount("/m", ["rbind"], uid: maps.0, gid: maps.1),
                           Self.mount("/r", ["rbind", "ridmap"], uid: maps.0, gid: maps.1)]
        let r = try b.run()
        #expect(r.ok, "\(r.stderr)")
        let want = ["/m/foo=100000:200000", "/m/owned=100100:200211", "/m/sub/bar=101:222",
                    "/r/foo=100000:200000", "/r/owned=100100:200211", "/r/sub/bar=100101:200222"]
        #expect(r.stdout.split(separator: "\n").map(String.init) == want, "\(r.stdout)")
    }

    /// Root of the container is host root here, and host root is not mapped on the mount: the
    /// kernel refuses to create a file it could not record an owner for (EOVERFLOW).
    @Test func writingAsAnUnmappedUserFails() throws {
        let b = try TestBundle(args: ["touch", "/m/new"])
        let tree = try Tree(b)
        defer { tree.cleanup() }
        b.spec.mounts?.append(Self.mount("/m", ["bind"], uid: Self.map(0, 100000, 65536), gid: Self.map(0, 100000, 65536)))
        let r = try b.run()
        #expect(!r.ok)
        #expect(r.stderr.contains("Value too large"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: tree.top + "/new"))
    }

    /// With a user namespace and `idmap`/`ridmap` alone, the container's own mappings are used:
    /// it sees the disk's ids as they are and its files land on disk with its own ids.
    @Test func impliedMappingsComeFromTheContainersUserNamespace() throws {
        let b = try TestBundle(args: ["sh", "-c", Self.statAll + "; touch /m/made; id -u"])
        let tree = try Tree(b)
        defer { tree.cleanup() }
        try Self.addUserNamespace(b)
        b.spec.mounts? += [Self.mount("/m", ["rbind", "idmap"]), Self.mount("/r", ["rbind", "ridmap"])]
        let r = try b.run()
        #expect(r.ok, "\(r.stderr)")
        let overflow = (try? String(contentsOfFile: "/proc/sys/kernel/overflowuid", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "65534"
        let want = ["/m/foo=0:0", "/m/owned=100:211", "/m/sub/bar=\(overflow):\(overflow)",
                    "/r/foo=0:0", "/r/owned=100:211", "/r/sub/bar=101:222", "0"]
        #expect(r.stdout.split(separator: "\n").map(String.init) == want, "\(r.stdout)")
        let attrs = try FileManager.default.attributesOfItem(atPath: tree.top + "/made")
        #expect((attrs[.ownerAccountID] as? NSNumber)?.intValue == 0, "container root's file is 0 on disk")
    }

    /// A mount's own mappings apply over the container's: several ranges, uid and gid apart,
    /// the same source twice with different mappings, and a relative destination.
    @Test func ownMappingsInAUserNamespace() throws {
        let b = try TestBundle(args: ["sh", "-c", "stat -c %n=%u:%g /m/foo /m/owned /x/foo /x/owned"])
        let tree = try Tree(b)
        defer { tree.cleanup() }
        try Self.addUserNamespace(b)
        let uid = [IDMapping(containerID: 0, hostID: 101000, size: 1), IDMapping(containerID: 100, hostID: 102000, size: 1)]
        let gid = [IDMapping(containerID: 0, hostID: 103000, size: 1), IDMapping(containerID: 211, hostID: 104000, size: 1)]
        b.spec.mounts? += [Self.mount("/m", ["bind"], uid: uid, gid: gid),
                           Self.mount("x", ["bind"], uid: Self.map(0, 100500, 1000), gid: Self.map(100, 100700, 1000))]
        let r = try b.run()
        #expect(r.ok, "\(r.stderr)")
        let overflow = "65534"
        let want = ["/m/foo=1000:3000", "/m/owned=2000:4000", "/x/foo=500:\(overflow)", "/x/owned=600:811"]
        #expect(r.stdout.split(separator: "\n").map(String.init) == want, "\(r.stdout)")
    }

    /// Every tree the parent hands over is closed once attached: twenty id-mapped mounts leave
    /// the process with stdio and the fd `ls` opens, and no helper process behind.
    @Test func mountSourceFDsAreClosed() throws {
        let b = try TestBundle(args: ["ls", "/proc/self/fd"])
        let tree = try Tree(b)
        defer { tree.cleanup() }
        for i in 0..<20 {
            b.spec.mounts?.append(Self.mount("/m\(i)", ["bind"], uid: Self.map(0, 100000, 65536), gid: Self.map(0, 100000, 65536)))
        }
        b.spec.process?.rlimits = [Rlimit(type: "RLIMIT_NOFILE", hard: 20, soft: 20)]
        let r = try b.run()
        #expect(r.ok, "\(r.stderr)")
        #expect(r.stdout.split(separator: "\n") == ["0", "1", "2", "3"], "\(r.stdout)")
    }

    /// Refused before anything is made, with the field: not a bind mount, one list without the
    /// other, no mappings and no user namespace to take them from.
    @Test func badIDMappedMountsAreRefused() throws {
        let cases: [(OCI.Mount, String)] = [
            (OCI.Mount(destination: "/m", type: "tmpfs", source: "tmpfs", options: ["idmap"]),
             "options: id-mapped mounts are only supported for bind mounts"),
            (Self.mount("/m", ["bind"], uid: Self.map(0, 100000, 1)), "gidMappings: an id-mapped mount needs both"),
            (Self.mount("/m", ["bind", "ridmap"]), "uidMappings: an id-mapped mount without mappings"),
        ]
        for (mount, message) in cases {
            let b = try TestBundle(args: ["true"])
            defer { b.cleanup() }
            b.spec.mounts?.append(mount)
            let r = try b.create()
            let index = (b.spec.mounts?.count ?? 0) - 1
            #expect(r.status == 1 && r.stderr.contains("mounts[\(index)].\(message)"), "\(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: b.swrunc.root + "/" + b.id))
        }
    }

    @Test func featuresReportIDMappedMounts() throws {
        let r = Swrunc(root: "/tmp/unused")("features")
        #expect(r.ok)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let linux = json["linux"] as? [String: Any]
        let ext = linux?["mountExtensions"] as? [String: Any]
        #expect((ext?["idmap"] as? [String: Any])?["enabled"] as? Bool == true)
        #expect((json["mountOptions"] as? [String])?.contains("ridmap") == true)
    }
}
