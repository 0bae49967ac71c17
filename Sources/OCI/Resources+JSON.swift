import JSON

// linux.resources read member by member, as Spec+JSON.swift explains.

extension Resources {
    public init(json r: JSONObjectReader) throws(JSONError) {
        devices = try r.optionalObjects("devices") { (o: JSONObjectReader) throws(JSONError) in
            DeviceCgroupRule(allow: try o.bool("allow"), type: try o.optionalString("type"), major: try o.optionalInteger("major"),
                             minor: try o.optionalInteger("minor"), access: try o.optionalString("access"))
        }
        memory = try r.optionalObject("memory").map { (o: JSONObjectReader) throws(JSONError) in try Memory(json: o) }
        cpu = try r.optionalObject("cpu").map { (o: JSONObjectReader) throws(JSONError) in try CPU(json: o) }
        pids = try r.optionalObject("pids").map { (o: JSONObjectReader) throws(JSONError) in Pids(limit: try o.integer("limit")) }
        blockIO = try r.optionalObject("blockIO").map { (o: JSONObjectReader) throws(JSONError) in try BlockIO(json: o) }
        hugepageLimits = try r.optionalObjects("hugepageLimits") { (o: JSONObjectReader) throws(JSONError) in try HugepageLimit(json: o) }
        network = try r.optionalObject("network").map { (o: JSONObjectReader) throws(JSONError) in
            var n = Network()
            n.classID = try o.optionalInteger("classID")
            n.priorities = try o.optionalObjects("priorities") { (p: JSONObjectReader) throws(JSONError) in
                InterfacePriority(name: try p.string("name"), priority: try p.integer("priority"))
            }
            return n
        }
        rdma = try r.optionalObjectMap("rdma") { (o: JSONObjectReader) throws(JSONError) in
            RdmaLimit(hcaHandles: try o.optionalInteger("hcaHandles"), hcaObjects: try o.optionalInteger("hcaObjects"))
        }
        unified = try r.optionalStringMap("unified")
    }
}

extension Memory {
    init(json r: JSONObjectReader) throws(JSONError) {
        limit = try r.optionalInteger("limit")
        reservation = try r.optionalInteger("reservation")
        swap = try r.optionalInteger("swap")
        kernel = try r.optionalInteger("kernel")
        kernelTCP = try r.optionalInteger("kernelTCP")
        swappiness = try r.optionalInteger("swappiness")
        disableOOMKiller = try r.optionalBool("disableOOMKiller")
        useHierarchy = try r.optionalBool("useHierarchy")
        checkBeforeUpdate = try r.optionalBool("checkBeforeUpdate")
    }
}

extension CPU {
    init(json r: JSONObjectReader) throws(JSONError) {
        shares = try r.optionalInteger("shares")
        quota = try r.optionalInteger("quota")
        burst = try r.optionalInteger("burst")
        period = try r.optionalInteger("period")
        realtimeRuntime = try r.optionalInteger("realtimeRuntime")
        realtimePeriod = try r.optionalInteger("realtimePeriod")
        cpus = try r.optionalString("cpus")
        mems = try r.optionalString("mems")
        idle = try r.optionalInteger("idle")
    }
}

extension BlockIO {
    init(json r: JSONObjectReader) throws(JSONError) {
        let throttle = { (o: JSONObjectReader) throws(JSONError) -> ThrottleDevice in
            ThrottleDevice(major: try o.integer("major"), minor: try o.integer("minor"), rate: try o.integer("rate"))
        }
        weight = try r.optionalInteger("weight")
        leafWeight = try r.optionalInteger("leafWeight")
        weightDevice = try r.optionalObjects("weightDevice") { (o: JSONObjectReader) throws(JSONError) in
            WeightDevice(major: try o.integer("major"), minor: try o.integer("minor"), weight: try o.optionalInteger("weight"),
                         leafWeight: try o.optionalInteger("leafWeight"))
        }
        throttleReadBpsDevice = try r.optionalObjects("throttleReadBpsDevice", throttle)
        throttleWriteBpsDevice = try r.optionalObjects("throttleWriteBpsDevice", throttle)
        throttleReadIOPSDevice = try r.optionalObjects("throttleReadIOPSDevice", throttle)
        throttleWriteIOPSDevice = try r.optionalObjects("throttleWriteIOPSDevice", throttle)
    }
}

extension HugepageLimit {
    /// `pageSize`, or Go's `pagesize` spelling (what runc's config files carry), as `init(from:)`.
    init(json r: JSONObjectReader) throws(JSONError) {
        limit = try r.integer("limit")
        if let size = try r.optionalString("pageSize") {
            pageSize = size
        } else if let size = try r.optionalString("pagesize") {
            pageSize = size
        } else {
            pageSize = try r.string("pageSize")  // the missing-field error, with its path
        }
    }
}
