import CCrypto

/// sha256 digests (`sha256:<64 hex>`), computed incrementally with OpenSSL's EVP interface.
public enum Digest {
    public static func isValid(_ d: String) -> Bool {
        guard d.hasPrefix("sha256:") else { return false }
        let hex = d.dropFirst(7)
        return hex.count == 64 && hex.allSatisfy { $0.isHexDigit && !$0.isUppercase }
    }

    public static func hex(_ d: String) -> String { String(d.dropFirst(7)) }

    public static func of(_ bytes: some Collection<UInt8>) -> String {
        let h = Hasher()
        h.update(Array(bytes))
        return h.finish()
    }

    public final class Hasher {
        private let ctx: OpaquePointer?
        public init() {
            ctx = EVP_MD_CTX_new()
            EVP_DigestInit_ex(ctx, EVP_sha256(), nil)
        }
        public func update(_ bytes: UnsafeRawBufferPointer) {
            if bytes.count > 0 { EVP_DigestUpdate(ctx, bytes.baseAddress, bytes.count) }
        }
        public func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }
        public func finish() -> String {
            var out = [UInt8](repeating: 0, count: 32)
            var len: UInt32 = 0
            EVP_DigestFinal_ex(ctx, &out, &len)
            return "sha256:" + out.map { b in
                let s = String(b, radix: 16)
                return s.count == 1 ? "0" + s : s
            }.joined()
        }
        deinit { EVP_MD_CTX_free(ctx) }
    }
}
