import Glibc
import HostOS
import Registry
import Testing

@Suite("registries config: which registries may skip verified TLS")
struct RegistriesConfigTests {
    func config(_ json: String) throws -> RegistriesConfig {
        let path = "/tmp/swctr-registries-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).json"
        defer { unlink(path) }
        try FileIO.writeFile(Array(json.utf8), to: path, mode: 0o600)
        return try RegistriesConfig(path: path, required: true)
    }

    @Test func hostsPortsAndRanges() throws {
        let c = try config(#"{"insecure-registries": ["reg.local:5000", "build-host", "10.1.0.0/16", "fd00::/8", "http://other:8080/"]}"#)
        #expect(c.isInsecure("reg.local:5000"))
        #expect(!c.isInsecure("reg.local:5001"))
        #expect(!c.isInsecure("reg.local"))
        #expect(c.isInsecure("build-host:443"))
        #expect(c.isInsecure("10.1.200.3:5000"))
        #expect(!c.isInsecure("10.2.0.1:5000"))
        #expect(c.isInsecure("[fd00::1]:5000"))
        #expect(!c.isInsecure("[fe80::1]:5000"))
        #expect(!c.isInsecure("docker.io"))
        #expect(c.isInsecure("other:8080"))
    }

    @Test func badConfigsNameTheProblem() {
        for (json, want) in [(#"{"insecure-registry": []}"#, "unknown key"), (#"{"insecure-registries": ["1.2.3.4/33"]}"#, "insecure-registries[0]"),
                             (#"{"insecure-registries": [1]}"#, "insecure-registries[0]"), ("[]", "not a JSON object")] {
            do {
                _ = try config(json)
                Issue.record("accepted \(json)")
            } catch {
                #expect("\(error)".contains(want), "\(error)")
            }
        }
        #expect(throws: RegistryError.self) { try RegistriesConfig(path: "/nonexistent/registries.json", required: true) }
        #expect((try? RegistriesConfig(path: "/nonexistent/registries.json", required: false)) != nil)
    }
}
