import Build
import Containers
import Database
import HostOS
import Images
import Registry

/// Images of the services: built from their build section (when missing, or with --build), or
/// pulled (when missing, or with pull_policy always).
extension ComposeEngine {
    public struct BuildOptions: Sendable {
        public var noCache = false
        public var pull = false
        public init() {}
    }

    /// Builds the services that have a build section (all of `services` with `force`, else only
    /// those whose image is missing).
    public func build(_ services: [ComposeService], force: Bool, options: BuildOptions = BuildOptions()) async throws(SwctrError) {
        for s in services {
            guard let b = s.build else { continue }
            let name = translation.imageName(s)
            if !force, (try? manager.store.image(name)) != nil { continue }
            let dockerfilePath = b.dockerfile.map { $0.hasPrefix("/") ? $0 : b.context + "/" + $0 } ?? b.context + "/Dockerfile"
            let text: String
            do { text = try FileIO.readString(dockerfilePath) } catch {
                throw SwctrError(.notFound, "service \"\(s.name)\": failed to read the Dockerfile: \(dockerfilePath): \(error.message)")
            }
            var request = BuildRequest(context: b.context, dockerfile: text)
            request.dockerfileName = String(dockerfilePath.split(separator: "/").last ?? "Dockerfile")
            request.tags = [name]
            request.target = b.target
            request.noCache = options.noCache
            request.pull = options.pull
            request.labels = b.labels
            request.outputFD = 2
            if let parent = s.cgroupParent { request.cgroupParent = parent }
            for (k, v) in b.args { if let value = v ?? translation.environment[k] { request.buildArgs[k] = value } }
            report("[+] Building \(s.name)")
            let prefix = "[\(s.name)] "
            let report = self.report
            do {
                _ = try await Builder.build(request, manager: manager, fetch: fetch) { event in
                    switch event {
                    case .step(_, let i, let n, let text): report("\(prefix)\(i)/\(n) \(text)")
                    case .cached: report("\(prefix)CACHED")
                    case .message(let m): report(prefix + m)
                    case .warning(let w): report("\(prefix)[Warning] \(w)")
                    case .done: break
                    }
                }
            } catch {
                throw SwctrError(error.code, "service \"\(s.name)\" failed to build: \(error.message)")
            }
            report(" ✔ Image \(name)  Built")
        }
    }

    /// Pulls the images of services without a build section that the store lacks (all of
    /// `services` with `force`, or those with pull_policy always).
    public func pull(_ services: [ComposeService], force: Bool) async throws(SwctrError) {
        for s in services where s.build == nil || (force && s.image != nil) {
            guard let image = s.image else { continue }
            let present = (try? manager.store.image(image)) != nil
            if present && !force && s.pullPolicy != "always" { continue }
            if !present && s.pullPolicy == "never" {
                throw SwctrError(.notFound, "service \"\(s.name)\": image \(image) is not in the store and pull_policy is never")
            }
            let ref: ImageReference
            do { ref = try ImageReference(parsing: image) } catch {
                throw SwctrError(.invalidArgument, "service \"\(s.name)\" image \(image): \(error.description)")
            }
            report(" ⠿ \(s.name) Pulling")
            do { _ = try await fetch(ref) } catch {
                throw SwctrError(.notFound, "service \"\(s.name)\": pull \(image): \((error as? SwctrError)?.message ?? "\(error)")")
            }
            report(" ✔ \(s.name) Pulled")
        }
    }
}
