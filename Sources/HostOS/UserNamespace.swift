/// Facts about the user namespace this process runs in.
public enum UserNamespace {
    /// This process runs in a user namespace other than the host's (its uid map is not the
    /// identity over every id) — as a runtime started by rootless podman does.
    public static var isNested: Bool {
        guard let map = try? FileIO.readString("/proc/self/uid_map") else { return false }
        let fields = map.split(whereSeparator: { $0 == " " || $0 == "\n" })
        return fields != ["0", "0", "4294967295"]
    }
}
