/// Docker's detach keys: `ctrl-p,ctrl-q` style sequences, and a matcher that holds back bytes
/// that may be the start of one.
public enum DetachKeys {
    public static let `default`: [UInt8] = [0x10, 0x11]

    /// `ctrl-<a-z @ [ \ ] ^ _>` or a single character, comma-separated; nil for anything else.
    public static func parse(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let key = part.lowercased()
            if key.hasPrefix("ctrl-"), key.count == 6, let c = key.unicodeScalars.last {
                switch c {
                case "a"..."z": out.append(UInt8(c.value - 0x60))
                case "@": out.append(0)
                case "[": out.append(27)
                case "\\": out.append(28)
                case "]": out.append(29)
                case "^": out.append(30)
                case "_": out.append(31)
                default: return nil
                }
            } else if part.count == 1, let c = part.unicodeScalars.first, c.isASCII {
                out.append(UInt8(c.value))
            } else {
                return nil
            }
        }
        return out.isEmpty ? nil : out
    }

    public struct Matcher {
        public let sequence: [UInt8]
        var matched = 0

        public init(sequence: [UInt8]) { self.sequence = sequence }

        /// The bytes to pass on now, and whether the whole sequence was typed.
        public mutating func feed(_ bytes: some Collection<UInt8>) -> ([UInt8], Bool) {
            guard !sequence.isEmpty else { return (Array(bytes), false) }
            var out: [UInt8] = []
            for b in bytes {
                if b == sequence[matched] {
                    matched += 1
                    if matched == sequence.count { return (out, true) }
                } else {
                    out += sequence[0..<matched]
                    matched = b == sequence[0] ? 1 : 0
                    if matched == 0 { out.append(b) }
                }
            }
            return (out, false)
        }
    }
}
