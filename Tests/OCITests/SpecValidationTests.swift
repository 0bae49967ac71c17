import Foundation
import Testing
@testable import OCI

@Suite("config.json decoding and validation report JSON paths")
struct SpecValidationTests {
    func error(_ mutate: (inout Spec) -> Void) -> String? {
        var spec = Spec.defaultSpec()
        mutate(&spec)
        do { try spec.validate(); return nil } catch { return error.description }
    }

    func decodeError(_ json: String) -> String? {
        do { _ = try Spec.load(Array(json.utf8)); return nil } catch { return error.description }
    }

    @Test func defaultSpecIsValidAndRoundTrips() throws {
        let spec = Spec.defaultSpec()
        #expect(error { _ in } == nil)
        let data = try JSONEncoder().encode(spec)
        #expect(try Spec.load(Array(data)) == spec)
    }

    @Test func unknownNamespaceType() {
        #expect(error { $0.linux?.namespaces?.append(Namespace(type: "foo")) }
                == "linux.namespaces[5].type: unknown namespace type \"foo\"")
    }

    @Test func duplicateNamespace() {
        #expect(error { $0.linux?.namespaces?.append(Namespace(type: "pid")) }
                == "linux.namespaces[5].type: duplicate namespace type \"pid\"")
    }

    @Test func userNamespaceNeedsMappingsAndMappingsNeedUserNamespace() {
        #expect(error { $0.linux?.namespaces?.append(Namespace(type: "user")) }?.hasPrefix("linux.uidMappings") == true)
        #expect(error { $0.linux?.uidMappings = [IDMapping(containerID: 0, hostID: 1000, size: 1)] }
                == "linux.uidMappings: set, but no user namespace is configured")
    }

    @Test func processFields() {
        #expect(error { $0.process?.args = [] } == "process.args: must contain at least one argument")
        #expect(error { $0.process?.cwd = "relative" } == "process.cwd: must be an absolute path, got \"relative\"")
        #expect(error { $0.process?.rlimits = [Rlimit(type: "RLIMIT_BOGUS", hard: 1, soft: 1)] }
                == "process.rlimits[0].type: unknown rlimit \"RLIMIT_BOGUS\"")
        #expect(error { $0.process?.rlimits = [Rlimit(type: "RLIMIT_NOFILE", hard: 1, soft: 2)] }
                == "process.rlimits[0]: soft limit 2 exceeds hard limit 1")
        #expect(error { $0.process?.env = ["NOEQUALS"] } == "process.env[0]: expected KEY=VALUE, got \"NOEQUALS\"")
        #expect(error { $0.process?.oomScoreAdj = 2000 }?.hasPrefix("process.oomScoreAdj") == true)
    }

    @Test func hooksDevicesSysctlsAndRoot() {
        #expect(error { $0.hooks = Hooks(poststop: [Hook(path: "rel")]) }
                == "hooks.poststop[0].path: must be an absolute path, got \"rel\"")
        #expect(error { $0.hooks = Hooks(prestart: [Hook(path: "/bin/true", timeout: 0)]) }
                == "hooks.prestart[0].timeout: must be greater than zero, got 0")
        #expect(error { $0.linux?.devices = [Device(type: "x", path: "/dev/x")] }
                == "linux.devices[0].type: unknown device type \"x\"")
        #expect(error { $0.linux?.devices = [Device(type: "c", path: "/dev/x")] }
                == "linux.devices[0]: device type \"c\" needs major and minor numbers")
        #expect(error { $0.linux?.sysctl = ["kernel.panic": "1"] }
                == "linux.sysctl.kernel.panic: sysctl is not namespaced and cannot be set in a container")
        #expect(error { $0.linux?.namespaces?.removeAll { $0.type == "network" }; $0.linux?.sysctl = ["net.ipv4.ip_forward": "1"] }
                == "linux.sysctl.net.ipv4.ip_forward: requires a network namespace")
        #expect(error { $0.root = nil } == "root.path: required field is missing")
        #expect(error { $0.ociVersion = "2.0.0" } == "ociVersion: unsupported version \"2.0.0\" (want 1.x)")
        #expect(error { $0.linux?.rootfsPropagation = "sideways" } == "linux.rootfsPropagation: unknown propagation \"sideways\"")
    }

    @Test func decodingErrorsNameTheField() {
        #expect(decodeError("{")?.hasPrefix("invalid JSON") == true)
        #expect(decodeError(#"{"ociVersion":"1.0.0","root":{"path":"r"},"process":{"user":{"uid":"root","gid":0},"cwd":"/","args":["x"]}}"#)
                == "process.user.uid: expected a non-negative integer, got \"root\"")
        #expect(decodeError(#"{"ociVersion":"1.0.0","root":{"path":"r"},"process":{"user":{"uid":0,"gid":0},"args":["x"]}}"#)
                == "process.cwd: required field is missing")
        #expect(decodeError(#"{"ociVersion":"1.0.0","root":{"path":"r"},"process":{"user":{"uid":0,"gid":0},"cwd":"/","args":["x"]},"linux":{"namespaces":[{"type":"pid"},{"type":7}]}}"#)
                == "linux.namespaces[1].type: expected a string, got 7")
    }

    /// runc reads a missing `process.user`, or a missing uid/gid in it, as root; exec process
    /// documents written by hand or by shims often leave them out.
    /// An empty namespace path asks for a new namespace, as runc reads it.
    @Test func anEmptyNamespacePathMeansNew() {
        #expect(error { $0.linux?.namespaces?.removeAll { $0.type == "mount" }; $0.linux?.namespaces?.append(Namespace(type: "mount", path: "")) } == nil)
        #expect(error { $0.linux?.namespaces = [Namespace(type: "mount", path: "rel")] }?.contains("must be an absolute path") == true)
    }

    /// Go's case-blind decoder lets runc configs spell `pagesize`; both spellings read the same.
    @Test func hugepageLimitsTakeRuncsSpelling() throws {
        let json = #"{"ociVersion":"1.0.0","root":{"path":"r"},"linux":{"resources":{"hugepageLimits":[{"pagesize":"2MB","limit":4096},{"pageSize":"1GB","limit":0}]}}}"#
        let spec = try Spec.load(Array(json.utf8))
        #expect(spec.linux?.resources?.hugepageLimits?.map(\.pageSize) == ["2MB", "1GB"])
        #expect(decodeError(#"{"ociVersion":"1.0.0","root":{"path":"r"},"linux":{"resources":{"hugepageLimits":[{"limit":1}]}}}"#)?
            .contains("pageSize: required field is missing") == true)
    }

    @Test func aMissingUserIsRoot() throws {
        let spec = try Spec.load(Array(#"{"ociVersion":"1.0.0","root":{"path":"r"},"process":{"cwd":"/","args":["x"]}}"#.utf8))
        #expect(spec.process?.user.uid == 0 && spec.process?.user.gid == 0)
        let process = try Process.load(Array(#"{"cwd":"/","args":["x"],"user":{"additionalGids":[5]}}"#.utf8))
        #expect(process.user.uid == 0 && process.user.gid == 0 && process.user.additionalGids == [5])
    }

    @Test func unknownFieldsAndAnnotationsAreAccepted() throws {
        let json = #"{"ociVersion":"1.2.0","root":{"path":"r"},"futureField":{"x":1},"annotations":{"a.b":"c"},"process":{"user":{"uid":0,"gid":0},"cwd":"/","args":["x"],"newThing":true}}"#
        let spec = try Spec.load(Array(json.utf8))
        #expect(spec.annotations == ["a.b": "c"])
    }
}
