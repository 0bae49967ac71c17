import GRDB
import Glibc

/// `<root>/swctr.db`: every record swctr keeps (images, containers, volumes, networks, the build cache) in one SQLite database,
/// changed only through migrations. Concurrent swctr processes share it: a writer waits for
/// another rather than failing, and a first open by several processes at once migrates once.
public final class StoreDatabase: Sendable {
    public let queue: DatabaseQueue

    public init(path: String) throws {
        var config = Configuration()
        config.busyMode = .timeout(30)
        queue = try DatabaseQueue(path: path, configuration: config)
        // Two processes opening a new store at once would both find the tables missing: the
        // migration runs under a lock of its own.
        let lock = open(path + ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard lock >= 0, flock(lock, LOCK_EX) == 0 else {
            throw SwctrError("lock \(path).lock: \(String(cString: strerror(errno)))")
        }
        defer { close(lock) }
        try Self.migrator.migrate(queue)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "image") { t in
                t.primaryKey("name", .text)
                t.column("digest", .text).notNull()
                t.column("config", .text).notNull()
                t.column("layers", .text).notNull()
                t.column("size", .integer).notNull()
                t.column("created", .double).notNull()
            }
        }
        migrator.registerMigration("v2 containers") { db in
            try db.create(table: "container") { t in
                t.primaryKey("id", .text)
                t.column("name", .text).notNull().unique()
                t.column("image", .text).notNull()
                t.column("imageID", .text).notNull()
                t.column("created", .double).notNull()
                t.column("config", .text).notNull()
            }
        }
        migrator.registerMigration("v3 volumes") { db in
            try db.create(table: "volume") { t in
                t.primaryKey("name", .text)
                t.column("driver", .text).notNull()
                t.column("labels", .text).notNull()
                t.column("options", .text).notNull()
                t.column("created", .double).notNull()
                t.column("anonymous", .boolean).notNull()
            }
        }
        migrator.registerMigration("v4 networks") { db in
            try db.create(table: "network") { t in
                t.primaryKey("name", .text)
                t.column("id", .text).notNull().unique()
                t.column("driver", .text).notNull()
                t.column("bridge", .text).notNull().unique()
                t.column("subnet", .text).notNull()
                t.column("gateway", .text).notNull()
                t.column("isInternal", .boolean).notNull()
                t.column("dns", .boolean).notNull()
                t.column("labels", .text).notNull()
                t.column("created", .double).notNull()
            }
        }
        migrator.registerMigration("v5 network options") { db in
            try db.alter(table: "network") { t in
                t.add(column: "ipRange", .text).notNull().defaults(to: "")
                t.add(column: "options", .text).notNull().defaults(to: "{}")
            }
        }
        migrator.registerMigration("v6 build cache") { db in
            try db.create(table: "buildcache") { t in
                t.primaryKey("key", .text)
                t.column("layer", .text).notNull()
                t.column("history", .text).notNull()
                t.column("created", .double).notNull()
                t.column("lastUsed", .double).notNull()
            }
        }
        return migrator
    }
}
