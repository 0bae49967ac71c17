import AsyncHTTPClient
import Database
import Glibc
import HostOS
import JSON
import Registry
import Images
import JSON
import NIOCore

/// ADD of a URL: fetched into the step's directory (never unpacked, as Docker leaves it), its
/// sha256 checked against `--checksum`, its time taken from Last-Modified.
extension Builder {
    func download(_ url: String, checksum: String?, into dir: String) async throws(SwctrError) -> (path: String, name: String, mtime: timespec?) {
        if let checksum, !(checksum.hasPrefix("sha256:") && checksum.count == 71 && checksum.dropFirst(7).allSatisfy(\.isHexDigit)) {
            throw SwctrError(.invalidArgument, "invalid --checksum \(Excerpt.of(checksum)): want sha256:<64 hex digits>")
        }
        let path = dir + "/download-" + String(Digest.hex(Digest.of(Array(url.utf8))).prefix(16))
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        var mtime: timespec?
        do {
            let request = HTTPClientRequest(url: url)
            let response = try await client.execute(request, timeout: .minutes(10))
            guard response.status.code == 200 else {
                throw SwctrError(.notFound, "ADD \(Excerpt.of(url)): the server answered \(response.status.code) \(response.status.reasonPhrase)")
            }
            if let modified = response.headers.first(name: "Last-Modified") { mtime = Self.httpDate(modified) }
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw TreeArchive.sys("create \(path)") }
            defer { close(fd) }
            for try await chunk in response.body {
                try FileIO.writeAll(fd, chunk.readableBytesView, what: path)
            }
            try await client.shutdown()
        } catch {
            try? await client.shutdown()
            if let e = error as? SwctrError { throw e }
            throw SwctrError(.notFound, "ADD \(Excerpt.of(url)): \(error)")
        }
        if let checksum {
            let got = try ImageComposer.fileDigest(path).digest
            guard got == checksum else {
                throw SwctrError(.invalidArgument, "ADD \(Excerpt.of(url)): digest mismatch: --checksum says \(checksum), the download is \(got)")
            }
        }
        var name = url
        if let q = name.firstIndex(where: { $0 == "?" || $0 == "#" }) { name = String(name[..<q]) }
        let last = name.split(separator: "/").last.map(String.init) ?? ""
        return (path, last.contains(":") || last.isEmpty ? "download" : last, mtime)
    }

    /// "Tue, 15 Nov 1994 08:12:31 GMT".
    static func httpDate(_ text: String) -> timespec? {
        let f = text.split(separator: " ")
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        guard f.count == 6, let day = Int32(f[1]), let month = months.firstIndex(of: String(f[2])), let year = Int32(f[3]) else { return nil }
        let hms = f[4].split(separator: ":").compactMap { Int32($0) }
        guard hms.count == 3 else { return nil }
        var parts = tm()
        parts.tm_year = year - 1900
        parts.tm_mon = Int32(month)
        parts.tm_mday = day
        parts.tm_hour = hms[0]
        parts.tm_min = hms[1]
        parts.tm_sec = hms[2]
        return timespec(tv_sec: timegm(&parts), tv_nsec: 0)
    }
}
