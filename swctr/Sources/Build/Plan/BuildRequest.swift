import Database
import Images
import Registry

/// What `build` asks for, in Docker's terms.
public struct BuildRequest: Sendable {
    /// The build context: a directory (a tar on stdin is unpacked into one first).
    public var context: String
    /// The Dockerfile's text and the name errors give it ("Dockerfile", or the -f path).
    public var dockerfile: String
    public var dockerfileName = "Dockerfile"
    /// `-t`: names the result is tagged with (none: untagged, found by its ID).
    public var tags: [String] = []
    /// `--build-arg K=V` (a K without a value takes the caller's environment's, as Docker does).
    public var buildArgs: [String: String] = [:]
    public var target: String?
    public var noCache = false
    /// `--pull`: base images are pulled even when the store has them.
    public var pull = false
    /// `--label`: labels of the result.
    public var labels: [String: String] = [:]
    /// RUN's network when it names none: host (BuildKit's default) or none.
    public var network = "host"
    /// Parent cgroup of each RUN's container.
    public var cgroupParent = "/swctr"
    /// `--security-opt` for RUN's containers (seccomp=unconfined, …).
    public var securityOpt: [String] = []
    /// Where RUN's output goes (nil: the caller's stdout and stderr).
    public var outputFD: Int32?

    public init(context: String, dockerfile: String) {
        self.context = context
        self.dockerfile = dockerfile
    }
}

/// What a build reports as it goes; the CLI renders it.
public enum BuildEvent: Sendable {
    /// A step begins: its stage's name (or index), its number in the stage and the stage's count.
    case step(stage: String, index: Int, count: Int, text: String)
    /// The step was found in the cache.
    case cached
    /// The step ran: how long it took.
    case done(seconds: Double)
    /// A line for the user (a pull's progress, a warning).
    case message(String)
    case warning(String)
}

/// Pulls an image the store lacks (or every base with `--pull`): the CLI supplies one with the
/// registry settings and credentials it knows.
public typealias ImageFetcher = @Sendable (ImageReference) async throws -> ImageRecord
