import JSON

/// One line of Docker's json-file log: `{"log":"text\n","stream":"stdout","time":"…Z"}`.
public struct LogEntry: Sendable, Equatable {
    public enum Stream: String, Sendable { case stdout, stderr }

    public var text: String
    public var stream: Stream
    /// RFC 3339 with nanoseconds, UTC, as Docker writes it.
    public var time: String

    public init(text: String, stream: Stream, time: String) {
        self.text = text
        self.stream = stream
        self.time = time
    }

    /// The line as written to the file (with its newline).
    public var serialized: String {
        var object = JSONObject()
        object.set("log", .string(text))
        object.set("stream", .string(stream.rawValue))
        object.set("time", .string(time))
        return JSONValue.object(object).serialized() + "\n"
    }

    public init?(line: Substring) {
        guard let value = try? JSONParser.parse(Array(line.utf8)), case .object(let o) = value,
              case .string(let text)? = o["log"], case .string(let stream)? = o["stream"],
              let s = Stream(rawValue: stream), case .string(let time)? = o["time"] else { return nil }
        self.init(text: text, stream: s, time: time)
    }

    /// Nanoseconds since the epoch, for --since/--until.
    public var nanos: Int64 { LogTime.parseRFC3339(time) ?? 0 }
}
