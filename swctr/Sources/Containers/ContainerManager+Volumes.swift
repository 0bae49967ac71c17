import Database
import FoundationEssentials
import Glibc
import HostOS
import Images
import JSON
import OCI
import Registry

/// Named and anonymous volumes: a row each, data in `<root>/volumes/<name>/_data`. A container's
/// mounts name their volumes; a volume is in use while any container (running or not) does.
extension ContainerManager {
    public var volumeRoot: String { store.root + "/volumes" }
    public func volumeData(_ name: String) -> String { "\(volumeRoot)/\(name)/_data" }

    /// The local driver's options: a mount of `type` from `device` with options `o`.
    static let volumeOptionKeys: Set<String> = ["type", "device", "o"]

    /// `volume create [NAME]` (nil: a generated name); an existing name is returned as it is, as Docker does.
    public func createVolume(name: String?, labels: [String: String] = [:], options: [String: String] = [:],
                             anonymous: Bool = false) throws(SwctrError) -> (VolumeRecord, Bool) {
        let name = name ?? Names.newID()
        try MountSpec.checkVolumeName(name, hint: false)
        for key in options.keys where !Self.volumeOptionKeys.contains(key) {
            throw SwctrError(.invalidArgument, "invalid option key: \(Excerpt.of(key)) (the local driver takes type, device and o)")
        }
        if options["type"] != nil && options["device"] == nil {
            throw SwctrError(.invalidArgument, "volume option type=\(options["type"] ?? "") needs device=")
        }
        func object(_ d: [String: String]) -> String {
            var o = JSONObject()
            for (k, v) in d.sorted(by: { $0.key < $1.key }) { o.set(k, .string(v)) }
            return JSONValue.object(o).serialized()
        }
        let record = VolumeRecord(name: name, labels: object(labels), options: object(options),
                                  created: Date().timeIntervalSince1970, anonymous: anonymous)
        do {
            try FileIO.mkdirAll(volumeData(name), mode: 0o755)
            if try database.insertVolume(record) { return (record, true) }
            return (try database.volume(name) ?? record, false)
        } catch let e as SwctrError {
            throw e
        } catch {
            throw SwctrError(.failure, "create volume \(name): \(error)")
        }
    }

    public func volumes() throws(SwctrError) -> [VolumeRecord] {
        do { return try database.volumes() } catch { throw SwctrError(.failure, "\(error)") }
    }

    public func volume(_ name: String) throws(SwctrError) -> VolumeRecord {
        let found: VolumeRecord?
        do { found = try database.volume(name) } catch { throw SwctrError(.failure, "\(error)") }
        guard let found else { throw SwctrError(.notFound, "get \(name): no such volume") }
        return found
    }

    /// Ids of the containers whose mounts name the volume.
    public func volumeUsers(_ name: String) -> [String] {
        ((try? database.containers()) ?? []).filter { row in
            (config(of: row).mounts ?? []).contains { $0.type == .volume && $0.source == name }
        }.map(\.id)
    }

    /// `volume rm [-f]`: a volume in use only with force.
    public func removeVolume(_ name: String, force: Bool) throws(SwctrError) {
        _ = try volume(name)
        let users = volumeUsers(name)
        if !users.isEmpty && !force {
            throw SwctrError(.conflict, "remove \(name): volume is in use - [\(users.joined(separator: ", "))]")
        }
        FileIO.removeTree("\(volumeRoot)/\(name)")
        do { try database.deleteVolume(name) } catch { throw SwctrError(.failure, "\(error)") }
    }

    /// `volume prune [-a]`: unused anonymous volumes (with `all`, every unused one); names and bytes freed.
    public func pruneVolumes(all: Bool) throws(SwctrError) -> [(String, Int64)] {
        var removed: [(String, Int64)] = []
        for v in try volumes() where (all || v.anonymous) && volumeUsers(v.name).isEmpty {
            let size = ImageStore.diskUsage("\(volumeRoot)/\(v.name)")
            try removeVolume(v.name, force: false)
            removed.append((v.name, size))
        }
        return removed
    }

    // MARK: - at create and removal

    /// Names every volume of the container (anonymous ones get a new name, image VOLUMEs one
    /// each, `--volumes-from` the other container's), creating those missing, and checks the
    /// mounts. Returns the volumes this call created (removed again if create fails).
    func resolveMounts(_ options: inout ContainerConfig, image: ImageConfig.Config?, volumesFrom: [String]) throws(SwctrError) -> [String] {
        var mounts = options.mounts ?? []
        for spec in volumesFrom {
            let parts = spec.split(separator: ":").map(String.init)
            guard let ref = parts.first, parts.count <= 2, parts.count == 1 || ["ro", "rw"].contains(parts[1]) else {
                throw SwctrError(.invalidArgument, "invalid --volumes-from \(Excerpt.of(spec)): want CONTAINER[:ro|rw]")
            }
            let other = try find(ref)
            for var m in config(of: other).mounts ?? [] where m.type != .tmpfs && !mounts.contains(where: { $0.target == m.target }) {
                if parts.count == 2 { m.readOnly = parts[1] == "ro" }
                m.anonymous = false  // it belongs to the other container
                mounts.append(m)
            }
        }
        for path in (image?.Volumes ?? [:]).keys.sorted() where !mounts.contains(where: { $0.target == path }) {
            var m = MountSpec(type: .volume, source: "", target: path)
            m.anonymous = true
            mounts.append(m)
        }
        var targets = Set<String>()
        for m in mounts where !targets.insert(Self.clean(m.target)).inserted {
            throw SwctrError(.invalidArgument, "Duplicate mount point: \(m.target)")
        }
        var created: [String] = []
        do throws(SwctrError) {
            for i in mounts.indices {
                switch mounts[i].type {
                case .volume:
                    let (v, made) = try createVolume(name: mounts[i].source.isEmpty ? nil : mounts[i].source, anonymous: mounts[i].anonymous)
                    mounts[i].source = v.name
                    if made { created.append(v.name) }
                case .bind:
                    if !FileIO.exists(mounts[i].source) {
                        guard mounts[i].createHostPath else {
                            throw SwctrError(.invalidArgument, "invalid mount config for type \"bind\": bind source path does not exist: \(mounts[i].source)")
                        }
                        do { try FileIO.mkdirAll(mounts[i].source) } catch {
                            throw SwctrError(.invalidArgument, "create the bind source \(mounts[i].source): \(error.message)")
                        }
                    }
                case .tmpfs: break
                }
            }
        } catch {
            for name in created { try? removeVolume(name, force: true) }
            throw error
        }
        options.mounts = mounts
        return created
    }

    /// Docker's copy-up: a new, empty volume mounted over a directory of the image starts with
    /// that directory's files, owner and mode.
    func copyUp(_ options: ContainerConfig, rootfs: String) throws(SwctrError) {
        for m in options.mounts ?? [] where m.type == .volume && !m.noCopy {
            let data = volumeData(m.source)
            guard FileIO.listDirectory(data).isEmpty, (try? volume(m.source))?.options == "{}" else { continue }
            let root = open(rootfs, RootedPath.O_PATH | O_DIRECTORY | O_CLOEXEC)
            guard root >= 0 else { continue }
            defer { close(root) }
            let dir = RootedPath.open(m.target, at: root, flags: O_RDONLY | O_DIRECTORY)
            guard dir >= 0 else { continue }  // nothing in the image there
            var st = stat()
            fstat(dir, &st)
            close(dir)
            _ = try Self.transfer(from: rootfs, m.target + "/.", shownAs: m.target, to: "/", data, streamFD: -1,
                                  followLink: false, owner: nil, scratch: store.temporary("copyup"))
            chown(data, st.st_uid, st.st_gid)
            chmod(data, st.st_mode & 0o7777)
        }
    }

    /// The OCI mounts for the container's volumes, binds and tmpfs, parents before children.
    func ociMounts(_ options: ContainerConfig) throws(SwctrError) -> [Mount] {
        var out: [Mount] = []
        for m in (options.mounts ?? []).sorted(by: { $0.target.split(separator: "/").count < $1.target.split(separator: "/").count }) {
            var driverOptions: [String: String] = [:]
            if m.type == .volume, let v = try? volume(m.source),
               case .object(let o)? = try? JSONParser.parse(Array(v.options.utf8)) {
                for (k, val) in zip(o.keys, o.values) { if case .string(let s) = val { driverOptions[k] = s } }
            }
            out.append(Self.ociMount(m, volumeData: m.type == .volume ? volumeData(m.source) : nil, driverOptions: driverOptions))
        }
        return out
    }

    /// One mount as the OCI config has it (pure).
    public static func ociMount(_ m: MountSpec, volumeData: String?, driverOptions: [String: String] = [:]) -> Mount {
        let access = m.readOnly ? "ro" : "rw"
        switch m.type {
        case .tmpfs:
            var opts = ["nosuid", "nodev", "noexec"]
            if m.tmpfsOptions.contains("exec") { opts.removeAll { $0 == "noexec" } }
            opts += m.tmpfsOptions.filter { $0 != "exec" && $0 != "noexec" } + [access]
            return Mount(destination: m.target, type: "tmpfs", source: "tmpfs", options: opts)
        case .volume where driverOptions["type"] != nil:
            let o = driverOptions["o"].map { $0.split(separator: ",").map(String.init) } ?? []
            return Mount(destination: m.target, type: driverOptions["type"], source: driverOptions["device"], options: o + [access])
        case .volume, .bind:
            return Mount(destination: m.target, type: "bind", source: m.type == .bind ? m.source : volumeData,
                         options: ["rbind", access, m.propagation ?? "rprivate"])
        }
    }

    /// With `rm -v` and `--rm`: the container's anonymous volumes go with it.
    func removeAnonymousVolumes(_ options: ContainerConfig) {
        for m in options.mounts ?? [] where m.type == .volume && m.anonymous {
            if volumeUsers(m.source).isEmpty { try? removeVolume(m.source, force: true) }
        }
    }

    static func clean(_ path: String) -> String { "/" + path.split(separator: "/").joined(separator: "/") }
}
