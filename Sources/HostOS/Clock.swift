import Glibc

/// Wall-clock stamps in the format runc and Docker write, and a monotonic clock for durations.
public enum Clock {
    /// Current time in RFC 3339 with nanoseconds, UTC — the format runc uses for `created`.
    public static func rfc3339Now() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var t = ts.tv_sec
        var parts = tm()
        gmtime_r(&t, &parts)
        var buf = [CChar](repeating: 0, count: 64)
        strftime(&buf, buf.count, "%Y-%m-%dT%H:%M:%S", &parts)
        let base = buf.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        var nanos = String(ts.tv_nsec)
        while nanos.count < 9 { nanos = "0" + nanos }
        return "\(base).\(nanos)Z"
    }

    public static func monotonicNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// Seconds on the monotonic clock, for durations shown to people.
    public static func monotonicSeconds() -> Double { Double(monotonicNanos()) / 1e9 }
}
