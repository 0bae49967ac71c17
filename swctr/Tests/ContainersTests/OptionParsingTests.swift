import Containers
import Database
import Monitor
import Testing

@Suite("run flags: sizes, CPUs, signals, ulimits, restart policies in Docker's spelling")
struct OptionParsingTests {
    @Test func sizesAre1024Based() throws {
        #expect(try OptionParsing.bytes("64m", flag: "--memory") == 64 << 20)
        #expect(try OptionParsing.bytes("1g", flag: "--memory") == 1 << 30)
        #expect(try OptionParsing.bytes("512kb", flag: "--memory") == 512 << 10)
        #expect(try OptionParsing.bytes("100", flag: "--memory") == 100)
        #expect(try OptionParsing.bytes("-1", flag: "--memory-swap") == -1)
    }

    @Test func aBadSizeNamesTheFlagAndTheValue() {
        #expect(throws: SwctrError.self) { try OptionParsing.bytes("12q", flag: "--memory") }
        do {
            _ = try OptionParsing.bytes("lots", flag: "--memory")
        } catch {
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains("--memory") && error.message.contains("lots"))
        }
    }

    @Test func signalsByNameOrNumber() throws {
        #expect(try OptionParsing.signal("SIGTERM") == 15)
        #expect(try OptionParsing.signal("kill") == 9)
        #expect(try OptionParsing.signal("USR1") == 10)
        #expect(try OptionParsing.signal("2") == 2)
        #expect(throws: SwctrError.self) { try OptionParsing.signal("SIGNOPE") }
        #expect(throws: SwctrError.self) { try OptionParsing.signal("99") }
    }

    @Test func ulimitsTakeSoftAndHard() throws {
        #expect(try OptionParsing.ulimit("nofile=1024:2048") == Ulimit(name: "nofile", soft: 1024, hard: 2048))
        #expect(try OptionParsing.ulimit("nproc=100") == Ulimit(name: "nproc", soft: 100, hard: 100))
        #expect(throws: SwctrError.self) { try OptionParsing.ulimit("nofile=10:5") }
        #expect(throws: SwctrError.self) { try OptionParsing.ulimit("bogus=1") }
    }

    @Test func restartPolicies() throws {
        #expect(try OptionParsing.restart("on-failure:3") == RestartPolicy(name: .onFailure, maxRetries: 3))
        #expect(try OptionParsing.restart("always").name == .always)
        #expect(throws: SwctrError.self) { try OptionParsing.restart("always:3") }
        #expect(throws: SwctrError.self) { try OptionParsing.restart("sometimes") }
        let p = RestartPolicy(name: .onFailure, maxRetries: 2)
        #expect(p.shouldRestart(exitCode: 1, restarts: 1, stoppedByUser: false))
        #expect(!p.shouldRestart(exitCode: 1, restarts: 2, stoppedByUser: false))
        #expect(!p.shouldRestart(exitCode: 0, restarts: 0, stoppedByUser: false))
        #expect(!RestartPolicy(name: .always).shouldRestart(exitCode: 1, restarts: 0, stoppedByUser: true))
        // Docker's backoff: doubling from 100 ms, capped.
        #expect(RestartPolicy.backoffNanos(consecutive: 0) == 100_000_000)
        #expect(RestartPolicy.backoffNanos(consecutive: 3) == 800_000_000)
        #expect(RestartPolicy.backoffNanos(consecutive: 50) == RestartPolicy.backoffNanos(consecutive: 10))
    }

    @Test func environmentFromTheCaller() {
        let env = OptionParsing.environment(["A=1", "HOME", "UNSET"]) { $0 == "HOME" ? "/root" : nil }
        #expect(env == ["A=1", "HOME=/root"])
    }

    @Test func containerNames() {
        #expect(Names.isValid("web-1.a_b"))
        #expect(!Names.isValid("-web"))
        #expect(!Names.isValid("a/b"))
        #expect(!Names.isValid(""))
        #expect(Names.newID().count == 64)
        #expect(Names.isValid(Names.generate()))
    }
}

@Suite("detach keys: Docker's spelling, and bytes held back only while they may start the sequence")
struct DetachKeysTests {
    @Test func parsing() {
        #expect(DetachKeys.parse("ctrl-p,ctrl-q") == [0x10, 0x11])
        #expect(DetachKeys.parse("ctrl-a,x") == [0x01, 0x78])
        #expect(DetachKeys.parse("ctrl-@,ctrl-_") == [0x00, 0x1f])
        #expect(DetachKeys.parse("ctrl-") == nil)
        #expect(DetachKeys.parse("alt-x") == nil)
        #expect(DetachKeys.parse("") == nil)
    }

    @Test func matching() {
        var m = DetachKeys.Matcher(sequence: [0x10, 0x11])
        #expect(m.feed(Array("ab".utf8)) == (Array("ab".utf8), false))
        // ctrl-p alone waits; a following byte that is not ctrl-q releases both.
        #expect(m.feed([0x10]) == ([], false))
        #expect(m.feed(Array("c".utf8)) == ([0x10, 0x63], false))
        // ctrl-p ctrl-p ctrl-q: the first ctrl-p goes through, then the sequence detaches.
        #expect(m.feed([0x10, 0x10]) == ([0x10], false))
        #expect(m.feed([0x11, 0x41]) == ([], true))
        var split = DetachKeys.Matcher(sequence: [0x10, 0x11])
        #expect(split.feed(Array("x".utf8) + [0x10]) == (Array("x".utf8), false))
        #expect(split.feed([0x11]) == ([], true))
    }
}
