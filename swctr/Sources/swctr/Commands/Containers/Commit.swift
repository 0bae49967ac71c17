import ArgumentParser
import Containers
import Database
import Registry

/// `commit`: a container's changes as a new image.
struct Commit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Make an image from a container's changes.")
    @OptionGroup var global: Global
    @Option(name: [.customShort("m"), .customLong("message")], help: "Commit message (the history entry's comment).") var message: String?
    @Option(name: [.customShort("a"), .customLong("author")], help: "Author, e.g. \"Jane <jane@example.com>\".") var author: String?
    @Option(name: [.customShort("c"), .customLong("change")], help: "A Dockerfile instruction for the new image (CMD, ENV, …).")
    var change: [String] = []
    @Option(name: [.customShort("p"), .customLong("pause")], help: "Pause the container while committing (default true).")
    var pause = true
    @Argument var container: String
    @Argument var name: String?

    func run() async throws {
        var request = CommitRequest()
        if let name {
            do { request.name = ImageReference.withTag(try ImageReference(parsing: name)) } catch { fail("invalid reference format: \(name): \(error)") }
        }
        request.message = message
        request.author = author
        request.changes = change
        request.pause = pause
        do {
            let image = try global.manager().commit(container, request)
            print(image.id)
        } catch { fail(error) }
    }
}
