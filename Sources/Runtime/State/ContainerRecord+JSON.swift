import JSON
import OCI

/// state.json and intent.json read and written member by member. Every command reads the state,
/// and Codable's generic containers cost more runtime type lookups than the rest of `state` does
/// (bench/HISTORY.md); the members and their names are those the Codable forms had, so files
/// written by earlier versions read the same.
extension ContainerRecord {
    init(json fields: JSONObjectReader) throws(JSONError) {
        id = try fields.string("id")
        bundle = try fields.string("bundle")
        rootfs = try fields.string("rootfs")
        guard let pid = try fields.optionalInteger("pid", as: Int64.self), let narrow = Int32(exactly: pid) else {
            throw JSONError("pid", "required field is missing or out of range")
        }
        self.pid = narrow
        guard let start = try fields.optionalInteger("pidStartTime", as: UInt64.self) else { throw JSONError("pidStartTime", "required field is missing") }
        pidStartTime = start
        created = try fields.string("created")
        owner = try fields.string("owner")
        annotations = try fields.optionalStringMap("annotations")
        guard let paths = try fields.optionalStringMap("cgroupPaths") else { throw JSONError("cgroupPaths", "required field is missing") }
        cgroupPaths = paths
        hooks = try fields.optionalObject("hooks").map { (h: JSONObjectReader) throws(JSONError) in try Hooks(json: h) }
        namespacePaths = try fields.optionalStringMap("namespacePaths")
        rootless = try fields.optionalBool("rootless")
        ownedCgroups = try fields.optionalStrings("ownedCgroups")
        pidNamespace = try fields.optionalInteger("pidNamespace", as: UInt64.self)
        hasProcess = try fields.optionalBool("hasProcess")
        hostRootfsMount = try fields.optionalObject("hostRootfsMount").map { (m: JSONObjectReader) throws(JSONError) in try HostRootfsMount(json: m) }
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
    init(json fields: JSONObjectReader) throws(JSONError) {
        cgroupPaths = try fields.optionalStringMap("cgroupPaths") ?? [:]
        ownedCgroups = try fields.optionalStrings("ownedCgroups") ?? []
        hostRootfsMount = try fields.optionalObject("hostRootfsMount").map { (m: JSONObjectReader) throws(JSONError) in try HostRootfsMount(json: m) }
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
    init(json fields: JSONObjectReader) throws(JSONError) {
        rootfs = try fields.string("rootfs")
        mountIDBelow = try fields.optionalInteger("mountIDBelow", as: Int.self)
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
