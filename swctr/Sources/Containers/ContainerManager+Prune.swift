import Database
import Images

extension ContainerManager {
    /// `image prune` / `system prune`: untagged images (with `all`, every image) that no
    /// container was made from; returns the records removed. Holds the store exclusively, so a
    /// pull or create under way is not robbed of its layers.
    public func pruneImages(all: Bool) throws(SwctrError) -> [ImageRecord] {
        do {
            return try store.exclusively { () throws -> [ImageRecord] in
                let used = Set(try database.containers().map(\.imageID))
                let names = store.imagesInUse()
                let victims = try store.images().filter { r in
                    (all || r.name.hasPrefix("sha256:")) && !used.contains(r.id) && !names.contains(r.name)
                }
                for r in victims { try store.remove(r.name) }
                return victims
            }
        } catch let e as SwctrError {
            throw e
        } catch {
            throw SwctrError(.failure, "prune images: \(error)")
        }
    }
}
