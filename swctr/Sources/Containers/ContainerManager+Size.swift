import Database
import Images

/// `ps -s`: what a container wrote (its upper directory) and what its image holds.
public struct ContainerSize: Sendable, Equatable {
    public var own: UInt64
    public var image: UInt64
}

extension ContainerManager {
    public func size(of row: ContainerRow) -> ContainerSize {
        let own = ImageStore.diskUsage(directory(row.id) + "/upper")
        let image = (try? imageRecord(of: row))?.size ?? 0
        return ContainerSize(own: UInt64(max(0, own)), image: UInt64(max(0, image)))
    }
}
