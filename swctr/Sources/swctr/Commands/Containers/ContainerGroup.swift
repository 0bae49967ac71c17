import ArgumentParser
import Containers
import Database
import RuntimeClient

/// `container …`: Docker's management spelling of the container verbs, plus prune and the
/// monitor's exit command.
struct ContainerGroup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "container", abstract: "Manage containers.",
        subcommands: [Ps.self, Prune.self, Cleanup.self, Run.self, Create.self, Start.self, Stop.self, Kill.self,
                      Restart.self, Pause.self, Unpause.self, Rm.self, Rename.self, Wait.self, Attach.self, Logs.self, Exec.self,
                      Top.self, Stats.self, Inspect.self, Cp.self, Diff.self, Export.self, Commit.self],
        aliases: [])

    struct Prune: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove every stopped container.")
        @OptionGroup var global: Global
        @Flag(name: [.customShort("f"), .customLong("force")], help: "Do not ask.") var force = false

        func run() async throws {
            guard confirmPrune("  - all stopped containers", force: force) else { return }
            let removed: [String]
            do { removed = try global.manager().prune() } catch { fail(error) }
            print("Deleted Containers:")
            for id in removed { print(id) }
        }
    }

    /// Run by a container's monitor when the container is gone for good: unmounts its rootfs,
    /// and removes it when it was started with --rm.
    struct Cleanup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Tidy up after a container's monitor (internal).",
                                                        shouldDisplay: false)
        @OptionGroup var global: Global
        @Argument var container: String

        func run() async throws {
            do { try global.manager().cleanup(container) } catch { fail(error) }
        }
    }
}
