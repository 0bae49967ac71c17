import FoundationEssentials
import GRDB

/// One image as `swctr images` lists it.
public struct ImageRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "image"
    /// Full reference with tag, e.g. `127.0.0.1:5000/busybox:latest`.
    public var name: String
    /// The manifest digest (what a pull resolved).
    public var digest: String
    /// The image config JSON.
    public var config: String
    /// diffIDs, bottom layer first, as a JSON array.
    public var layers: String
    /// Compressed size of all layers.
    public var size: Int64
    public var created: Double

    public init(name: String, digest: String, config: String, layers: String, size: Int64, created: Double) {
        self.name = name
        self.digest = digest
        self.config = config
        self.layers = layers
        self.size = size
        self.created = created
    }

    public var layerIDs: [String] { (try? JSONDecoder().decode([String].self, from: Data(layers.utf8))) ?? [] }
}

