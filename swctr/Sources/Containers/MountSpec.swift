import Database
import JSON

/// One mount of `-v`, `--mount` or `--tmpfs`, in Docker's terms. A volume's `source` is its
/// name (empty for an anonymous one until `create` names it), a bind's the host path.
public struct MountSpec: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable { case volume, bind, tmpfs }

    public var type: Kind
    public var source: String
    public var target: String
    public var readOnly = false
    /// A new volume is not filled from the image's directory (`volume-nocopy`, `:nocopy`).
    public var noCopy = false
    public var propagation: String?
    /// tmpfs mount options (`size=64m`, `mode=1777`, …).
    public var tmpfsOptions: [String] = []
    /// Made for this container (`-v /path`, an image VOLUME): removed with it by `rm -v` and `--rm`.
    public var anonymous = false
    /// `-v` creates a missing host directory; `--mount type=bind` wants it to exist.
    public var createHostPath = false

    public init(type: Kind, source: String, target: String) {
        self.type = type
        self.source = source
        self.target = target
    }

    static let propagations: Set<String> = ["shared", "rshared", "slave", "rslave", "private", "rprivate"]

    /// `-v NAME:/path[:opts]`, `-v /host:/path[:opts]`, `-v /path`.
    public static func volumeFlag(_ text: String) throws(SwctrError) -> MountSpec {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        func invalid() -> SwctrError { SwctrError(.invalidArgument, "invalid volume specification: '\(text)'") }
        guard (1...3).contains(parts.count), !parts.contains(where: \.isEmpty) else { throw invalid() }
        if parts.count == 1 {
            guard parts[0].hasPrefix("/") else { throw invalid() }
            var m = MountSpec(type: .volume, source: "", target: parts[0])
            m.anonymous = true
            return m
        }
        let source = parts[0], target = parts[1]
        guard target.hasPrefix("/") else {
            throw SwctrError(.invalidArgument, "invalid volume specification: '\(text)': mount path must be absolute")
        }
        var m: MountSpec
        if source.hasPrefix("/") {
            m = MountSpec(type: .bind, source: source, target: target)
            m.createHostPath = true
        } else {
            try checkVolumeName(source, hint: true)
            m = MountSpec(type: .volume, source: source, target: target)
        }
        if parts.count == 3 {
            for opt in parts[2].split(separator: ",").map(String.init) {
                switch opt {
                case "ro": m.readOnly = true
                case "rw": m.readOnly = false
                case "z", "Z": break  // SELinux relabelling: nothing to do without SELinux
                case "nocopy" where m.type == .volume: m.noCopy = true
                case _ where propagations.contains(opt) && m.type == .bind: m.propagation = opt
                default: throw SwctrError(.invalidArgument, "invalid mode: \(opt)")
                }
            }
        }
        return m
    }

    /// `--mount type=volume|bind|tmpfs,source=,target=,readonly,volume-nocopy,bind-propagation=,tmpfs-size=,tmpfs-mode=`.
    public static func mountFlag(_ text: String) throws(SwctrError) -> MountSpec {
        var type = Kind.volume, source = "", target = "", readOnly = false, noCopy = false
        var propagation: String?
        var tmpfs: [String] = []
        func flag(_ v: String?, _ key: String) throws(SwctrError) -> Bool {
            switch v?.lowercased() {
            case nil, "1", "true": return true
            case "0", "false": return false
            case let other?: throw SwctrError(.invalidArgument, "invalid value for \(key): \(other)")
            }
        }
        for field in text.split(separator: ",").map(String.init) {
            let kv = field.split(separator: "=", maxSplits: 1).map(String.init)
            let value = kv.count == 2 ? kv[1] : nil
            switch kv[0].lowercased() {
            case "type":
                guard let v = value, let k = Kind(rawValue: v) else {
                    throw SwctrError(.invalidArgument, "invalid mount type \(Excerpt.of(value ?? "")): want volume, bind or tmpfs")
                }
                type = k
            case "source", "src": source = value ?? ""
            case "target", "destination", "dst": target = value ?? ""
            case "readonly", "ro": readOnly = try flag(value, "readonly")
            case "volume-nocopy": noCopy = try flag(value, "volume-nocopy")
            case "bind-propagation":
                guard let v = value, propagations.contains(v) else { throw SwctrError(.invalidArgument, "invalid bind propagation: \(value ?? "")") }
                propagation = v
            case "tmpfs-size":
                tmpfs.append("size=\(try OptionParsing.bytes(value ?? "", flag: "tmpfs-size"))")
            case "tmpfs-mode":
                guard let v = value, UInt32(v, radix: 8) != nil else { throw SwctrError(.invalidArgument, "invalid tmpfs-mode: \(value ?? "")") }
                tmpfs.append("mode=\(v)")
            default:
                throw SwctrError(.invalidArgument, "unexpected key '\(Excerpt.of(kv[0]))' in '\(Excerpt.of(text, limit: 200))'")
            }
        }
        guard !target.isEmpty else { throw SwctrError(.invalidArgument, "invalid argument \"\(Excerpt.of(text, limit: 200))\" for \"--mount\" flag: target is required") }
        guard target.hasPrefix("/") else { throw SwctrError(.invalidArgument, "invalid mount path: '\(target)' mount path must be absolute") }
        switch type {
        case .bind:
            guard source.hasPrefix("/") else { throw SwctrError(.invalidArgument, "invalid mount config for type \"bind\": source must be an absolute path") }
        case .tmpfs:
            guard source.isEmpty else { throw SwctrError(.invalidArgument, "invalid mount config for type \"tmpfs\": source must not be specified") }
        case .volume:
            if !source.isEmpty { try checkVolumeName(source, hint: false) }
        }
        var m = MountSpec(type: type, source: source, target: target)
        m.readOnly = readOnly
        m.noCopy = noCopy
        m.propagation = propagation
        m.tmpfsOptions = tmpfs
        m.anonymous = type == .volume && source.isEmpty
        return m
    }

    /// `--tmpfs /path[:opts]`.
    public static func tmpfsFlag(_ text: String) throws(SwctrError) -> MountSpec {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard let target = parts.first, target.hasPrefix("/") else {
            throw SwctrError(.invalidArgument, "invalid tmpfs specification: '\(text)': mount path must be absolute")
        }
        var m = MountSpec(type: .tmpfs, source: "", target: target)
        if parts.count == 2 { m.tmpfsOptions = parts[1].split(separator: ",").map(String.init) }
        m.readOnly = m.tmpfsOptions.contains("ro")
        m.tmpfsOptions.removeAll { $0 == "ro" || $0 == "rw" }
        return m
    }

    /// Docker's volume names: [a-zA-Z0-9][a-zA-Z0-9_.-]+.
    public static func checkVolumeName(_ name: String, hint: Bool) throws(SwctrError) {
        let ok = name.count >= 2 && name.unicodeScalars.enumerated().allSatisfy { i, c in
            let alnum = (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9")
            return alnum || (i > 0 && (c == "_" || c == "." || c == "-"))
        }
        guard ok else {
            throw SwctrError(.invalidArgument, "\"\(Excerpt.of(name))\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed"
                             + (hint ? ". If you intended to pass a host directory, use absolute path" : ""))
        }
    }
}
