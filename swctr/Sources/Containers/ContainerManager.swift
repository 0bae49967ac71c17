import Database
import Glibc
import HostOS
import Images
import JSON
import Monitor
import OCI
import Registry
import RuntimeClient

/// The container manager: containers as database rows, a directory each under
/// `<root>/containers/<id>` (overlay upper/work/rootfs, the OCI bundle, the monitor's files),
/// run by the OCI runtime under a monitor that outlives the CLI. One file per operation
/// (`ContainerManager+Create.swift`, `+Start`, `+Stop`, `+Remove`, `+Exec`, `+List`, …).
///
/// Locking: the database serialises row changes (a unique name can be taken once); every
/// operation that changes one container's files or processes holds that container's flock
/// (`<dir>/lock`), so `rm -f` during `start` waits for it instead of racing it.
public final class ContainerManager: Sendable {
    public let store: ImageStore
    public let runtime: any ContainerRuntime
    /// The runtime binary and its state root (the monitor runs the runtime itself).
    public let runtimeBinary: String
    public let runtimeRoot: String
    public let monitorBinary: String
    /// swctr itself, for the monitor's exit command (`container cleanup`).
    public let swctrBinary: String

    public init(store: ImageStore, runtime: any ContainerRuntime, runtimeBinary: String, runtimeRoot: String,
                monitorBinary: String, swctrBinary: String) {
        self.store = store
        self.runtime = runtime
        self.runtimeBinary = runtimeBinary
        self.runtimeRoot = runtimeRoot
        self.monitorBinary = monitorBinary
        self.swctrBinary = swctrBinary
    }

    public var database: StoreDatabase { store.database }

    public func directory(_ id: String) -> String { "\(store.root)/containers/\(id)" }
    public func rootfs(_ id: String) -> String { directory(id) + "/rootfs" }
    public func logPath(_ id: String) -> String { directory(id) + "/\(id)-json.log" }

    /// A container by full id, unique id prefix or name (Docker's lookup order).
    public func find(_ ref: String) throws(SwctrError) -> ContainerRow {
        let rows: [ContainerRow]
        do { rows = try database.containers() } catch { throw SwctrError(.failure, "\(error)") }
        if let exact = rows.first(where: { $0.id == ref }) { return exact }
        let name = ref.hasPrefix("/") ? String(ref.dropFirst()) : ref
        if let named = rows.first(where: { $0.name == name }) { return named }
        let matches = ref.allSatisfy(\.isHexDigit) ? rows.filter { $0.id.hasPrefix(ref) } : []
        if matches.count == 1 { return matches[0] }
        if matches.count > 1 {
            throw SwctrError(.invalidArgument, "multiple IDs found with provided prefix: \(ref)")
        }
        throw SwctrError(.notFound, "No such container: \(ref)")
    }

    /// The image a container was made from: by its ID first (the tag may have moved since).
    public func imageRecord(of row: ContainerRow) throws(SwctrError) -> ImageRecord {
        let all = (try? store.images()) ?? []
        guard let record = all.first(where: { $0.id == row.imageID }) ?? all.first(where: { $0.name == row.image }) else {
            throw SwctrError(.notFound, "No such image: \(row.image)")
        }
        return record
    }

    public func config(of row: ContainerRow) -> ContainerConfig {
        (try? JSONValueDecoder().decode(ContainerConfig.self, from: Array(row.config.utf8))) ?? ContainerConfig()
    }

    /// Runs `body` holding the container's lock.
    func locked<T>(_ id: String, _ body: () throws(SwctrError) -> T) throws(SwctrError) -> T {
        let fd = open(directory(id) + "/lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SwctrError(.notFound, "No such container: \(id)") }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 && errno == EINTR {}
        return try body()
    }

    /// The runtime's error as swctr's: a missing or unrunnable command keeps Docker's 127/126.
    static func translate(_ error: RuntimeCallError) -> SwctrError {
        switch error.kind {
        case .commandNotFound: SwctrError(.commandNotFound, error.message)
        case .commandNotExecutable: SwctrError(.commandNotExecutable, error.message)
        case .noSuchContainer: SwctrError(.notFound, error.message)
        default: SwctrError(.runtimeFailure, error.message)
        }
    }
}
