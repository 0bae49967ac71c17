import Glibc
import ArgumentParser

/// `-h`/`--help` in runc's shape: a NAME section first ("swrunc create - …"), which scripts and
/// runc's own tests read, then ArgumentParser's usage and options. An unknown command's help is
/// an error, as runc's is.
enum Help {
    /// Prints the help `rest` asks for and returns the exit status; nil when it asks for none.
    /// Only the plain forms are help: `swrunc -h`, `swrunc CMD -h` — a `-h` further on belongs to
    /// the container's command (`swrunc exec ctr ls -h`).
    static func handle(rootHelp: Bool, rest: [String]) -> Int32? {
        let prog = CommandLine.arguments.first.map { String($0.split(separator: "/").last ?? "swrunc") } ?? "swrunc"
        if rootHelp && rest.isEmpty {
            print(section(name: "\(prog) - Open Container Initiative runtime (runc-compatible)", help: SwruncCommand.helpMessage()))
            return 0
        }
        guard rest.count == 2, rest[1] == "-h" || rest[1] == "--help" else { return nil }
        guard let entry = SwruncCommand.byName.first(where: { $0.name == rest[0] }) else {
            let line = "No help topic for '\(rest[0])'\n"
            _ = line.withCString { write(2, $0, strlen($0)) }
            return 3
        }
        let abstract = entry.type.configuration.abstract
        let name = "\(prog) \(entry.name) - " + abstract.prefix(1).lowercased() + abstract.dropFirst()
        print(section(name: name, help: entry.type.helpMessage()))
        return 0
    }

    /// ArgumentParser's text without its OVERVIEW paragraph (the NAME line says it).
    private static func section(name: String, help: String) -> String {
        var lines = help.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.first?.hasPrefix("OVERVIEW:") == true {
            while let first = lines.first, !first.isEmpty { lines.removeFirst() }
        }
        return "NAME:\n   \(name)\n" + lines.joined(separator: "\n")
    }
}
