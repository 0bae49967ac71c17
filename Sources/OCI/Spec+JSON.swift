import JSON

// config.json read member by member (JSONObjectReader) instead of through Codable: the same
// fields, in the same order (the first bad field is the one reported), with the same messages as
// JSONValueDecoder. Codable stays for writing a changed config and for tests; a test decodes the
// same documents both ways and compares.

extension Spec {
    public init(json r: JSONObjectReader) throws(JSONError) {
        ociVersion = try r.string("ociVersion")
        process = try r.optionalObject("process").map { (p: JSONObjectReader) throws(JSONError) in try Process(json: p) }
        root = try r.optionalObject("root").map { (o: JSONObjectReader) throws(JSONError) in try Root(json: o) }
        hostname = try r.optionalString("hostname")
        domainname = try r.optionalString("domainname")
        mounts = try r.optionalObjects("mounts") { (o: JSONObjectReader) throws(JSONError) in try Mount(json: o) }
        hooks = try r.optionalObject("hooks").map { (o: JSONObjectReader) throws(JSONError) in try Hooks(json: o) }
        annotations = try r.optionalStringMap("annotations")
        linux = try r.optionalObject("linux").map { (o: JSONObjectReader) throws(JSONError) in try Linux(json: o) }
    }
}

extension Root {
    init(json r: JSONObjectReader) throws(JSONError) {
        path = try r.string("path")
        readonly = try r.optionalBool("readonly")
    }
}

extension Mount {
    init(json r: JSONObjectReader) throws(JSONError) {
        destination = try r.string("destination")
        type = try r.optionalString("type")
        source = try r.optionalString("source")
        options = try r.optionalStrings("options")
        uidMappings = try r.optionalObjects("uidMappings") { (o: JSONObjectReader) throws(JSONError) in try IDMapping(json: o) }
        gidMappings = try r.optionalObjects("gidMappings") { (o: JSONObjectReader) throws(JSONError) in try IDMapping(json: o) }
    }
}

extension Process {
    /// A process without `user` runs as uid 0, gid 0 (Codable's `init(from:)` has the same rule).
    public init(json r: JSONObjectReader) throws(JSONError) {
        terminal = try r.optionalBool("terminal")
        consoleSize = try r.optionalObject("consoleSize").map { (o: JSONObjectReader) throws(JSONError) in
            Box(height: try o.integer("height"), width: try o.integer("width"))
        }
        user = try r.optionalObject("user").map { (o: JSONObjectReader) throws(JSONError) in try User(json: o) } ?? User()
        args = try r.optionalStrings("args")
        commandLine = try r.optionalString("commandLine")
        env = try r.optionalStrings("env")
        cwd = try r.string("cwd")
        capabilities = try r.optionalObject("capabilities").map { (o: JSONObjectReader) throws(JSONError) in
            Capabilities(bounding: try o.optionalStrings("bounding"), effective: try o.optionalStrings("effective"),
                         inheritable: try o.optionalStrings("inheritable"), permitted: try o.optionalStrings("permitted"),
                         ambient: try o.optionalStrings("ambient"))
        }
        rlimits = try r.optionalObjects("rlimits") { (o: JSONObjectReader) throws(JSONError) in
            Rlimit(type: try o.string("type"), hard: try o.integer("hard"), soft: try o.integer("soft"))
        }
        noNewPrivileges = try r.optionalBool("noNewPrivileges")
        apparmorProfile = try r.optionalString("apparmorProfile")
        oomScoreAdj = try r.optionalInteger("oomScoreAdj")
        selinuxLabel = try r.optionalString("selinuxLabel")
        ioPriority = try r.optionalObject("ioPriority").map { (o: JSONObjectReader) throws(JSONError) in
            IOPriority(class: try o.string("class"), priority: try o.optionalInteger("priority"))
        }
        scheduler = try r.optionalObject("scheduler").map { (o: JSONObjectReader) throws(JSONError) in
            Scheduler(policy: try o.string("policy"), nice: try o.optionalInteger("nice"), priority: try o.optionalInteger("priority"),
                      flags: try o.optionalStrings("flags"), runtime: try o.optionalInteger("runtime"),
                      deadline: try o.optionalInteger("deadline"), period: try o.optionalInteger("period"))
        }
        execCPUAffinity = try r.optionalObject("execCPUAffinity").map { (o: JSONObjectReader) throws(JSONError) in
            ExecCPUAffinity(initial: try o.optionalString("initial"), final: try o.optionalString("final"))
        }
    }
}

extension User {
    init(json r: JSONObjectReader) throws(JSONError) {
        uid = try r.optionalInteger("uid") ?? 0
        gid = try r.optionalInteger("gid") ?? 0
        umask = try r.optionalInteger("umask")
        additionalGids = try r.optionalIntegers("additionalGids")
        username = try r.optionalString("username")
    }
}

extension Hooks {
    /// Also the container record's copy of the hooks (state.json).
    public init(json r: JSONObjectReader) throws(JSONError) {
        let hook = { (o: JSONObjectReader) throws(JSONError) -> Hook in
            Hook(path: try o.string("path"), args: try o.optionalStrings("args"), env: try o.optionalStrings("env"),
                 timeout: try o.optionalInteger("timeout"))
        }
        prestart = try r.optionalObjects("prestart", hook)
        createRuntime = try r.optionalObjects("createRuntime", hook)
        createContainer = try r.optionalObjects("createContainer", hook)
        startContainer = try r.optionalObjects("startContainer", hook)
        poststart = try r.optionalObjects("poststart", hook)
        poststop = try r.optionalObjects("poststop", hook)
    }
}

extension IDMapping {
    init(json r: JSONObjectReader) throws(JSONError) {
        containerID = try r.integer("containerID")
        hostID = try r.integer("hostID")
        size = try r.integer("size")
    }
}

extension Linux {
    init(json r: JSONObjectReader) throws(JSONError) {
        uidMappings = try r.optionalObjects("uidMappings") { (o: JSONObjectReader) throws(JSONError) in try IDMapping(json: o) }
        gidMappings = try r.optionalObjects("gidMappings") { (o: JSONObjectReader) throws(JSONError) in try IDMapping(json: o) }
        timeOffsets = try r.optionalObjectMap("timeOffsets") { (o: JSONObjectReader) throws(JSONError) in
            TimeOffset(secs: try o.optionalInteger("secs"), nanosecs: try o.optionalInteger("nanosecs"))
        }
        sysctl = try r.optionalStringMap("sysctl")
        resources = try r.optionalObject("resources").map { (o: JSONObjectReader) throws(JSONError) in try Resources(json: o) }
        cgroupsPath = try r.optionalString("cgroupsPath")
        namespaces = try r.optionalObjects("namespaces") { (o: JSONObjectReader) throws(JSONError) in
            Namespace(type: try o.string("type"), path: try o.optionalString("path"))
        }
        devices = try r.optionalObjects("devices") { (o: JSONObjectReader) throws(JSONError) in
            Device(type: try o.string("type"), path: try o.string("path"), major: try o.optionalInteger("major"),
                   minor: try o.optionalInteger("minor"), fileMode: try o.optionalInteger("fileMode"),
                   uid: try o.optionalInteger("uid"), gid: try o.optionalInteger("gid"))
        }
        seccomp = try r.optionalObject("seccomp").map { (o: JSONObjectReader) throws(JSONError) in try Seccomp(json: o) }
        rootfsPropagation = try r.optionalString("rootfsPropagation")
        maskedPaths = try r.optionalStrings("maskedPaths")
        readonlyPaths = try r.optionalStrings("readonlyPaths")
        mountLabel = try r.optionalString("mountLabel")
        intelRdt = try r.optionalObject("intelRdt").map { (o: JSONObjectReader) throws(JSONError) in
            var rdt = IntelRdt()
            rdt.closID = try o.optionalString("closID")
            rdt.l3CacheSchema = try o.optionalString("l3CacheSchema")
            rdt.memBwSchema = try o.optionalString("memBwSchema")
            return rdt
        }
        personality = try r.optionalObject("personality").map { (o: JSONObjectReader) throws(JSONError) in
            Personality(domain: try o.string("domain"), flags: try o.optionalStrings("flags"))
        }
        memoryPolicy = try r.optionalObject("memoryPolicy").map { (o: JSONObjectReader) throws(JSONError) in
            MemoryPolicy(mode: try o.optionalString("mode"), nodes: try o.optionalString("nodes"), flags: try o.optionalStrings("flags"))
        }
    }
}

extension Seccomp {
    init(json r: JSONObjectReader) throws(JSONError) {
        defaultAction = try r.string("defaultAction")
        defaultErrnoRet = try r.optionalInteger("defaultErrnoRet")
        architectures = try r.optionalStrings("architectures")
        flags = try r.optionalStrings("flags")
        listenerPath = try r.optionalString("listenerPath")
        listenerMetadata = try r.optionalString("listenerMetadata")
        syscalls = try r.optionalObjects("syscalls") { (o: JSONObjectReader) throws(JSONError) in
            SeccompSyscall(names: try o.strings("names"), action: try o.string("action"), errnoRet: try o.optionalInteger("errnoRet"),
                           args: try o.optionalObjects("args") { (a: JSONObjectReader) throws(JSONError) in
                               SeccompArg(index: try a.integer("index"), value: try a.integer("value"),
                                          valueTwo: try a.optionalInteger("valueTwo"), op: try a.string("op"))
                           })
        }
    }
}
