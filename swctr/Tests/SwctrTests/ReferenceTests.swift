import Testing
import Registry

@Suite("image references, platforms, digests, auth challenges")
struct ReferenceTests {
    @Test func dockerHubNormalisation() throws {
        let r = try ImageReference(parsing: "busybox")
        #expect(r.description == "docker.io/library/busybox:latest")
        #expect(r.apiHost == "registry-1.docker.io")
        #expect(try ImageReference(parsing: "user/app:1.2").description == "docker.io/user/app:1.2")
    }

    @Test func registryHostPortTagAndDigest() throws {
        let d = "sha256:" + String(repeating: "a", count: 64)
        let r = try ImageReference(parsing: "127.0.0.1:5000/team/busybox:v1@\(d)")
        #expect(r.registry == "127.0.0.1:5000")
        #expect(r.repository == "team/busybox")
        #expect(r.tag == "v1")
        #expect(r.manifestReference == d)
        #expect(try ImageReference(parsing: "localhost/x").registry == "localhost")
    }

    @Test func badReferencesNameTheProblem() {
        #expect(throws: ImageReference.Invalid.self) { try ImageReference(parsing: "Busybox") }
        #expect(throws: ImageReference.Invalid.self) { try ImageReference(parsing: "busybox@sha256:xyz") }
        #expect(throws: ImageReference.Invalid.self) { try ImageReference(parsing: "busybox:") }
        #expect(throws: ImageReference.Invalid.self) { try Platform(parsing: "linux") }
    }

    @Test func sha256() {
        #expect(Digest.of(Array("abc".utf8)) == "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func bearerChallenge() {
        let p = RegistryClient.challengeParameters(#" realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull""#)
        #expect(p["realm"] == "https://auth.docker.io/token")
        #expect(p["service"] == "registry.docker.io")
        #expect(p["scope"] == "repository:library/busybox:pull")
        #expect(RegistryClient.escape("repository:a/b:pull") == "repository%3Aa%2Fb%3Apull")
    }
}
