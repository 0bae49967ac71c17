import JSON
import OCI

/// state.json and intent.json read and written member by member. Every command reads the state,
/// and Codable's generic containers cost more runtime type lookups than the rest of `state` does
/// (bench/HISTORY.md); the members and their names are those the Codable forms had, so files
/// written by earlier versions read the same.
extension ContainerRecord {
    init(json fields: JSONFields) throws(JSONError) {
        id = try fields.string("id")
        bundle = try fields.string("bundle")
        rootfs = try fields.string("rootfs")
        guard let pid = try fields.optionalInt64("pid"), let narrow = Int32(exactly: pid) else {
            throw JSONError("pid", "required field is missing or out of range")
        }
        self.pid = narrow
        guard let start = try fields.optionalUInt64("pidStartTime") else { throw JSONError("pidStartTime", "required field is missing") }
        pidStartTime = start
        created = try fields.string("created")
        owner = try fields.string("owner")
        annotations = try fields.optionalStringMap("annotations")
        guard let paths = try fields.optionalStringMap("cgroupPaths") else { throw JSONError("cgroupPaths", "required field is missing") }
        cgroupPaths = paths
        hooks = try fields.optionalObject("hooks").map { (h: JSONFields) throws(JSONError) in try Hooks(json: h) }
        namespacePaths = try fields.optionalStringMap("namespacePaths")
        rootless = try fields.optionalBool("rootless")
        ownedCgroups = try fields.optionalStrings("ownedCgroups")
        pidNamespace = try fields.optionalUInt64("pidNamespace")
        hasProcess = try fields.optionalBool("hasProcess")
        hostRootfsMount = try fields.optionalObject("hostRootfsMount").map { (m: JSONFields) throws(JSONError) in try HostRootfsMount(json: m) }
        config = nil
    }

    var json: JSONValue {
        var o = JSONObjectBuilder()
        o.set("id", id)
        o.set("bundle", bundle)
        o.set("rootfs", rootfs)
        o.set("pid", Int64(pid))
        o.set("pidStartTime", pidStartTime)
        o.set("created", created)
        o.set("owner", owner)
        o.set("annotations", annotations)
        o.set("cgroupPaths", cgroupPaths)
        o.set("hooks", hooks?.json)
        o.set("namespacePaths", namespacePaths)
        o.set("rootless", rootless)
        o.set("ownedCgroups", ownedCgroups)
        o.set("pidNamespace", pidNamespace)
        o.set("hasProcess", hasProcess)
        o.set("hostRootfsMount", hostRootfsMount?.json)
        return o.value
    }
}

extension CreateIntent {
    init(json fields: JSONFields) throws(JSONError) {
        cgroupPaths = try fields.optionalStringMap("cgroupPaths") ?? [:]
        ownedCgroups = try fields.optionalStrings("ownedCgroups") ?? []
        hostRootfsMount = try fields.optionalObject("hostRootfsMount").map { (m: JSONFields) throws(JSONError) in try HostRootfsMount(json: m) }
    }

    var json: JSONValue {
        var o = JSONObjectBuilder()
        o.set("cgroupPaths", cgroupPaths)
        o.set("ownedCgroups", ownedCgroups)
        o.set("hostRootfsMount", hostRootfsMount?.json)
        return o.value
    }
}

extension HostRootfsMount {
    init(json fields: JSONFields) throws(JSONError) {
        rootfs = try fields.string("rootfs")
        mountIDBelow = try fields.optionalInt64("mountIDBelow").map { Int($0) }
    }

    var json: JSONValue {
        var o = JSONObjectBuilder()
        o.set("rootfs", rootfs)
        o.set("mountIDBelow", mountIDBelow.map { Int64($0) })
        return o.value
    }
}

extension Hooks {
    static let kinds = ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"]

    init(json fields: JSONFields) throws(JSONError) {
        var lists: [String: [Hook]] = [:]
        for kind in Self.kinds {
            guard let items = try fields.optionalObjects(kind) else { continue }
            var hooks: [Hook] = []
            for h in items {
                hooks.append(Hook(path: try h.string("path"), args: try h.optionalStrings("args"), env: try h.optionalStrings("env"),
                                  timeout: try h.optionalInt64("timeout").map { Int($0) }))
            }
            lists[kind] = hooks
        }
        self.init(prestart: lists["prestart"], createRuntime: lists["createRuntime"], createContainer: lists["createContainer"],
                  startContainer: lists["startContainer"], poststart: lists["poststart"], poststop: lists["poststop"])
    }

    var json: JSONValue {
        var o = JSONObjectBuilder()
        for (kind, list) in zip(Self.kinds, [prestart, createRuntime, createContainer, startContainer, poststart, poststop]) {
            o.set(kind, list.map { hooks in JSONValue.array(hooks.map { h in
                var e = JSONObjectBuilder()
                e.set("path", h.path)
                e.set("args", h.args)
                e.set("env", h.env)
                e.set("timeout", h.timeout.map { Int64($0) })
                return e.value
            }) })
        }
        return o.value
    }
}
