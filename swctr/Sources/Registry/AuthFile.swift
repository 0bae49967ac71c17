import FoundationEssentials
import Glibc
import HostOS

/// Docker's credentials file (`~/.docker/config.json`, or podman's auth.json, same shape):
/// `{"auths": {"<registry>": {"auth": base64("user:password")}}}`. Other keys are kept as they
/// are when swctr writes the file.
public struct AuthFile: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    /// Docker Hub is filed under its v1 index URL.
    static func key(_ registry: String) -> [String] {
        registry == "docker.io" ? ["https://index.docker.io/v1/", "docker.io", "index.docker.io"] : [registry]
    }

    public func credentials(for registry: String) throws -> Credentials? {
        guard let root = try load(), case .object(let top) = root, case .object(let auths)? = top["auths"] else { return nil }
        for k in Self.key(registry) {
            guard case .object(let entry)? = auths[k], case .string(let auth)? = entry["auth"] else { continue }
            guard let data = Data(base64Encoded: auth) else { throw RegistryError("\(path): auths.\(k).auth is not base64") }
            let text = String(decoding: data, as: UTF8.self)
            guard let colon = text.firstIndex(of: ":") else { throw RegistryError("\(path): auths.\(k).auth is not user:password") }
            return Credentials(username: String(text[..<colon]), password: String(text[text.index(after: colon)...]))
        }
        return nil
    }

    public func store(_ c: Credentials?, for registry: String) throws {
        var top: [String: OpaqueJSON] = [:]
        if case .object(let o)? = try load() { top = o }
        var auths: [String: OpaqueJSON] = [:]
        if case .object(let a)? = top["auths"] { auths = a }
        let k = Self.key(registry)[0]
        if let c {
            auths[k] = .object(["auth": .string(Data("\(c.username):\(c.password)".utf8).base64EncodedString())])
        } else if auths.removeValue(forKey: k) == nil {
            throw RegistryError("not logged in to \(registry)")
        }
        top["auths"] = .object(auths)
        let bytes = Array(try JSONEncoder().encode(OpaqueJSON.object(top)))
        let dir = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        if !dir.isEmpty { mkdir(dir, 0o700) }
        let tmp = path + ".tmp"
        do {
            try FileIO.writeFile(bytes, to: tmp, mode: 0o600, sync: true)
            try check("rename \(tmp)") { rename(tmp, path) }
        } catch {
            unlink(tmp)
            throw RegistryError("write \(path): \(error)")
        }
    }

    func load() throws -> OpaqueJSON? {
        guard access(path, F_OK) == 0 else { return nil }
        let bytes: [UInt8]
        do { bytes = try FileIO.read(path) } catch { throw RegistryError(error.description) }
        do { return try JSONDecoder().decode(OpaqueJSON.self, from: Data(bytes)) } catch {
            throw RegistryError("\(path): not valid JSON")
        }
    }
}

/// Any JSON value, so a file's other keys survive a rewrite.
public indirect enum OpaqueJSON: Codable, Sendable {
    case object([String: OpaqueJSON]), array([OpaqueJSON]), string(String), number(Double), bool(Bool), null

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null } else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([OpaqueJSON].self) { self = .array(a) }
        else { self = .object(try c.decode([String: OpaqueJSON].self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .object(let o): try c.encode(o)
        case .array(let a): try c.encode(a)
        case .string(let s): try c.encode(s)
        case .number(let n): try c.encode(n)
        case .bool(let b): try c.encode(b)
        case .null: try c.encodeNil()
        }
    }
}
