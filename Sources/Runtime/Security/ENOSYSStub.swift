/// runc's -ENOSYS stub: a few classic-BPF instructions put in front of the compiled filter. On
/// the native architecture, a syscall numbered above the largest the profile names fails with
/// ENOSYS instead of the profile's default errno — it is newer than the profile, so the caller
/// should treat it as unimplemented and fall back (glibc's clone3 → clone, statx → fstatat).
enum ENOSYSStub {
    // BPF opcodes and offsets into struct seccomp_data.
    private static let loadWord: UInt16 = 0x20, jumpEqual: UInt16 = 0x15, jumpGreater: UInt16 = 0x25,
                       jumpSet: UInt16 = 0x45, returnConstant: UInt16 = 0x06
    private static let nrOffset: UInt32 = 0, archOffset: UInt32 = 4
    private static let returnENOSYS: UInt32 = 0x0005_0000 | 38

    #if arch(x86_64)
    private static let nativeArch: UInt32 = 0xc000_003e  // AUDIT_ARCH_X86_64
    /// x32 syscalls share the architecture and carry this bit; they are left to the filter.
    private static let modeBit: UInt32? = 0x4000_0000
    #elseif arch(arm64)
    private static let nativeArch: UInt32 = 0xc000_00b7  // AUDIT_ARCH_AARCH64
    private static let modeBit: UInt32? = nil
    #else
    private static let nativeArch: UInt32 = 0
    private static let modeBit: UInt32? = nil
    #endif

    /// The stub's instructions, 8 bytes each as the kernel reads them; empty where swrunc does
    /// not know the native architecture's audit number.
    static func program(above largest: UInt32) -> [UInt8] {
        guard nativeArch != 0 else { return [] }
        // Every jump that does not lead to the ENOSYS return lands just past the stub.
        var code: [(UInt16, UInt8, UInt8, UInt32)] = [(loadWord, 0, 0, archOffset)]
        let count = modeBit == nil ? 5 : 6
        code.append((jumpEqual, 0, UInt8(count - 2), nativeArch))
        code.append((loadWord, 0, 0, nrOffset))
        if let modeBit { code.append((jumpSet, 2, 0, modeBit)) }
        code.append((jumpGreater, 0, 1, largest))
        code.append((returnConstant, 0, 0, returnENOSYS))
        var out: [UInt8] = []
        for (op, jt, jf, k) in code {
            withUnsafeBytes(of: op.littleEndian) { out += $0 }
            out += [jt, jf]
            withUnsafeBytes(of: k.littleEndian) { out += $0 }
        }
        return out
    }
}
