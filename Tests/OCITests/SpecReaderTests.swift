import Testing
@testable import JSON
@testable import OCI

/// config.json is read member by member (Spec+JSON.swift); Codable stays beside it. Both must
/// agree on every document: the same Spec, or the same first error with the same words.
@Suite("config.json read member by member agrees with the Codable decoder")
struct SpecReaderTests {
    /// Every field of the spec the runtime knows, each with a valid value.
    static let full = #"""
    {"ociVersion": "1.2.0",
     "process": {"terminal": false, "consoleSize": {"height": 24, "width": 80},
       "user": {"uid": 1, "gid": 2, "umask": 18, "additionalGids": [5, 6], "username": "u"},
       "args": ["sh", "-c", "true"], "commandLine": "sh", "env": ["PATH=/bin"], "cwd": "/",
       "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "inheritable": [], "permitted": ["CAP_KILL"], "ambient": []},
       "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 512}],
       "noNewPrivileges": true, "apparmorProfile": "p", "oomScoreAdj": -5, "selinuxLabel": "l",
       "ioPriority": {"class": "IOPRIO_CLASS_BE", "priority": 4},
       "scheduler": {"policy": "SCHED_OTHER", "nice": 1, "priority": 0, "flags": ["SCHED_FLAG_RESET_ON_FORK"], "runtime": 1, "deadline": 2, "period": 3},
       "execCPUAffinity": {"initial": "0", "final": "0-1"}},
     "root": {"path": "rootfs", "readonly": true},
     "hostname": "h", "domainname": "d",
     "mounts": [{"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid"],
                 "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}], "gidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}]}],
     "hooks": {"prestart": [{"path": "/bin/true", "args": ["true"], "env": ["A=1"], "timeout": 5}], "createRuntime": [], "createContainer": [],
               "startContainer": [], "poststart": [], "poststop": [{"path": "/bin/true"}]},
     "annotations": {"a": "b"},
     "linux": {"uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}], "gidMappings": [],
       "timeOffsets": {"monotonic": {"secs": 1, "nanosecs": 2}}, "sysctl": {"net.ipv4.ip_forward": "1"},
       "resources": {"devices": [{"allow": false, "type": "c", "major": 1, "minor": 3, "access": "rwm"}],
         "memory": {"limit": 1, "reservation": 2, "swap": 3, "kernel": 4, "kernelTCP": 5, "swappiness": 6, "disableOOMKiller": true, "useHierarchy": true, "checkBeforeUpdate": false},
         "cpu": {"shares": 1, "quota": 2, "burst": 3, "period": 4, "realtimeRuntime": 5, "realtimePeriod": 6, "cpus": "0", "mems": "0", "idle": 0},
         "pids": {"limit": 10},
         "blockIO": {"weight": 10, "leafWeight": 10, "weightDevice": [{"major": 8, "minor": 0, "weight": 5, "leafWeight": 5}],
           "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1}], "throttleWriteBpsDevice": [], "throttleReadIOPSDevice": [], "throttleWriteIOPSDevice": []},
         "hugepageLimits": [{"pageSize": "2MB", "limit": 0}, {"pagesize": "1GB", "limit": 1}],
         "network": {"classID": 1, "priorities": [{"name": "eth0", "priority": 1}]},
         "rdma": {"mlx": {"hcaHandles": 1, "hcaObjects": 2}}, "unified": {"memory.high": "max"}},
       "cgroupsPath": "/x", "namespaces": [{"type": "pid"}, {"type": "network", "path": "/proc/1/ns/net"}],
       "devices": [{"type": "c", "path": "/dev/fuse", "major": 10, "minor": 229, "fileMode": 438, "uid": 0, "gid": 0}],
       "seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "defaultErrnoRet": 1, "architectures": ["SCMP_ARCH_X86_64"], "flags": [],
         "listenerPath": "/l", "listenerMetadata": "m",
         "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1, "args": [{"index": 0, "value": 1, "valueTwo": 2, "op": "SCMP_CMP_EQ"}]}]},
       "rootfsPropagation": "rprivate", "maskedPaths": ["/proc/kcore"], "readonlyPaths": ["/proc/sys"], "mountLabel": "m",
       "intelRdt": {"closID": "c", "l3CacheSchema": "L3:0=f", "memBwSchema": "MB:0=100"},
       "personality": {"domain": "LINUX", "flags": []}, "memoryPolicy": {"mode": "MPOL_BIND", "nodes": "0", "flags": []}}}
    """#

    static func outcome(_ value: JSONValue) -> (codable: String, reader: String) {
        var a: String
        var b: String
        do { a = "ok \(try JSONValueDecoder().decode(Spec.self, from: value))" } catch { a = "error \(error)" }
        do { b = "ok \(try Spec(json: JSONObjectReader(value)))" } catch { b = "error \(error)" }
        return (a, b)
    }

    enum Step { case key(String), index(Int) }

    /// Every place in the document, parents before children.
    static func places(_ value: JSONValue, _ prefix: [Step] = []) -> [[Step]] {
        switch value {
        case .object(let o):
            return zip(o.keys, o.values).flatMap { k, v in [prefix + [.key(k)]] + places(v, prefix + [.key(k)]) }
        case .array(let items):
            return items.enumerated().flatMap { i, v in [prefix + [.index(i)]] + places(v, prefix + [.index(i)]) }
        default:
            return []
        }
    }

    /// The document with the value at `place` replaced (nil: the member removed).
    static func replacing(_ value: JSONValue, at place: ArraySlice<Step>, with new: JSONValue?) -> JSONValue {
        guard let step = place.first else { return new ?? .null }
        switch (value, step) {
        case (.object(let o), .key(let k)):
            var out = JSONObject()
            for (key, v) in zip(o.keys, o.values) {
                if key != k { out.set(key, v); continue }
                if place.count == 1 && new == nil { continue }
                out.set(key, replacing(v, at: place.dropFirst(), with: new))
            }
            return .object(out)
        case (.array(var items), .index(let i)):
            items[i] = replacing(items[i], at: place.dropFirst(), with: new ?? .null)
            return .array(items)
        default:
            return value
        }
    }

    @Test func aFullConfigReadsTheSame() throws {
        let value = try JSONParser.parse(Array(Self.full.utf8))
        let (a, b) = Self.outcome(value)
        #expect(a.hasPrefix("ok ") && a == b, "\(a)\n\(b)")
    }

    /// Each member of the full config removed, or replaced by a value of every other kind (and
    /// by an out-of-range number, a fraction, a negative, a string with NUL): the reader gives
    /// the decoder's result or error word for word.
    @Test func everyMutationReadsTheSame() throws {
        let value = try JSONParser.parse(Array(Self.full.utf8))
        let replacements: [JSONValue?] = [nil, .null, .bool(true), .number("-1"), .number("1.5"), .number("99999999999999999999"),
                                          .string("x"), .string("a\u{0}b"), .array([]), .array([.null]), .object(JSONObject())]
        var compared = 0
        var refused = 0
        for place in Self.places(value) {
            for replacement in replacements {
                let mutated = Self.replacing(value, at: place[...], with: replacement)
                let (a, b) = Self.outcome(mutated)
                #expect(a == b, "\(place) → \(String(describing: replacement)):\n  codable: \(a)\n  reader:  \(b)")
                compared += 1
                if a.hasPrefix("error ") { refused += 1 }
            }
        }
        #expect(compared > 2000 && refused > compared / 2, "\(compared) documents, \(refused) refused")
    }
}
