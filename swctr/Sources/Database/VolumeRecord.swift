import GRDB

/// A named volume: its data lives in `<root>/volumes/<name>/_data`.
public struct VolumeRecord: Codable, Sendable, FetchableRecord, PersistableRecord, Equatable {
    public static let databaseTableName = "volume"
    public var name: String
    /// Always "local": swctr has no volume plugins.
    public var driver: String
    /// Labels and driver options (`-o type=tmpfs,device=tmpfs,o=size=64m`) as JSON objects.
    public var labels: String
    public var options: String
    public var created: Double
    /// Made for one container (`-v /path`, an image VOLUME) rather than by name.
    public var anonymous: Bool

    public init(name: String, driver: String = "local", labels: String = "{}", options: String = "{}", created: Double, anonymous: Bool) {
        self.name = name
        self.driver = driver
        self.labels = labels
        self.options = options
        self.created = created
        self.anonymous = anonymous
    }
}

extension StoreDatabase {
    public func volumes() throws -> [VolumeRecord] {
        try queue.read { db in try VolumeRecord.order(Column("name")).fetchAll(db) }
    }

    public func volume(_ name: String) throws -> VolumeRecord? {
        try queue.read { db in try VolumeRecord.fetchOne(db, key: name) }
    }

    /// Inserts the volume unless one of that name exists; true when this call made it.
    @discardableResult
    public func insertVolume(_ v: VolumeRecord) throws -> Bool {
        try queue.write { db in
            if try VolumeRecord.fetchOne(db, key: v.name) != nil { return false }
            try v.insert(db)
            return true
        }
    }

    public func deleteVolume(_ name: String) throws {
        _ = try queue.write { db in try VolumeRecord.deleteOne(db, key: name) }
    }
}
