import AsyncHTTPClient
import FoundationEssentials
import Glibc
import NIOCore

/// Push, per the distribution spec: a blob the repository has (HEAD) is not sent again; one
/// another repository of the registry has is mounted; the rest is uploaded in one PUT, or in
/// PATCH chunks when large; the manifest goes last, under its tag.
extension RegistryClient {
    public enum BlobPush: Sendable { case exists, mounted(from: String), uploaded }

    /// Blobs above this go up in chunks of this size (a registry may bound a request's body).
    public static let chunkSize = 16 << 20

    /// `HEAD /v2/<name>/blobs/<digest>`.
    public func hasBlob(_ ref: ImageReference, digest: String) async throws -> Bool {
        let response = try await send({ var r = HTTPClientRequest(url: $0); r.method = .HEAD; return r },
                                      ref: ref, path: "blobs/\(digest)", scope: "pull,push")
        _ = try? await response.body.collect(upTo: 1 << 16)
        switch response.status.code {
        case 200: return true
        case 404: return false
        default: throw httpError(response, "blob \(digest)", ref)
        }
    }

    /// Sends the blob at `path` unless the repository has it; `mountFrom` is a repository of the
    /// same registry that has it (a mount costs no upload).
    public func pushBlob(_ ref: ImageReference, digest: String, size: Int64, path: String, mountFrom: String?,
                         progress: @Sendable (Int64) -> Void = { _ in }) async throws -> BlobPush {
        if try await hasBlob(ref, digest: digest) { return .exists }
        var start = "blobs/uploads/"
        if let mountFrom, mountFrom != ref.repository { start += "?mount=\(Self.escape(digest))&from=\(Self.escape(mountFrom))" }
        let opened = try await send({
            var r = HTTPClientRequest(url: $0)
            r.method = .POST
            r.headers.add(name: "Content-Length", value: "0")
            return r
        }, ref: ref, path: start, scope: "pull,push")
        let openedBody = Self.bytes(try? await opened.body.collect(upTo: 1 << 16))
        if opened.status.code == 201, let mountFrom { return .mounted(from: mountFrom) }
        guard opened.status.code == 202 else { throw httpError(opened, "start the upload of \(digest)", ref, body: openedBody) }
        var location = try await uploadURL(opened, ref)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw RegistryError("open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var sent: Int64 = 0
        var last: [UInt8] = []
        if size > Int64(Self.chunkSize) {
            while sent < size {
                let chunk = try Self.readChunk(fd, max: Self.chunkSize, path: path)
                guard !chunk.isEmpty else { throw RegistryError("\(path): shorter than its \(size) bytes") }
                let range = "\(sent)-\(sent + Int64(chunk.count) - 1)"
                let patched = try await send({
                    var r = HTTPClientRequest(url: $0)
                    r.method = .PATCH
                    r.headers.add(name: "Content-Type", value: "application/octet-stream")
                    r.headers.add(name: "Content-Range", value: range)
                    r.headers.add(name: "Content-Length", value: String(chunk.count))
                    r.body = .bytes(ByteBuffer(bytes: chunk))
                    return r
                }, ref: ref, path: nil, scope: "pull,push", absolute: location, timeout: .minutes(10))
                let patchedBody = Self.bytes(try? await patched.body.collect(upTo: 1 << 16))
                guard patched.status.code == 202 else { throw httpError(patched, "upload \(digest) (bytes \(range))", ref, body: patchedBody) }
                location = try await uploadURL(patched, ref)
                sent += Int64(chunk.count)
                progress(sent)
            }
        } else {
            last = try Self.readChunk(fd, max: Int(size), path: path)
            guard last.count == Int(size) else { throw RegistryError("\(path): \(last.count) bytes, not the \(size) the manifest says") }
        }
        let body = last
        let finish = location + (location.contains("?") ? "&" : "?") + "digest=" + Self.escape(digest)
        let done = try await send({
            var r = HTTPClientRequest(url: $0)
            r.method = .PUT
            r.headers.add(name: "Content-Type", value: "application/octet-stream")
            r.headers.add(name: "Content-Length", value: String(body.count))
            if !body.isEmpty { r.body = .bytes(ByteBuffer(bytes: body)) }
            return r
        }, ref: ref, path: nil, scope: "pull,push", absolute: finish, timeout: .minutes(10))
        let doneBody = Self.bytes(try? await done.body.collect(upTo: 1 << 16))
        guard done.status.code == 201 else { throw httpError(done, "upload \(digest)", ref, body: doneBody) }
        progress(size)
        return .uploaded
    }

    /// `PUT /v2/<name>/manifests/<tag>` with the manifest's own bytes (its digest is theirs).
    public func pushManifest(_ ref: ImageReference, bytes: [UInt8], mediaType: String) async throws -> String {
        let response = try await send({
            var r = HTTPClientRequest(url: $0)
            r.method = .PUT
            r.headers.add(name: "Content-Type", value: mediaType)
            r.headers.add(name: "Content-Length", value: String(bytes.count))
            r.body = .bytes(ByteBuffer(bytes: bytes))
            return r
        }, ref: ref, path: "manifests/\(ref.manifestReference)", scope: "pull,push")
        let body = Self.bytes(try? await response.body.collect(upTo: 1 << 16))
        guard response.status.code == 201 || response.status.code == 200 else {
            throw httpError(response, "manifest \(ref.name):\(ref.manifestReference)", ref, body: body)
        }
        return Digest.of(bytes)
    }

    static func bytes(_ buffer: ByteBuffer?) -> [UInt8] { buffer.map { Array($0.readableBytesView) } ?? [] }

    /// An upload's Location (absolute, or a path on the registry).
    func uploadURL(_ response: HTTPClientResponse, _ ref: ImageReference) async throws -> String {
        guard let location = response.headers.first(name: "Location"), !location.isEmpty else {
            throw RegistryError("\(ref.apiHost): an upload answer without a Location")
        }
        if location.hasPrefix("http://") || location.hasPrefix("https://") { return location }
        return try await base(ref) + (location.hasPrefix("/") ? "" : "/") + location
    }

    static func readChunk(_ fd: Int32, max: Int, path: String) throws -> [UInt8] {
        var buf = [UInt8](repeating: 0, count: max)
        var got = 0
        while got < max {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress! + got, max - got) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw RegistryError("read \(path): \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            got += n
        }
        return Array(buf.prefix(got))
    }
}
