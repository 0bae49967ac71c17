import Database
import FoundationEssentials
import HostOS
import Images

/// The build cache outlives builds: records of steps that made layers (rows in the store's
/// database, whose layers the store keeps while a record names them) and the directories of
/// RUN --mount=type=cache. `builder prune` and `system prune` remove them.
public enum BuildCache {
    public struct Usage: Sendable {
        public var records: Int
        /// Bytes of the cache mounts' directories.
        public var mountBytes: Int64
    }

    public static func usage(_ store: ImageStore) -> Usage {
        let records = (try? store.database.buildCacheRecords().count) ?? 0
        return Usage(records: records, mountBytes: ImageStore.diskUsage(store.root + "/buildcache"))
    }

    /// Removes the records (those unused for `olderThan` seconds, or all), then the layers only
    /// they kept; with `mounts`, the cache mounts' directories too. How many records went.
    @discardableResult
    public static func prune(_ store: ImageStore, olderThan: Double? = nil, mounts: Bool) throws(SwctrError) -> Int {
        do {
            return try store.exclusively { () throws -> Int in
                let removed = try store.database.deleteBuildCache(before: olderThan.map { Date().timeIntervalSince1970 - $0 })
                try store.collectGarbage()
                if mounts { FileIO.removeTree(store.root + "/buildcache") }
                return removed
            }
        } catch let e as SwctrError {
            throw e
        } catch {
            throw SwctrError(.failure, "prune the build cache: \(error)")
        }
    }
}
