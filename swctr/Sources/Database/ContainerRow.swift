import GRDB

/// One container as the store records it: what it was created from. What it is doing now
/// (running, exit code, health) is the monitor's `state.json` next to its files.
public struct ContainerRow: Codable, Sendable, FetchableRecord, PersistableRecord, Equatable {
    public static let databaseTableName = "container"
    /// 64 hex digits.
    public var id: String
    /// Unique (the database refuses a second row with the same name).
    public var name: String
    /// The image as given (`busybox`, a full reference, or an ID).
    public var image: String
    /// The image's ID: the config digest (`sha256:…`).
    public var imageID: String
    public var created: Double
    /// The creation options as JSON (Containers.ContainerConfig).
    public var config: String

    public init(id: String, name: String, image: String, imageID: String, created: Double, config: String) {
        self.id = id
        self.name = name
        self.image = image
        self.imageID = imageID
        self.created = created
        self.config = config
    }
}

extension StoreDatabase {
    public func containers() throws -> [ContainerRow] {
        try queue.read { db in try ContainerRow.order(Column("created")).fetchAll(db) }
    }

    /// Inserts a new row; a name already taken is `.conflict` naming the container that has it.
    public func insert(_ row: ContainerRow) throws {
        do {
            try queue.write { db in try row.insert(db) }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            let holder = (try? queue.read { db in try ContainerRow.filter(Column("name") == row.name).fetchOne(db) })??.id ?? "?"
            throw SwctrError(.conflict, "Conflict. The container name \"/\(row.name)\" is already in use by container \"\(holder)\". You have to remove (or rename) that container to be able to reuse that name.")
        }
    }

    public func update(_ row: ContainerRow) throws {
        do {
            try queue.write { db in try row.update(db) }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            throw SwctrError(.conflict, "Error when allocating new name: Conflict. The container name \"/\(row.name)\" is already in use.")
        }
    }

    public func deleteContainer(_ id: String) throws {
        _ = try queue.write { db in try ContainerRow.deleteOne(db, key: id) }
    }
}
