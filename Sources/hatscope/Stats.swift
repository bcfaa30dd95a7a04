// `hatscope stats` — placeholder until its issue lands; it says so instead of pretending.
import ArgumentParser

struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "(not available yet in this build)")

    func run() throws {
        throw CLIError("hatscope stats is not available in this build yet")
    }
}
