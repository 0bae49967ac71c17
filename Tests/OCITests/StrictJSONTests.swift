import Foundation
import Testing
@testable import OCI
import JSON

/// config.json as the strict parser reads it: what two readers could disagree on is refused, and
/// every error names the field (or the line and column) in one short line.
@Suite("strict config.json: duplicate keys, NUL, UTF-8, numbers, ranges")
struct StrictJSONTests {
    let base = #"{"ociVersion":"1.2.0","root":{"path":"r"},"process":{"user":{"uid":0,"gid":0},"cwd":"/","args":["sh"]}"#

    func load(_ json: String) -> String? {
        do { _ = try Spec.load(Array(json.utf8)); return nil } catch { return error.description }
    }

    func load(bytes: [UInt8]) -> String? {
        do { _ = try Spec.load(Array(Data(bytes))); return nil } catch { return error.description }
    }

    func withProcess(_ process: String) -> String {
        #"{"ociVersion":"1.2.0","root":{"path":"r"},"process":"# + process + "}"
    }

    @Test func duplicateKeysAreRefusedWherever() {
        #expect(load(withProcess(#"{"user":{"uid":0},"user":{"uid":1000},"cwd":"/","args":["id"]}"#))
                == #"process: duplicate key "user""#)
        #expect(load(withProcess(#"{"user":{"uid":0,"gid":0,"uid":1000},"cwd":"/","args":["id"]}"#))
                == #"process.user: duplicate key "uid""#)
        #expect(load(#"{"ociVersion":"1.2.0","ociVersion":"1.0.0","root":{"path":"r"}}"#) == #"duplicate key "ociVersion""#)
    }

    @Test func nulInAnyStringThatReachesTheKernelIsRefused() {
        #expect(load(withProcess(#"{"user":{"uid":0,"gid":0},"cwd":"/","args":["sh\u0000junk"]}"#))
                == #"process.args[0]: contains a NUL character ("sh\u0000junk")"#)
        #expect(load(withProcess(#"{"user":{"uid":0,"gid":0},"cwd":"/","args":["sh"],"env":["A=1\u0000B=2"]}"#))
                == #"process.env[0]: contains a NUL character ("A=1\u0000B=2")"#)
        #expect(load(base + #","mounts":[{"destination":"/tmp\u0000/evil","type":"tmpfs"}]}"#)
                == #"mounts[0].destination: contains a NUL character ("/tmp\u0000/evil")"#)
        // Annotations are only passed on, never to a syscall.
        #expect(load(base + #","annotations":{"k":"a\u0000b"}}"#) == nil)
    }

    @Test func invalidUTF8AndLoneSurrogatesAreRefusedWithTheirPlace() {
        var bytes = Array((base + #","hostname":""#).utf8)
        bytes += [0xC3, 0x28] + Array(#""}"#.utf8)
        #expect(load(bytes: bytes)?.hasPrefix("hostname: invalid UTF-8 at line 1, column") == true, "\(load(bytes: bytes) ?? "")")
        #expect(load(base + #","hostname":"\ud800"}"#)?.contains("lone surrogate") == true)
        // Overlong encoding of '/': a classic path-filter bypass.
        var overlong = Array((base + #","hostname":""#).utf8)
        overlong += [0xC0, 0xAF] + Array(#""}"#.utf8)
        #expect(load(bytes: overlong)?.contains("invalid UTF-8") == true)
    }

    @Test func numbersAreReadExactly() {
        let uid = { (v: String) in self.load(self.withProcess(#"{"user":{"uid":"# + v + #","gid":0},"cwd":"/","args":["id"]}"#)) }
        #expect(uid("-1") == "process.user.uid: expected a non-negative integer, got -1")
        #expect(uid("1.5") == "process.user.uid: expected a non-negative integer, got 1.5")
        #expect(uid("1e3") == "process.user.uid: expected a non-negative integer, got 1e3")
        #expect(uid("4294967296") == "process.user.uid: out of range (0…4294967295), got 4294967296")
        #expect(uid("4294967295") == "process.user.uid: must be between 0 and 2147483647, got 4294967295")
        #expect(uid("2147483648") == "process.user.uid: must be between 0 and 2147483647, got 2147483648")
        #expect(uid("2147483647") == nil)
        let rlimit = load(withProcess(#"{"user":{"uid":0,"gid":0},"cwd":"/","args":["id"],"rlimits":[{"type":"RLIMIT_NOFILE","hard":18446744073709551616,"soft":1}]}"#))
        #expect(rlimit == "process.rlimits[0].hard: out of range (0…18446744073709551615), got 18446744073709551616")
        let errnoRet = load(base + #","linux":{"seccomp":{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":1099511627776}}}"#)
        #expect(errnoRet == "linux.seccomp.defaultErrnoRet: out of range (0…4294967295), got 1099511627776")
    }

    @Test func idsOutsideTheirRangeAreRefusedEverywhere() {
        let maxPlusOne = "2147483648"
        #expect(load(withProcess(#"{"user":{"uid":0,"gid":4294967295},"cwd":"/","args":["id"]}"#))
                == "process.user.gid: must be between 0 and 2147483647, got 4294967295")
        #expect(load(withProcess(#"{"user":{"uid":0,"gid":0,"additionalGids":[1,"# + maxPlusOne + #"]},"cwd":"/","args":["id"]}"#))
                == "process.user.additionalGids[1]: must be between 0 and 2147483647, got 2147483648")
        let userns = #","linux":{"namespaces":[{"type":"user"}],"uidMappings":[{"containerID":0,"hostID":"#
        #expect(load(base + userns + maxPlusOne + #","size":1}],"gidMappings":[{"containerID":0,"hostID":0,"size":1}]}}"#)
                == "linux.uidMappings[0].hostID: must be between 0 and 2147483647, got 2147483648")
        #expect(load(base + userns + #"1000,"size":4294967295}],"gidMappings":[{"containerID":0,"hostID":0,"size":1}]}}"#)?
                    .hasPrefix("linux.uidMappings[0].size: ") == true)
        #expect(load(base + #","linux":{"devices":[{"type":"c","path":"/dev/x","major":1,"minor":3,"uid":4294967295}]}}"#)
                == "linux.devices[0].uid: must be between 0 and 2147483647, got 4294967295")
    }

    @Test func resourceValuesOutsideTheirRangeAreRefused() {
        func resources(_ r: String) -> String? { load(base + #","linux":{"resources":"# + r + "}}") }
        #expect(resources(#"{"devices":[{"allow":true,"type":"c","major":-5,"access":"r"}]}"#)
                == "linux.resources.devices[0].major: must be -1 (any) or between 0 and 4095, got -5")
        #expect(resources(#"{"devices":[{"allow":true,"type":"c","major":1,"minor":-1,"access":"r"}]}"#) == nil)
        #expect(resources(#"{"devices":[{"allow":true,"type":"x","access":"r"}]}"#)
                == "linux.resources.devices[0].type: must be \"a\", \"b\" or \"c\", got \"x\"")
        // Unknown letters are dropped as runc drops them; a rule with none of r, w, m is refused.
        #expect(resources(#"{"devices":[{"allow":true,"access":"rwx"}]}"#) == nil)
        #expect(resources(#"{"devices":[{"allow":true,"access":"xyz"}]}"#)
                == "linux.resources.devices[0].access: must hold r, w or m, got \"xyz\"")
        #expect(DeviceCgroupRule(allow: false, access: "wxr").effectiveAccess == "rw")
        #expect(resources(#"{"memory":{"swappiness":101}}"#) == "linux.resources.memory.swappiness: must be between 0 and 100, got 101")
        #expect(resources(#"{"cpu":{"shares":1}}"#) == "linux.resources.cpu.shares: must be between 2 and 262144, got 1")
        #expect(resources(#"{"cpu":{"shares":1024,"quota":500}}"#) == "linux.resources.cpu.quota: must be -1 (unlimited) or at least 1000, got 500")
        #expect(resources(#"{"pids":{"limit":-2}}"#) == "linux.resources.pids.limit: must be -1 (unlimited) or at least 0, got -2")
    }

    @Test func errorsAreOneShortLine() {
        let huge = String(repeating: "x", count: 60_000)
        let e = load(withProcess(#"{"user":{"uid":0,"gid":0},"cwd":"relative"# + huge + #"","args":["id"]}"#)) ?? ""
        #expect(e.hasPrefix("process.cwd: must be an absolute path"))
        #expect(e.count < 200, "\(e.count) characters")
        let newline = load(base + #","linux":{"cgroupsPath":"/a\nb"}}"#) ?? ""
        #expect(newline == #"linux.cgroupsPath: contains a control character ("/a\nb")"#)
        #expect(!newline.contains("\n"))
        #expect(Excerpt.line("a\nb\u{1}") == "a\\nb\\u1")
    }

    @Test func syntaxErrorsSayWhere() {
        #expect(load("{\n  \"ociVersion\": \"1.2.0\",\n  \"root\": {\"path\": \"r\"}\n  \"x\": 1}")
                == "invalid JSON at line 4, column 3: expected ',' or '}' in an object")
        #expect(load(#"{"ociVersion":"1.2.0","root":{"path":"r"},"process":{"args":[01]}}"#)?
                    .contains("(in process.args[0]): invalid number: leading zero") == true)
        #expect(load("") == "invalid JSON at line 1, column 1: unexpected end of input")
        let deep = String(repeating: "[", count: 100_000)
        #expect(load(#"{"ociVersion":"1.2.0","x":"# + deep)?.contains("nested deeper than") == true)
    }

    @Test func aKeyWithAControlCharacterStaysOnOneLine() {
        // Found by the random test below: an escaped newline in a key ("ociVersi\n") reached the
        // error's "(in …)" path as a real one.
        let inputs: [[UInt8]] = [Array(#"{"ociVersi\n":"#.utf8) + [0xb4], Array(#"{"x\ty":{"z":[1,"#.utf8) + [0xb4],
                                 Array(#"{"ociVersion":"1.2.0","annotations":{"a\nb":1}}"#.utf8)]
        for bytes in inputs {
            let e = load(bytes: bytes)
            #expect(e != nil && e?.contains("\n") == false && e?.contains("\t") == false, "\(e ?? "nil")")
        }
    }

    @Test func randomBytesNeverCrashTheParser() {
        var rng = SystemRandomNumberGenerator()
        let seeds = [Array(base.utf8) + Array("}".utf8)]
        for _ in 0..<3000 {
            var bytes = seeds[0]
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let i = Int.random(in: 0..<bytes.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: bytes[i] = UInt8.random(in: 0...255, using: &rng)
                case 1: bytes.remove(at: i)
                default: bytes.insert(UInt8.random(in: 0...255, using: &rng), at: i)
                }
            }
            if let e = load(bytes: bytes) { #expect(!e.contains("\n")) }
        }
    }
}
