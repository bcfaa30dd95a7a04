// `hatscope explore` — placeholder until its issue lands; it says so instead of pretending.
import ArgumentParser

struct Explore: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explore",
        abstract: "(not available yet in this build)")

    func run() throws {
        throw CLIError("hatscope explore is not available in this build yet")
    }
}
