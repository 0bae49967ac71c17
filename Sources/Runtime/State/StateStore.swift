import JSON
import HostOS
import Glibc
import CShim
import OCI

/// The `--root` directory: one directory per container holding state.json, the exec fifo and
/// the lock. Every change happens under the container's flock; state.json is replaced atomically.
public struct StateStore: Sendable {
    public let root: String

    public init(root: String) { self.root = root }

    public func directory(_ id: String) -> String { "\(root)/\(id)" }
    public func statePath(_ id: String) -> String { "\(root)/\(id)/state.json" }
    /// Compiled seccomp programs; '@' cannot appear in a container id, so no container collides.
    public var seccompCacheDir: String { "\(root)/@seccomp-cache" }
    public func fifoPath(_ id: String) -> String { "\(root)/\(id)/exec.fifo" }

    /// runc's rule: letters, digits, `_ + - .`, and not `.` or `..`.
    public static func validate(id: String) throws(RuntimeError) {
        if id.isEmpty { throw RuntimeError("container id cannot be empty") }
        let ok = id.unicodeScalars.allSatisfy { s in
            (s.value < 128) && (s.properties.isAlphabetic || ("0"..."9").contains(s) || "_+-.".unicodeScalars.contains(s))
        }
        if !ok || id == "." || id == ".." || id.count > 1024 {
            throw RuntimeError("invalid container id format: \(id)")
        }
    }

    /// Creates the container's directory; fails if the id is taken.
    public func reserve(_ id: String) throws(RuntimeError) -> ContainerLock {
        try Self.validate(id: id)
        try FileIO.mkdirAll(root, mode: 0o711)
        if mkdir(directory(id), 0o711) != 0 {
            if errno == EEXIST { throw RuntimeError("container with id exists: \(id)") }
            throw .sys("create state directory \(directory(id))")
        }
        return try ContainerLock(directory: directory(id))
    }

    /// Locks an existing container; `nil` if it does not exist.
    public func lock(_ id: String) throws(RuntimeError) -> ContainerLock? {
        try Self.validate(id: id)
        guard FileIO.isDirectory(directory(id)) else { return nil }
        return try ContainerLock(directory: directory(id))
    }

    public func load(_ id: String) throws(RuntimeError) -> ContainerRecord? {
        guard FileIO.exists(statePath(id)) else { return nil }
        let bytes = try FileIO.read(statePath(id))
        do {
            return try ContainerRecord(json: JSONObjectReader(JSONParser.parse(bytes)))
        } catch {
            throw RuntimeError("corrupt state file \(statePath(id)): \(error)")
        }
    }

    /// Writes the state, and the config when the record carries one (create, update). The config
    /// goes first: a state file never points at a missing config.
    public func save(_ record: ContainerRecord) throws(RuntimeError) {
        let encoder = JSONValueEncoder()
        do {
            if let bytes = record.configBytes {
                try FileIO.writeAtomic(configPath(record.id), bytes, mode: 0o600)
            } else if let config = record.config {
                try FileIO.writeAtomic(configPath(record.id), try encoder.encode(config), mode: 0o600)
            }
            try FileIO.writeAtomic(statePath(record.id), Array(record.json.serialized().utf8), mode: 0o600)
        } catch let error as RuntimeError {
            throw error
        } catch {
            throw RuntimeError("encode state of \(record.id): \(error)")
        }
    }

    public func configPath(_ id: String) -> String { "\(root)/\(id)/config.json" }
    public func intentPath(_ id: String) -> String { "\(root)/\(id)/intent.json" }

    public func saveIntent(_ intent: CreateIntent, id: String) throws(RuntimeError) {
        try FileIO.writeAtomic(intentPath(id), Array(intent.json.serialized().utf8), mode: 0o600)
    }

    /// What a create that did not finish had recorded; nil when there is none.
    public func loadIntent(_ id: String) -> CreateIntent? {
        guard let bytes = try? FileIO.read(intentPath(id)) else { return nil }
        return try? CreateIntent(json: JSONObjectReader(JSONParser.parse(bytes)))
    }

    public func removeIntent(_ id: String) { unlink(intentPath(id)) }

    /// The config a container was created from (as last changed by update).
    public func loadConfig(_ id: String) throws(RuntimeError) -> Spec {
        let bytes = try FileIO.read(configPath(id))
        do {
            return try Spec.decode(bytes)
        } catch {
            throw RuntimeError("corrupt config copy \(configPath(id)): \(error)")
        }
    }

    public func remove(_ id: String) { FileIO.removeTree(directory(id)) }

    public func ids() -> [String] {
        FileIO.listDirectory(root).filter { name in
            (try? Self.validate(id: name)) != nil && FileIO.isDirectory(directory(name))
        }
    }
}

/// An exclusive flock on a container directory, released when closed or when the process exits.
public final class ContainerLock {
    private(set) var fd: Int32

    init(directory: String) throws(RuntimeError) {
        fd = try check("open \(directory)") { cshim_open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0) }
        do {
            try check("lock \(directory)") { flock(fd, LOCK_EX) }
        } catch {
            close(fd)
            throw error
        }
    }

    public func release() {
        if fd >= 0 { close(fd); fd = -1 }
    }

    deinit { release() }
}
