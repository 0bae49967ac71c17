import JSON
import OCI
import Testing
@testable import Runtime

/// state.json and intent.json, read and written without Codable: files in the shape earlier
/// versions wrote read the same, a round trip keeps every member, and a damaged file names the
/// member that is wrong.
@Suite("state records read and written member by member")
struct StateRecordTests {
    /// A state file as the Codable form of the record wrote it (hooks and a host rootfs mount included).
    static let earlier = #"""
        {"id":"c1","bundle":"/b","rootfs":"/b/rootfs","pid":15442,"pidStartTime":3635660,"created":"2026-12-05T13:58:14Z",
         "owner":"","annotations":{"a":"1"},"cgroupPaths":{"memory":"/sys/fs/cgroup/memory/c1","":"/sys/fs/cgroup/unified/c1"},
         "hooks":{"prestart":[{"path":"/bin/true","args":["true","x"],"timeout":5}],"poststop":[{"path":"/bin/echo","env":["A=B"]}]},
         "namespacePaths":{"pid":"/proc/15442/ns/pid"},"rootless":true,"ownedCgroups":["/sys/fs/cgroup/memory/c1"],
         "pidNamespace":4026532177,"hasProcess":false,"hostRootfsMount":{"rootfs":"/b/rootfs","mountIDBelow":42}}
        """#

    @Test func readsWhatEarlierVersionsWrote() throws {
        let r = try ContainerRecord(json: JSONObjectReader(JSONParser.parse(Array(Self.earlier.utf8))))
        #expect(r.id == "c1" && r.pid == 15442 && r.pidStartTime == 3635660 && r.annotations == ["a": "1"])
        #expect(r.cgroupPaths[""] == "/sys/fs/cgroup/unified/c1" && r.ownedCgroups == ["/sys/fs/cgroup/memory/c1"])
        #expect(r.hooks?.prestart == [Hook(path: "/bin/true", args: ["true", "x"], timeout: 5)])
        #expect(r.hooks?.poststop == [Hook(path: "/bin/echo", env: ["A=B"])] && r.hooks?.startContainer == nil)
        #expect(r.rootless == true && r.hasProcess == false && r.pidNamespace == 4026532177)
        #expect(r.hostRootfsMount?.rootfs == "/b/rootfs" && r.hostRootfsMount?.mountIDBelow == 42 && r.config == nil)
        // Written again and read back: the same record.
        let again = try ContainerRecord(json: JSONObjectReader(JSONParser.parse(Array(r.json.serialized().utf8))))
        #expect(again.json == r.json)
    }

    @Test func aDamagedFileNamesTheMember() throws {
        let missing = Self.earlier.replacing(#""rootfs":"/b/rootfs","pid""#, with: #""pid""#)
        #expect { try ContainerRecord(json: JSONObjectReader(JSONParser.parse(Array(missing.utf8)))) } throws: {
            ($0 as? JSONError)?.description == "rootfs: required field is missing"
        }
        let wrong = Self.earlier.replacing(#""args":["true","x"]"#, with: #""args":["true",7]"#)
        #expect { try ContainerRecord(json: JSONObjectReader(JSONParser.parse(Array(wrong.utf8)))) } throws: {
            ($0 as? JSONError)?.description == "hooks.prestart[0].args[1]: expected a string, got 7"
        }
    }

    @Test func intentRoundTrip() throws {
        let intent = CreateIntent(cgroupPaths: ["pids": "/sys/fs/cgroup/pids/x"], ownedCgroups: ["/sys/fs/cgroup/pids/x"],
                                  hostRootfsMount: HostRootfsMount(rootfs: "/r", mountIDBelow: nil))
        let back = try CreateIntent(json: JSONObjectReader(JSONParser.parse(Array(intent.json.serialized().utf8))))
        #expect(back.cgroupPaths == intent.cgroupPaths && back.ownedCgroups == intent.ownedCgroups
                && back.hostRootfsMount?.rootfs == "/r" && back.hostRootfsMount?.mountIDBelow == nil)
    }
}
