// `hatscope info` — placeholder until its issue lands; it says so instead of pretending.
import ArgumentParser

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "(not available yet in this build)")

    func run() throws {
        throw CLIError("hatscope info is not available in this build yet")
    }
}
