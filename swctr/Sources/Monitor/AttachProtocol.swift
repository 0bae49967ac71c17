import Glibc

/// Frames on a monitor's control socket (`<container dir>/control.sock`). A client first sends one
/// request line — `attach`, `stop TIMEOUT`, `kill SIGNAL`, `resize ROWS COLS` — then, when
/// attached, both sides exchange frames: a type byte, a 4-byte big-endian length, the payload.
public enum AttachFrame {
    public enum Kind: UInt8, Sendable {
        case stdin = 0
        case stdout = 1
        case stderr = 2
        /// monitor → client: the container exited; payload is the exit code as text.
        case exit = 3
        /// client → monitor: no more input (the client's stdin ended).
        case closeStdin = 4
        /// client → monitor: "ROWS COLS".
        case resize = 5
    }

    public static func encode(_ kind: Kind, _ payload: some Collection<UInt8>) -> [UInt8] {
        let n = UInt32(payload.count)
        return [kind.rawValue, UInt8(n >> 24), UInt8((n >> 16) & 0xff), UInt8((n >> 8) & 0xff), UInt8(n & 0xff)] + payload
    }

    /// Splits complete frames off the front of `buffer`.
    public static func decode(_ buffer: inout [UInt8]) -> [(Kind, [UInt8])] {
        var out: [(Kind, [UInt8])] = []
        while buffer.count >= 5 {
            let n = Int(buffer[1]) << 24 | Int(buffer[2]) << 16 | Int(buffer[3]) << 8 | Int(buffer[4])
            guard buffer.count >= 5 + n else { break }
            if let kind = Kind(rawValue: buffer[0]) { out.append((kind, Array(buffer[5..<(5 + n)]))) }
            buffer.removeFirst(5 + n)
        }
        return out
    }

    public static func socketPath(in directory: String) -> String { directory + "/control.sock" }
}
