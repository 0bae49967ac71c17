import OCI

extension Container {
    /// `swrunc update`: merges new limits into the container's resources, writes them to its
    /// cgroup and records them. Sections absent from `update` are left as they are.
    public static func update(id: String, resources update: Resources, ctx: RuntimeContext) throws(RuntimeError) {
        do { try update.validate(at: "linux.resources") } catch { throw RuntimeError(config: error) }
        let (lock, loaded) = try lockAndLoad(id, ctx: ctx)
        defer { lock.release() }
        var record = loaded
        if status(of: record, store: ctx.store) == .stopped {
            throw RuntimeError("cannot update a stopped container")
        }
        var config = try ctx.store.loadConfig(id)
        var merged = config.linux?.resources ?? Resources()
        if let m = update.memory {
            var cur = merged.memory ?? Memory()
            if let v = m.limit { cur.limit = v }
            if let v = m.reservation { cur.reservation = v }
            if let v = m.swap { cur.swap = v }
            // Removing the memory limit removes the memory+swap one with it unless a new one is
            // given (runc's rule; a swap limit below an unlimited memory limit is meaningless).
            if m.limit == -1 && m.swap == nil && cur.swap != nil { cur.swap = -1 }
            if let v = m.swappiness { cur.swappiness = v }
            if let v = m.disableOOMKiller { cur.disableOOMKiller = v }
            if let v = m.checkBeforeUpdate { cur.checkBeforeUpdate = v }
            merged.memory = cur
        }
        if let c = update.cpu {
            var cur = merged.cpu ?? CPU()
            if let v = c.shares { cur.shares = v }
            if let v = c.quota { cur.quota = v }
            if let v = c.period { cur.period = v }
            if let v = c.burst { cur.burst = v }
            if let v = c.realtimeRuntime { cur.realtimeRuntime = v }
            if let v = c.realtimePeriod { cur.realtimePeriod = v }
            if let v = c.cpus { cur.cpus = v }
            if let v = c.mems { cur.mems = v }
            if let v = c.idle { cur.idle = v }
            merged.cpu = cur
        }
        if let p = update.pids { merged.pids = p }
        if let b = update.blockIO { merged.blockIO = b }
        if let h = update.hugepageLimits { merged.hugepageLimits = h }
        if let n = update.network { merged.network = n }
        if let d = update.devices { merged.devices = d }
        if let u = update.unified { merged.unified = (merged.unified ?? [:]).merging(u) { $1 } }
        // Only what was asked is written; device rules only when given (rewriting them briefly
        // denies everything).
        var delta = update
        delta.memory = update.memory.map { _ in merged.memory ?? Memory() }
        let cgroup = Cgroups.driver(paths: record.cgroupPaths)
        if merged.memory?.checkBeforeUpdate == true, let limit = update.memory?.limit, limit > 0 {
            // v1 kernels refuse such a limit themselves; v2 would OOM-kill instead. Refuse on both.
            let usage = cgroup.memoryUsage()
            if UInt64(limit) < usage {
                throw RuntimeError("linux.resources.memory.limit: \(limit) is below the current usage \(usage) (checkBeforeUpdate)")
            }
        }
        do { try cgroup.apply(delta, includeDevices: update.devices != nil) } catch { throw error.during("cgroup") }
        if config.linux == nil { config.linux = Linux() }
        config.linux?.resources = merged
        record.config = config
        record.configBytes = nil
        try ctx.store.save(record)
    }
}
