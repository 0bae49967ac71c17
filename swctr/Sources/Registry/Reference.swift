/// An image reference as Docker and podman read it: `busybox` is
/// `docker.io/library/busybox:latest`; a first component with a dot, a colon or `localhost` is a
/// registry host; `@sha256:...` pins a digest.
public struct ImageReference: Sendable, Equatable, CustomStringConvertible {
    public var registry: String
    public var repository: String
    public var tag: String?
    public var digest: String?

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    public init(parsing text: String) throws(Invalid) {
        var rest = Substring(text)
        if let at = rest.firstIndex(of: "@") {
            let d = String(rest[rest.index(after: at)...])
            guard Digest.isValid(d) else { throw Invalid(description: "invalid digest in reference \"\(text)\": \(d)") }
            digest = d
            rest = rest[..<at]
        }
        var parts = rest.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if parts.count > 1, parts[0].contains(".") || parts[0].contains(":") || parts[0] == "localhost" {
            registry = parts.removeFirst()
        } else {
            registry = "docker.io"
        }
        guard var last = parts.popLast(), !last.isEmpty else {
            throw Invalid(description: "invalid reference \"\(text)\": empty repository")
        }
        if let colon = last.lastIndex(of: ":") {
            tag = String(last[last.index(after: colon)...])
            last = String(last[..<colon])
        }
        parts.append(last)
        if registry == "docker.io" && parts.count == 1 { parts.insert("library", at: 0) }
        repository = parts.joined(separator: "/")
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789._-/")
        guard !repository.isEmpty, repository.allSatisfy({ allowed.contains($0) }),
              !repository.hasPrefix("/"), !repository.hasSuffix("/"), !repository.contains("//") else {
            throw Invalid(description: "invalid reference \"\(text)\": repository must be lowercase letters, digits and . _ - /")
        }
        if let tag, tag.isEmpty || tag.count > 128 || !tag.allSatisfy({ $0.isLetter || $0.isNumber || "._-".contains($0) }) {
            throw Invalid(description: "invalid tag in reference \"\(text)\": \(tag)")
        }
        if tag == nil && digest == nil { tag = "latest" }
    }

    /// The name images are stored and listed under.
    public var name: String { "\(registry)/\(repository)" }
    public var description: String {
        var s = name
        if let tag { s += ":\(tag)" }
        if let digest { s += "@\(digest)" }
        return s
    }
    /// What goes in `/v2/<name>/manifests/<reference>`.
    public var manifestReference: String { digest ?? tag ?? "latest" }
    /// Docker Hub's API lives on another host than its name.
    public var apiHost: String { registry == "docker.io" ? "registry-1.docker.io" : registry }
}
