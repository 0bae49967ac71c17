import ArgumentParser
import Build
import Containers
import Database
import Glibc
import HostOS
import Images

/// Docker's question before a prune: only "y" goes on; without a terminal (EOF) nothing is removed.
func confirmPrune(_ warning: String, force: Bool) -> Bool {
    if force { return true }
    print("WARNING! This will remove:\n\(warning)\nAre you sure you want to continue? [y/N] ", terminator: "")
    fflush(nil)
    let answer = readLine()?.trimmed().lowercased()
    return answer == "y" || answer == "yes"
}

/// Docker's report of pruned images: the name untagged, then the image deleted.
func printDeleted(_ images: [ImageRecord]) {
    guard !images.isEmpty else { return }
    print("Deleted Images:")
    for r in images {
        if !r.name.hasPrefix("sha256:") { print("untagged: \(r.name)") }
        print("deleted: \(r.id)")
    }
    print()
}

/// `system prune [-a] [-f]`: stopped containers, untagged (with -a: unused) images, the build
/// cache (with -a its cache mounts too).
struct SystemPrune: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "prune", abstract: "Remove stopped containers and unused images.")
    @OptionGroup var global: Global
    @Flag(name: [.customShort("a"), .customLong("all")], help: "Every image no container uses, not only untagged ones.") var all = false
    @Flag(name: [.customShort("f"), .customLong("force")], help: "Do not ask.") var force = false

    func run() async throws {
        let what = "  - all stopped containers\n" + (all ? "  - all images without at least one container associated to them" : "  - all dangling images")
            + "\n  - all build cache"
        guard confirmPrune(what, force: force) else { return }
        let manager = global.manager(needsRuntime: false)
        let before = ImageStore.diskUsage(manager.store.root)
        let containers: [String]
        let images: [ImageRecord]
        let cache: Int
        do {
            containers = try manager.prune()
            images = try manager.pruneImages(all: all)
            cache = try BuildCache.prune(manager.store, mounts: all)
        } catch { fail(error) }
        if !containers.isEmpty {
            print("Deleted Containers:")
            for id in containers { print(id) }
            print()
        }
        printDeleted(images)
        if cache > 0 { print("Deleted build cache objects: \(cache)\n") }
        let after = ImageStore.diskUsage(manager.store.root)
        print("Total reclaimed space: \(StatsLine.decimalSize(UInt64(max(0, before - after))))")
    }
}

/// `image prune [-a] [-f]`.
struct ImagePrune: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "prune", abstract: "Remove unused images.")
    @OptionGroup var global: Global
    @Flag(name: [.customShort("a"), .customLong("all")], help: "Every image no container uses, not only untagged ones.") var all = false
    @Flag(name: [.customShort("f"), .customLong("force")], help: "Do not ask.") var force = false

    func run() async throws {
        guard confirmPrune(all ? "  - all images without at least one container associated to them" : "  - all dangling images", force: force) else { return }
        let manager = global.manager(needsRuntime: false)
        let images: [ImageRecord]
        do { images = try manager.pruneImages(all: all) } catch { fail(error) }
        printDeleted(images)
    }
}

/// `image …`: Docker's management spelling of the image verbs.
struct ImageGroup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image", abstract: "Manage images.",
        subcommands: [ImagePrune.self, Images.self, Pull.self, Push.self, BuildCommand.self, Rmi.self, Tag.self, History.self, Save.self, Load.self])
}
