import Foundation
import Testing
import OCI

/// What the host's root must do before a container's user namespace takes its privileges away
/// (runc's order): reach bind-mount sources the container's root cannot, and join namespaces
/// that the container's user namespace does not own.
@Suite("user namespace ordering: host-only mount sources, joins before the user namespace")
struct UserNamespaceOrderTests {
    static func addUserNamespace(_ b: TestBundle, host: UInt32 = 100000) throws {
        b.spec.linux?.namespaces?.append(Namespace(type: "user"))
        b.spec.linux?.uidMappings = [IDMapping(containerID: 0, hostID: host, size: 65536)]
        b.spec.linux?.gidMappings = [IDMapping(containerID: 0, hostID: host, size: 65536)]
        try chownTree(b.rootfs, uid: uid_t(host), gid: gid_t(host))
    }

    /// Two sources under 0700 directories of the host's root: the container's root (uid 100000
    /// on the host) cannot even look them up, yet both are mounted, with their content.
    @Test func bindSourcesOutOfTheContainerRootsReach() throws {
        let b = try TestBundle(args: ["sh", "-c", "cat /m1/f /m2/f; stat -c %u /m1/f"])
        defer { b.cleanup() }
        try Self.addUserNamespace(b)
        for n in ["1", "2"] {
            let r = Swrunc.sh("set -e; cd '\(b.dir)'; mkdir -p locked\(n)/dir; echo one\(n) > locked\(n)/dir/f; chmod 700 locked\(n)")
            try #require(r.ok, "\(r.stderr)")
            b.spec.mounts?.append(Mount(destination: "/m\(n)", type: "bind", source: "locked\(n)/dir", options: ["bind", "ro"]))
        }
        let r = try b.run()
        #expect(r.ok, "\(r.stderr)")
        #expect(r.stdout == "one1\none2\n65534\n", "\(r.stdout)")
        // The read-only flag still applies to a mount the parent made.
        b.spec.process?.args = ["sh", "-c", "echo x > /m1/f"]
        let w = try b.run()
        #expect(!w.ok && w.stderr.contains("Read-only"), "\(w.stderr)")
    }

    /// Time namespace offsets in a user namespace: written by the parent (the non-dumpable
    /// child cannot open its own timens_offsets there).
    @Test func timeOffsetsInAUserNamespace() throws {
        let b = try TestBundle(args: ["cat", "/proc/self/timens_offsets"])
        defer { b.cleanup() }
        try Self.addUserNamespace(b)
        b.spec.linux?.namespaces?.append(Namespace(type: "time"))
        b.spec.linux?.timeOffsets = ["monotonic": TimeOffset(secs: 7881, nanosecs: 2718281),
                                     "boottime": TimeOffset(secs: 1337, nanosecs: 3141519)]
        let r = try b.run()
        #expect(r.ok, "\(r.stderr)")
        #expect(r.stdout.contains("7881") && r.stdout.contains("2718281") && r.stdout.contains("1337"), "\(r.stdout)")
    }

    /// A container that joins another's user namespace and a network namespace that user
    /// namespace does not own: the network namespace is joined first, with the host's rights.
    @Test func joinsANetworkNamespaceItsUserNamespaceDoesNotOwn() throws {
        let owner = try TestBundle(args: ["sleep", "60"])
        defer { owner.cleanup() }
        try Self.addUserNamespace(owner, host: 300000)
        let started = try owner.run("-d")
        try #require(started.ok, "\(started.stderr)")
        let pid = try #require(try owner.state()["pid"] as? Int)

        let netns = owner.dir + "-netns"
        try #require(Swrunc.sh("touch '\(netns)' && unshare -n mount --bind /proc/self/ns/net '\(netns)'").ok)
        defer { _ = Swrunc.sh("umount '\(netns)'; rm -f '\(netns)'") }

        let b = try TestBundle(args: ["sh", "-c", "readlink /proc/self/ns/net; readlink /proc/self/ns/user"])
        defer { b.cleanup() }
        try chownTree(b.rootfs, uid: 300000, gid: 300000)
        b.spec.linux?.namespaces?.removeAll { $0.type == "network" }
        b.spec.linux?.namespaces? += [Namespace(type: "user", path: "/proc/\(pid)/ns/user"),
                                      Namespace(type: "network", path: netns)]
        // sysfs belongs to the network namespace's owner: not mountable from this user namespace.
        b.spec.mounts?.removeAll { $0.type == "sysfs" }
        let r = try b.run()
        #expect(r.ok, "\(r.stderr)")
        let inode = Swrunc.sh("stat -L -c %i '\(netns)'").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let user = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/user")) ?? "?"
        #expect(r.stdout == "net:[\(inode)]\n\(user)\n", "\(r.stdout)")
    }
}
