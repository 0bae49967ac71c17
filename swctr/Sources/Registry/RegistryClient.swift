import AsyncHTTPClient
import FoundationEssentials
import Glibc
import NIOCore
import NIOHTTP1
import NIOSSL

public struct RegistryError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

public struct Credentials: Sendable {
    public var username: String
    public var password: String
    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }
    var basic: String { "Basic " + Data("\(username):\(password)".utf8).base64EncodedString() }
}

/// What a pull resolves before downloading layers.
public struct ResolvedImage: Sendable {
    public var manifestDigest: String
    public var manifest: Manifest
    public var manifestBytes: [UInt8]
    public var config: ImageConfig
    public var configBytes: [UInt8]
}

/// The OCI distribution-spec client: manifests with content negotiation, platform selection in
/// indexes, blobs streamed to disk while hashed, and the 401 challenge flow (Bearer tokens with
/// scope, or Basic).
public final class RegistryClient: Sendable {
    let http: HTTPClient
    let insecure: Bool
    let credentials: Credentials?
    /// Authorization header values by registry host and repository.
    private let tokens = Memo()
    /// `https://host` or `http://host` by registry host, once probed.
    private let schemes = Memo()

    /// `insecure` is podman's `--tls-verify=false` and Docker's insecure-registries: HTTPS without
    /// certificate verification, or plain HTTP for a registry that answers in it (see `base`).
    public init(insecure: Bool, credentials: Credentials?) {
        var config = HTTPClient.Configuration()
        if insecure { config.tlsConfiguration = Self.unverifiedTLS }
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
        self.insecure = insecure
        self.credentials = credentials
    }

    static var unverifiedTLS: TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .none
        return tls
    }

    public func shutdown() async { try? await http.shutdown() }

    /// `https://host` or, for an insecure registry that speaks plain HTTP, `http://host`; the
    /// answer of the first probe is kept for the client's lifetime. The probe asks in plain HTTP
    /// first: a TLS ClientHello sent to a plain-HTTP server can go unanswered for seconds (the
    /// server waits for the end of a request line), while a TLS server answers plain HTTP with a
    /// 400 at once.
    func base(_ ref: ImageReference) async throws -> String {
        guard insecure else { return "https://\(ref.apiHost)" }
        if let known = await schemes.get(ref.apiHost) { return known }
        let scheme = await speaksPlainHTTP(ref) ? "http://\(ref.apiHost)" : "https://\(ref.apiHost)"
        await schemes.set(ref.apiHost, scheme)
        return scheme
    }

    /// Whether `GET http://host/v2/` gets a registry's answer: 200 or 401 with the distribution
    /// API header or a challenge (a redirect to HTTPS, say, is not one).
    func speaksPlainHTTP(_ ref: ImageReference) async -> Bool {
        guard let response = try? await http.execute(HTTPClientRequest(url: "http://\(ref.apiHost)/v2/"), timeout: .seconds(10)) else {
            return false
        }
        _ = try? await response.body.collect(upTo: 1 << 20)
        let isRegistry = response.headers.contains(name: "Docker-Distribution-API-Version")
            || response.headers.contains(name: "WWW-Authenticate")
        return (response.status == .ok || response.status == .unauthorized) && isRegistry
    }

    func url(_ ref: ImageReference, _ path: String) async throws -> String {
        try await base(ref) + "/v2/\(ref.repository)/\(path)"
    }

    /// A transport failure as one line. When verified TLS was required and failed, it says why,
    /// and a registry that turns out to speak plain HTTP is named as such, with the ways to allow it.
    func transportError(_ ref: ImageReference, _ error: Error) async -> RegistryError {
        let text = "\(error)"
        guard !insecure else { return RegistryError("\(ref.apiHost): \(text)") }
        let hint = "for a registry without verified TLS: --tls-verify=false, or list it under insecure-registries in the registries config"
        if await speaksPlainHTTP(ref) {
            return RegistryError("\(ref.apiHost): the registry speaks plain HTTP, not TLS (\(hint))")
        }
        guard error is NIOSSLError || text.contains("SSL") else { return RegistryError("\(ref.apiHost): \(text)") }
        let what = text.contains("CERTIFICATE_VERIFY_FAILED") ? "has a certificate that does not verify"
            : text.contains("WRONG_VERSION_NUMBER") ? "does not speak TLS"
            : "failed the TLS handshake"
        return RegistryError("\(ref.apiHost): the registry \(what) (\(hint))")
    }

    /// Sends a request, answering one authentication challenge if the registry asks.
    /// `scope` is the repository access asked for ("pull", or "pull,push" for a push); `absolute`
    /// a URL the registry handed out (an upload's Location) instead of `path`.
    func send(_ make: (String) -> HTTPClientRequest, ref: ImageReference, path: String?, scope: String = "pull",
              absolute: String? = nil, timeout: TimeAmount = .seconds(60)) async throws -> HTTPClientResponse {
        let url: String
        if let absolute { url = absolute } else if let path { url = try await self.url(ref, path) } else { url = try await base(ref) + "/v2/" }
        var request = make(url)
        let registryLevel = path == nil && absolute == nil
        let cacheKey = ref.apiHost + "/" + (registryLevel ? "" : ref.repository + ":" + scope)
        if let auth = await tokens.get(cacheKey) { request.headers.replaceOrAdd(name: "Authorization", value: auth) }
        let response: HTTPClientResponse
        do { response = try await http.execute(request, timeout: timeout) } catch { throw await transportError(ref, error) }
        guard response.status == .unauthorized, let challenge = response.headers.first(name: "WWW-Authenticate") else {
            return response
        }
        _ = try? await response.body.collect(upTo: 1 << 20)
        // A login check (`GET /v2/`) asks for a token without a repository scope, as Docker does.
        let auth = try await authorize(challenge, ref: ref, defaultScope: registryLevel ? nil : "repository:\(ref.repository):\(scope)")
        await tokens.set(cacheKey, auth)
        var retry = make(url)
        retry.headers.replaceOrAdd(name: "Authorization", value: auth)
        do { return try await http.execute(retry, timeout: timeout) } catch { throw await transportError(ref, error) }
    }

    /// `Bearer realm="...",service="...",scope="..."` → a token from the realm; `Basic` → the
    /// configured credentials.
    func authorize(_ challenge: String, ref: ImageReference, defaultScope: String?) async throws -> String {
        let scheme = challenge.prefix { $0 != " " }.lowercased()
        if scheme == "basic" {
            guard let credentials else { throw RegistryError("\(ref.registry): authentication required (swctr login \(ref.registry))") }
            return credentials.basic
        }
        guard scheme == "bearer" else { throw RegistryError("\(ref.registry): unsupported authentication \"\(scheme)\"") }
        let params = Self.challengeParameters(String(challenge.dropFirst(scheme.count)))
        guard let realm = params["realm"] else { throw RegistryError("\(ref.registry): Bearer challenge without realm") }
        var query: [String] = []
        if let service = params["service"] { query.append("service=\(Self.escape(service))") }
        if let scope = params["scope"] ?? defaultScope { query.append("scope=\(Self.escape(scope))") }
        if let credentials { query.append("account=\(Self.escape(credentials.username))") }
        var request = HTTPClientRequest(url: realm + (realm.contains("?") ? "&" : "?") + query.joined(separator: "&"))
        if let credentials { request.headers.add(name: "Authorization", value: credentials.basic) }
        let response: HTTPClientResponse
        do { response = try await http.execute(request, timeout: .seconds(30)) } catch {
            throw RegistryError("token from \(realm): \(error)")
        }
        let body = try await response.body.collect(upTo: 1 << 20)
        if response.status == .unauthorized || response.status == .forbidden {
            if credentials != nil { throw RegistryError("\(ref.registry): unauthorized (wrong username or password)") }
            throw RegistryError("\(ref.registry): authentication required (swctr login \(ref.registry))")
        }
        guard response.status == .ok else {
            throw RegistryError("token from \(realm): HTTP \(response.status.code)")
        }
        struct Token: Decodable { var token: String?; var access_token: String? }
        guard let t = try? JSONDecoder().decode(Token.self, from: Data(Array(buffer: body))), let token = t.token ?? t.access_token else {
            throw RegistryError("token from \(realm): no token in the answer")
        }
        return "Bearer \(token)"
    }

    /// The parameters of a WWW-Authenticate challenge (`realm="...",service="..."`).
    public static func challengeParameters(_ s: String) -> [String: String] {
        var out: [String: String] = [:]
        var rest = Substring(s)
        while let eq = rest.firstIndex(of: "=") {
            let key = String(rest[..<eq].drop { $0 == " " || $0 == "," }).filter { $0 != " " }
            rest = rest[rest.index(after: eq)...]
            var value = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                let end = rest.firstIndex(of: "\"") ?? rest.endIndex
                value = String(rest[..<end])
                rest = end < rest.endIndex ? rest[rest.index(after: end)...] : ""
            } else {
                let end = rest.firstIndex(of: ",") ?? rest.endIndex
                value = String(rest[..<end])
                rest = rest[end...]
            }
            out[key.lowercased()] = value
        }
        return out
    }

    /// RFC 3986 percent-encoding of a query value (unreserved characters stay).
    public static func escape(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            let c = Character(Unicode.Scalar(b))
            if b < 128 && (c.isLetter || c.isNumber || "-._~".contains(c)) { out.append(c) } else {
                out += "%" + (b < 16 ? "0" : "") + String(b, radix: 16, uppercase: true)
            }
        }
        return out
    }

    func httpError(_ response: HTTPClientResponse, _ what: String, _ ref: ImageReference, body: [UInt8] = []) -> RegistryError {
        let said = Self.registryErrors(body).map { ": " + $0 } ?? ""
        switch response.status.code {
        case 401, 403:
            let hint = credentials == nil ? " (swctr login \(ref.registry) if it needs credentials)" : ""
            return RegistryError("\(what): access denied (HTTP \(response.status.code))\(said)\(hint)")
        case 404: return RegistryError("\(what): not found (HTTP 404)\(said)")
        default: return RegistryError("\(what): HTTP \(response.status.code)\(said)")
        }
    }

    /// The distribution spec's error body (`{"errors":[{"code","message"}]}`) as one short line.
    static func registryErrors(_ body: [UInt8]) -> String? {
        struct Body: Decodable {
            struct Item: Decodable { var code: String?; var message: String? }
            var errors: [Item]?
        }
        guard !body.isEmpty, let b = try? JSONDecoder().decode(Body.self, from: Data(body)), let items = b.errors, !items.isEmpty else { return nil }
        let text = items.map { [$0.code, $0.message].compactMap { $0 }.joined(separator: " ") }.joined(separator: "; ")
        let oneLine = String(text.map { $0.isNewline ? " " : $0 }.prefix(200))
        return oneLine.isEmpty ? nil : oneLine
    }

    /// The manifest for `platform` (an index is resolved to its matching entry) and its config.
    public func resolve(_ ref: ImageReference, platform: Platform) async throws -> ResolvedImage {
        var (bytes, mediaType, digest) = try await fetchManifest(ref, reference: ref.manifestReference)
        if mediaType == MediaType.ociIndex || mediaType == MediaType.dockerList {
            let index: Index
            do { index = try JSONDecoder().decode(Index.self, from: Data(bytes)) } catch {
                throw RegistryError("\(ref): invalid index: \(error)")
            }
            guard let match = index.select(platform) else {
                throw RegistryError("\(ref): no image for platform \(platform) (the index has \(index.platforms))")
            }
            (bytes, mediaType, digest) = try await fetchManifest(ref, reference: match.digest)
            guard digest == match.digest else { throw RegistryError("\(ref): manifest digest mismatch: got \(digest), want \(match.digest)") }
        }
        guard mediaType == MediaType.ociManifest || mediaType == MediaType.dockerManifest else {
            throw RegistryError("\(ref): unsupported manifest type \"\(mediaType)\"")
        }
        let manifest: Manifest
        do { manifest = try JSONDecoder().decode(Manifest.self, from: Data(bytes)) } catch {
            throw RegistryError("\(ref): invalid manifest: \(error)")
        }
        let configBytes = try await fetchBlob(ref, manifest.config, limit: 8 << 20)
        let config: ImageConfig
        do { config = try JSONDecoder().decode(ImageConfig.self, from: Data(configBytes)) } catch {
            throw RegistryError("\(ref): invalid image config: \(error)")
        }
        if let os = config.os, let arch = config.architecture, os != platform.os || arch != platform.architecture {
            throw RegistryError("\(ref): image is for \(os)/\(arch), not \(platform)")
        }
        guard config.rootfs.diff_ids.count == manifest.layers.count else {
            throw RegistryError("\(ref): config lists \(config.rootfs.diff_ids.count) layers, manifest \(manifest.layers.count)")
        }
        return ResolvedImage(manifestDigest: digest, manifest: manifest, manifestBytes: bytes, config: config, configBytes: configBytes)
    }

    /// `GET /v2/` with the credentials: what `login` checks before saving them.
    public func checkLogin(_ ref: ImageReference) async throws {
        let response = try await send({ HTTPClientRequest(url: $0) }, ref: ref, path: nil)
        _ = try? await response.body.collect(upTo: 1 << 20)
        guard response.status == .ok else {
            if response.status == .unauthorized { throw RegistryError("login to \(ref.registry): unauthorized (wrong username or password)") }
            throw httpError(response, "login to \(ref.registry)", ref)
        }
    }

    func fetchManifest(_ ref: ImageReference, reference: String) async throws -> ([UInt8], String, String) {
        let response = try await send({
            var r = HTTPClientRequest(url: $0)
            r.headers.add(name: "Accept", value: MediaType.accepted.joined(separator: ", "))
            return r
        }, ref: ref, path: "manifests/\(reference)")
        let body = try await response.body.collect(upTo: 4 << 20)
        guard response.status == .ok else { throw httpError(response, "manifest \(ref.name):\(reference)", ref) }
        let bytes = Array(buffer: body)
        let digest = Digest.of(bytes)
        if Digest.isValid(reference), reference != digest {
            throw RegistryError("manifest \(ref.name)@\(reference): digest mismatch: content is \(digest)")
        }
        var mediaType = response.headers.first(name: "Content-Type")?.split(separator: ";").first.map(String.init) ?? ""
        if mediaType.isEmpty || mediaType == "application/json" {
            struct Peek: Decodable { var mediaType: String?; var manifests: [Descriptor]? }
            let peek = try? JSONDecoder().decode(Peek.self, from: Data(bytes))
            mediaType = peek?.mediaType ?? (peek?.manifests != nil ? MediaType.ociIndex : MediaType.ociManifest)
        }
        return (bytes, mediaType, digest)
    }

    /// A small blob (config) into memory, verified.
    func fetchBlob(_ ref: ImageReference, _ d: Descriptor, limit: Int) async throws -> [UInt8] {
        let response = try await send({ HTTPClientRequest(url: $0) }, ref: ref, path: "blobs/\(d.digest)")
        let body = try await response.body.collect(upTo: limit)
        guard response.status == .ok else { throw httpError(response, "blob \(d.digest)", ref) }
        let bytes = Array(buffer: body)
        let got = Digest.of(bytes)
        guard got == d.digest else { throw RegistryError("blob \(d.digest): digest mismatch: content is \(got)") }
        return bytes
    }

    /// Streams a blob into `path` while hashing it; after a dropped connection it resumes with an
    /// HTTP Range request (a registry that answers 200 instead of 206 sends it all again). The
    /// file is left only if the digest matches.
    public func downloadBlob(_ ref: ImageReference, _ d: Descriptor, to path: String,
                             progress: @Sendable (Int64) -> Void = { _ in }) async throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw RegistryError("create \(path): \(String(cString: strerror(errno)))") }
        var closed = false
        defer { if !closed { close(fd) } }
        var hasher = Digest.Hasher()
        var written: Int64 = 0
        var lastError: Error?
        for attempt in 0..<4 {
            if attempt > 0 { try await Task.sleep(nanoseconds: UInt64(200_000_000 * attempt)) }
            do {
                let from = written
                let response = try await send({
                    var r = HTTPClientRequest(url: $0)
                    if from > 0 { r.headers.add(name: "Range", value: "bytes=\(from)-") }
                    return r
                }, ref: ref, path: "blobs/\(d.digest)", timeout: .hours(1))
                if from > 0 && response.status == .ok {
                    // No range support: start over.
                    ftruncate(fd, 0)
                    lseek(fd, 0, SEEK_SET)
                    hasher = Digest.Hasher()
                    written = 0
                } else if response.status != .ok && response.status != .partialContent {
                    _ = try? await response.body.collect(upTo: 1 << 20)
                    throw httpError(response, "blob \(d.digest)", ref)
                }
                for try await chunk in response.body {
                    try chunk.withUnsafeReadableBytes { raw in
                        hasher.update(raw)
                        var off = 0
                        while off < raw.count {
                            let n = write(fd, raw.baseAddress! + off, raw.count - off)
                            if n < 0 {
                                if errno == EINTR { continue }
                                throw RegistryError("write \(path): \(String(cString: strerror(errno)))")
                            }
                            off += n
                        }
                    }
                    written += Int64(chunk.readableBytes)
                    progress(written)
                    if written > d.size { throw RegistryError("blob \(d.digest): larger than the \(d.size) bytes announced") }
                }
                lastError = nil
                break
            } catch let error as RegistryError where error.description.contains("HTTP 4") || error.description.contains("write ") || error.description.contains("larger than") {
                throw error
            } catch {
                lastError = error
            }
        }
        if let lastError { throw RegistryError("blob \(d.digest): \(lastError)") }
        let got = hasher.finish()
        guard got == d.digest else { throw RegistryError("blob \(d.digest): digest mismatch: downloaded content is \(got)") }
        guard written == d.size else { throw RegistryError("blob \(d.digest): size mismatch: got \(written), want \(d.size)") }
        guard fsync(fd) == 0 else { throw RegistryError("fsync \(path): \(String(cString: strerror(errno)))") }
        close(fd)
        closed = true
    }
}

/// A string map shared by a pull's concurrent downloads.
actor Memo {
    private var values: [String: String] = [:]
    func get(_ k: String) -> String? { values[k] }
    func set(_ k: String, _ v: String) { values[k] = v }
}
