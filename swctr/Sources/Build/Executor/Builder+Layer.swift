import Containers
import Database
import FoundationEssentials
import Glibc
import HostOS
import Images
import JSON

/// A step's workspace (an overlay over the stage's layers whose upper directory becomes the
/// step's layer) and the cache of steps that made layers.
extension Builder {
    /// Runs `body` in a fresh directory under the store's tmp/ (removed afterwards, its mounts
    /// first; what a killed build leaves there is swept at the next open of the store).
    func withStepDirectory<T>(_ body: (String) async throws(SwctrError) -> T) async throws(SwctrError) -> T {
        let dir = store.temporary("step")
        try Self.io { () throws(SystemError) in try FileIO.mkdirAll(dir + "/upper", mode: 0o755) }
        defer { Self.removeStepDirectory(dir) }
        return try await body(dir)
    }

    static func removeStepDirectory(_ dir: String) {
        // Every mount under it goes first (the step's rootfs, a COPY --from source).
        ImageStore.unmountUnder(dir)
        if !Snapshot.isMounted(dir + "/rootfs") { FileIO.removeTree(dir) }
    }

    /// A cached step: its layer (when it made one) and history entry go onto the state.
    func cached(_ key: String, _ state: inout StageState) -> Bool {
        guard !request.noCache, let row = try? store.database.buildCache(key) else { return false }
        var layer: ImageComposer.LayerDescriptor?
        if !row.layer.isEmpty {
            guard let l = try? JSONDecoder().decode(ImageComposer.LayerDescriptor.self, from: Data(row.layer.utf8)), store.hasBlob(l.digest),
                  (try? store.unpackLayer(blob: l.digest, diffID: l.diffID)) != nil else { return false }
            layer = l
        }
        guard case .object(let entry)? = try? JSONParser.parse(Array(row.history.utf8)), case .string(let created)? = entry["created"] else {
            return false
        }
        if let layer { state.layers.append(layer) }
        var history: [JSONValue] = []
        if case .array(let h)? = state.image["history"] { history = h }
        state.image.set("history", .array(history + [.object(entry)]))
        state.image.set("created", .string(created))
        state.key = key
        try? store.database.touchBuildCache(key, at: Date().timeIntervalSince1970)
        return true
    }

    /// After a step ran in `dir`: its upper directory as a layer (none when it changed nothing),
    /// recorded in the cache under `key` and put onto the state.
    func commitStep(_ dir: String, key: String, text: String, _ state: inout StageState) throws(SwctrError) {
        let upper = dir + "/upper"
        var layer: ImageComposer.LayerDescriptor?
        if !FileIO.listDirectory(upper).isEmpty {
            let made = try ImageComposer.layer(from: upper, store: store)
            do {
                if !store.hasBlob(made.digest) { try store.commit(made.path, to: store.blobPath(made.digest)) } else { unlink(made.path) }
                try store.unpackLayer(blob: made.digest, diffID: made.diffID)
            } catch {
                unlink(made.path)
                throw (error as? SwctrError) ?? SwctrError(.failure, "store the layer: \(error)")
            }
            layer = ImageComposer.LayerDescriptor(mediaType: ImageComposer.layerMediaType, digest: made.digest, diffID: made.diffID, size: made.size)
        }
        let now = Clock.rfc3339Now()
        var entry = JSONObject()
        entry.set("created", .string(now))
        entry.set("created_by", .string(text))
        entry.set("comment", .string("swctr build"))
        if layer == nil { entry.set("empty_layer", .bool(true)) }
        let time = Date().timeIntervalSince1970
        var layerJSON = ""
        if let layer, let bytes = try? JSONValueEncoder().encode(layer) { layerJSON = String(decoding: bytes, as: UTF8.self) }
        do {
            try store.database.saveBuildCache(BuildCacheRecord(key: key, layer: layerJSON, history: JSONValue.object(entry).serialized(),
                                                                created: time, lastUsed: time))
        } catch { throw SwctrError(.failure, "record the build cache: \(error)") }
        if let layer { state.layers.append(layer) }
        state.addHistory(text, emptyLayer: layer == nil, created: now)
        state.key = key
    }

    /// The stage's layers mounted at `dir/rootfs` (upper `dir/upper`), for COPY and ADD; an fd of
    /// the mounted rootfs for the in-root calls.
    func mountStep(_ dir: String, _ state: StageState) throws(SwctrError) -> Int32 {
        try Snapshot.prepare(dir)
        try Snapshot.mount(dir, layers: state.diffIDs, store: store)
        let fd = open(dir + "/rootfs", RootedPath.O_PATH | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw TreeArchive.sys("open \(dir)/rootfs") }
        return fd
    }
}
