import Database

/// Where `cp` puts what it copies, by Docker's rules: a source is archived under one name and
/// unpacked into one directory. `cp c:/etc/hosts /tmp` makes /tmp/hosts, `cp c:/etc /tmp/x`
/// (x missing) makes /tmp/x with /etc's contents, `cp c:/etc/. /tmp/x` copies the contents
/// into an existing /tmp/x, and a missing parent or a directory onto a file is an error.
public struct CopyPlan: Sendable, Equatable {
    /// The directory the archive is unpacked into.
    public var directory: String
    /// The name of the source's entry in the archive ("" for a directory's contents).
    public var name: String

    public init(directory: String, name: String) {
        self.directory = directory
        self.name = name
    }

    /// What is at the destination, as the side that receives the copy sees it.
    public enum Destination: Sendable, Equatable { case missing, file, directory }

    public static func resolve(source: String, sourceIsDirectory: Bool, destination: String,
                               existing: Destination, parentExists: Bool) throws(SwctrError) -> CopyPlan {
        let contentsOnly = sourceIsDirectory && (source.hasSuffix("/.") || source == ".")
        let sourceName = lastComponent(source)
        switch existing {
        case .directory:
            return CopyPlan(directory: destination, name: contentsOnly ? "" : sourceName)
        case .file:
            if sourceIsDirectory { throw SwctrError(.invalidArgument, "cannot copy directory \(source) onto the file \(destination)") }
            return CopyPlan(directory: parent(destination), name: lastComponent(destination))
        case .missing:
            if destination.hasSuffix("/") && !sourceIsDirectory {
                throw SwctrError(.notFound, "no such directory: \(destination)")
            }
            guard parentExists else { throw SwctrError(.notFound, "no such directory: \(parent(destination))") }
            return CopyPlan(directory: parent(destination), name: lastComponent(destination))
        }
    }

    /// The last path component, ignoring trailing slashes and a final "/.".
    static func lastComponent(_ path: String) -> String {
        let parts = path.split(separator: "/").filter { $0 != "." }
        return parts.last.map(String.init) ?? "/"
    }

    static func parent(_ path: String) -> String {
        var parts = path.split(separator: "/", omittingEmptySubsequences: true)
        if !parts.isEmpty { parts.removeLast() }
        let joined = parts.joined(separator: "/")
        return path.hasPrefix("/") ? "/" + joined : (joined.isEmpty ? "." : joined)
    }
}
