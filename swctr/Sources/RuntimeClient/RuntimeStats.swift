import JSON

/// The part of the runtime's `events --stats` document (runc's shape) that `stats` shows.
public struct RuntimeStats: Sendable, Equatable {
    /// CPU time of every process in the container, in nanoseconds.
    public var cpuNanoseconds: UInt64 = 0
    public var memoryUsage: UInt64 = 0
    /// 0 when unlimited (the runtime reports the kernel's "no limit" as 0 or as a huge number).
    public var memoryLimit: UInt64 = 0
    /// Page cache that can be dropped (v1 total_inactive_file, v2 inactive_file): Docker leaves
    /// it out of "MEM USAGE".
    public var inactiveFile: UInt64 = 0
    public var blockRead: UInt64 = 0
    public var blockWrite: UInt64 = 0
    public var pids: UInt64 = 0

    public init() {}

    /// Reads runc's document; fields it lacks stay 0.
    public init(document: [UInt8]) throws(RuntimeCallError) {
        guard let value = try? JSONParser.parse(document), case .object(let top) = value,
              case .object(let data)? = top["data"] else {
            throw RuntimeCallError(.failed, "the runtime's stats are not a JSON document with \"data\"")
        }
        func number(_ v: JSONValue?) -> UInt64 {
            guard case .number(let text)? = v else { return 0 }
            if let exact = UInt64(text) { return exact }
            if let d = Double(text), d >= 0, d < 1.8e19 { return UInt64(d) }
            return 0
        }
        func object(_ v: JSONValue?) -> JSONObject {
            if case .object(let o)? = v { return o }
            return JSONObject()
        }
        cpuNanoseconds = number(object(object(data["cpu"])["usage"])["total"])
        let memory = object(data["memory"])
        let usage = object(memory["usage"])
        memoryUsage = number(usage["usage"])
        memoryLimit = number(usage["limit"])
        let raw = object(memory["raw"])
        inactiveFile = number(raw["total_inactive_file"] ?? raw["inactive_file"])
        pids = number(object(data["pids"])["current"])
        if case .array(let entries)? = object(data["blkio"])["ioServiceBytesRecursive"] {
            for case .object(let e) in entries {
                guard case .string(let op)? = e["op"] else { continue }
                switch op.lowercased() {
                case "read": blockRead += number(e["value"])
                case "write": blockWrite += number(e["value"])
                default: break
                }
            }
        }
    }
}
