import FoundationEssentials
import Glibc
import HostOS

/// Which registries swctr may reach without verified TLS, in the spelling of Docker's
/// daemon.json: `{"insecure-registries": ["myregistry:5000", "build-host", "10.0.0.0/8"]}`. An
/// entry is a host with a port (that registry only), a host without one (any port), or an IP
/// range in CIDR notation that matches registries named by an IP address. Unknown keys are
/// refused so that a misspelt key does not silently leave a registry on plain HTTP.
public struct RegistriesConfig: Sendable {
    public static let defaultPath = "/etc/swctr/registries.json"

    enum Entry: Sendable {
        case host(String), range(family: Int32, bytes: [UInt8], prefix: Int)
    }
    var entries: [Entry] = []

    /// Reads `path`; a missing file is an empty config unless the user named it.
    public init(path: String, required: Bool) throws(RegistryError) {
        guard access(path, F_OK) == 0 else {
            if required { throw RegistryError("\(path): no such file") }
            return
        }
        let bytes: [UInt8]
        do { bytes = try FileIO.read(path) } catch { throw RegistryError(error.description) }
        guard let value = try? JSONDecoder().decode(OpaqueJSON.self, from: Data(bytes)), case .object(let top) = value else {
            throw RegistryError("\(path): not a JSON object")
        }
        for (key, value) in top {
            guard key == "insecure-registries" else { throw RegistryError("\(path): unknown key \"\(key)\"") }
            guard case .array(let list) = value else { throw RegistryError("\(path): insecure-registries: expected an array of strings") }
            for (i, item) in list.enumerated() {
                guard case .string(let s) = item, !s.isEmpty else {
                    throw RegistryError("\(path): insecure-registries[\(i)]: expected a registry name or CIDR range")
                }
                guard let entry = Self.entry(s) else { throw RegistryError("\(path): insecure-registries[\(i)]: neither a registry nor a CIDR range: \"\(s)\"") }
                entries.append(entry)
            }
        }
    }

    static func entry(_ text: String) -> Entry? {
        // Docker accepts a URL's scheme and trailing slash on an entry; the registry is the host.
        var s = Substring(text)
        for scheme in ["http://", "https://"] where s.hasPrefix(scheme) { s = s.dropFirst(scheme.count) }
        while s.hasSuffix("/") { s = s.dropLast() }
        guard !s.isEmpty else { return nil }
        guard let slash = s.firstIndex(of: "/") else { return .host(String(s)) }
        let addr = String(s[..<slash])
        guard let prefix = Int(s[s.index(after: slash)...]), let (family, bytes) = ip(addr),
              prefix >= 0, prefix <= bytes.count * 8 else { return nil }
        return .range(family: family, bytes: bytes, prefix: prefix)
    }

    /// The address bytes of a literal IPv4 or IPv6 address.
    static func ip(_ s: String) -> (Int32, [UInt8])? {
        var v4 = [UInt8](repeating: 0, count: 4)
        if inet_pton(AF_INET, s, &v4) == 1 { return (AF_INET, v4) }
        var v6 = [UInt8](repeating: 0, count: 16)
        if inet_pton(AF_INET6, s, &v6) == 1 { return (AF_INET6, v6) }
        return nil
    }

    /// Whether `registry` (`host`, `host:port`, `[v6]:port`) is listed.
    public func isInsecure(_ registry: String) -> Bool {
        let host: String
        if registry.hasPrefix("["), let close = registry.firstIndex(of: "]") {
            host = String(registry[registry.index(after: registry.startIndex)..<close])
        } else if registry.filter({ $0 == ":" }).count == 1, let colon = registry.firstIndex(of: ":") {
            host = String(registry[..<colon])
        } else {
            host = registry
        }
        let address = Self.ip(host)
        return entries.contains { entry in
            switch entry {
            case .host(let h):
                return h == registry || h == host
            case .range(let family, let bytes, let prefix):
                guard let (f, b) = address, f == family else { return false }
                for bit in 0..<prefix where (b[bit / 8] ^ bytes[bit / 8]) & UInt8(0x80 >> (bit % 8)) != 0 { return false }
                return true
            }
        }
    }
}
