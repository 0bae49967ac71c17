/// The OCI image-spec and Docker schema2 documents swctr reads (both share these shapes).
public enum MediaType {
    public static let ociManifest = "application/vnd.oci.image.manifest.v1+json"
    public static let ociIndex = "application/vnd.oci.image.index.v1+json"
    public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    public static let dockerList = "application/vnd.docker.distribution.manifest.list.v2+json"
    public static let accepted = [ociIndex, dockerList, ociManifest, dockerManifest]
}

public struct Platform: Codable, Sendable, Equatable, CustomStringConvertible {
    public var architecture: String
    public var os: String
    public var variant: String?

    public init(os: String = "linux", architecture: String, variant: String? = nil) {
        self.os = os
        self.architecture = architecture
        self.variant = variant
    }

    /// `linux/amd64`, `linux/arm64/v8`.
    public init(parsing s: String) throws(ImageReference.Invalid) {
        let p = s.split(separator: "/").map(String.init)
        guard p.count == 2 || p.count == 3 else { throw .init(description: "invalid platform \"\(s)\": want os/arch[/variant]") }
        self.init(os: p[0], architecture: p[1], variant: p.count == 3 ? p[2] : nil)
    }

    /// A `--platform` value, or this machine's platform when none was given.
    public init(option: String?) throws(ImageReference.Invalid) {
        if let option { try self.init(parsing: option) } else { self = .host }
    }

    public static var host: Platform {
        #if arch(x86_64)
        Platform(architecture: "amd64")
        #elseif arch(arm64)
        Platform(architecture: "arm64", variant: "v8")
        #else
        Platform(architecture: "unknown")
        #endif
    }

    public var description: String { [os, architecture, variant].compactMap { $0 }.joined(separator: "/") }
}

public struct Descriptor: Codable, Sendable {
    public var mediaType: String?
    public var digest: String
    public var size: Int64
    public var platform: Platform?

    public init(mediaType: String?, digest: String, size: Int64, platform: Platform? = nil) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.platform = platform
    }
}

public struct Manifest: Codable, Sendable {
    public var schemaVersion: Int
    public var mediaType: String?
    public var config: Descriptor
    public var layers: [Descriptor]

    public init(schemaVersion: Int, mediaType: String?, config: Descriptor, layers: [Descriptor]) {
        self.schemaVersion = schemaVersion
        self.mediaType = mediaType
        self.config = config
        self.layers = layers
    }
}

public struct Index: Codable, Sendable {
    public var schemaVersion: Int
    public var mediaType: String?
    public var manifests: [Descriptor]

    /// The entry for `platform`: os and architecture must match; a variant only when both name one.
    public func select(_ platform: Platform) -> Descriptor? {
        manifests.first { m in
            guard let p = m.platform else { return false }
            return p.os == platform.os && p.architecture == platform.architecture
                && (platform.variant == nil || p.variant == nil || p.variant == platform.variant)
        }
    }

    /// The platforms an index offers, for an error that says what there is.
    public var platforms: String { manifests.compactMap { $0.platform?.description }.joined(separator: ", ") }
}

/// The parts of an image config swctr uses.
public struct ImageConfig: Codable, Sendable {
    public struct Config: Codable, Sendable {
        public var User: String?
        public var Env: [String]?
        public var Entrypoint: [String]?
        public var Cmd: [String]?
        public var WorkingDir: String?
        public var Labels: [String: String]?
        public var StopSignal: String?
        public var Healthcheck: Healthcheck?
        public var ExposedPorts: [String: Empty]?
        public var Volumes: [String: Empty]?

        public init() {}
    }
    /// Docker's HEALTHCHECK in an image config (durations in nanoseconds).
    public struct Healthcheck: Codable, Sendable {
        public var Test: [String]?
        public var Interval: Int64?
        public var Timeout: Int64?
        public var StartPeriod: Int64?
        public var Retries: Int?
    }
    /// `{}`, the value of set-like maps (ExposedPorts, Volumes).
    public struct Empty: Codable, Sendable, Equatable { public init() {} }
    public struct RootFS: Codable, Sendable {
        public var type: String
        public var diff_ids: [String]
    }
    public struct History: Codable, Sendable {
        public var created: String?
        public var created_by: String?
        public var comment: String?
        public var empty_layer: Bool?

        public init(created: String? = nil, created_by: String? = nil, comment: String? = nil, empty_layer: Bool? = nil) {
            self.created = created
            self.created_by = created_by
            self.comment = comment
            self.empty_layer = empty_layer
        }
    }
    public var architecture: String?
    public var os: String?
    public var created: String?
    public var config: Config?
    public var rootfs: RootFS
    public var history: [History]?
}
