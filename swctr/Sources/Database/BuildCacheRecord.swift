import GRDB

/// One cached build step: the state a Dockerfile instruction left, found again by its key (a
/// digest over the parent step's key, the instruction after substitution, the build args it saw
/// and, for COPY and ADD, the content of its sources).
public struct BuildCacheRecord: Codable, Sendable, FetchableRecord, PersistableRecord, Equatable {
    public static let databaseTableName = "buildcache"
    public var key: String
    /// The layer the step made, as JSON ({mediaType, digest, diffID, size}); "" for a step that
    /// only changed the config.
    public var layer: String
    /// The step's history entry (created, created_by, …), as JSON: the step's time is the one it
    /// first ran at, so a build found whole in the cache makes the same image ID again.
    public var history: String
    public var created: Double
    public var lastUsed: Double

    public init(key: String, layer: String, history: String, created: Double, lastUsed: Double) {
        self.key = key
        self.layer = layer
        self.history = history
        self.created = created
        self.lastUsed = lastUsed
    }
}

extension StoreDatabase {
    public func buildCache(_ key: String) throws -> BuildCacheRecord? {
        try queue.read { db in try BuildCacheRecord.fetchOne(db, key: key) }
    }

    public func buildCacheRecords() throws -> [BuildCacheRecord] {
        try queue.read { db in try BuildCacheRecord.fetchAll(db) }
    }

    public func saveBuildCache(_ r: BuildCacheRecord) throws {
        try queue.write { db in try r.save(db) }
    }

    public func touchBuildCache(_ key: String, at time: Double) throws {
        try queue.write { db in
            try db.execute(sql: "UPDATE buildcache SET lastUsed = ? WHERE key = ?", arguments: [time, key])
        }
    }

    /// Removes every record (or those last used before `before`); how many went.
    @discardableResult
    public func deleteBuildCache(before: Double? = nil) throws -> Int {
        try queue.write { db in
            if let before { return try BuildCacheRecord.filter(Column("lastUsed") < before).deleteAll(db) }
            return try BuildCacheRecord.deleteAll(db)
        }
    }
}
