import ArgumentParser
import FoundationEssentials
import Glibc
import HostOS
import Database
import Images
import OCI
import Registry

struct Login: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check credentials against a registry and save them.")
    @OptionGroup var global: Global
    @Option(name: [.customShort("u"), .customLong("username")]) var username: String
    @Option(name: [.customShort("p"), .customLong("password")]) var password: String
    @Option(name: .customLong("tls-verify"), help: "false: skip TLS verification and allow plain HTTP.") var tlsVerify: Bool?
    @Argument var registry: String

    func run() async throws {
        let creds = Credentials(username: username, password: password)
        let ref: ImageReference
        let insecure: Bool
        do {
            ref = try ImageReference(parsing: "\(registry)/swctr-login-check")
            insecure = try global.insecure(ref.registry, tlsVerify: tlsVerify)
        } catch { fail("\(error)") }
        let client = RegistryClient(insecure: insecure, credentials: creds)
        do {
            try await client.checkLogin(ref)
            await client.shutdown()
            try global.authFile.store(creds, for: ref.registry)
        } catch {
            await client.shutdown()
            fail("\(error)")
        }
        print("Login Succeeded!")
    }
}

struct Logout: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Forget a registry's saved credentials.")
    @OptionGroup var global: Global
    @Argument var registry: String

    func run() async throws {
        do { try global.authFile.store(nil, for: registry) } catch { fail("\(error)") }
        print("Removed login credentials for \(registry)")
    }
}
