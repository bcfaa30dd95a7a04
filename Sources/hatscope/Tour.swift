// `hatscope tour` — placeholder until its issue lands; it says so instead of pretending.
import ArgumentParser

struct Tour: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tour",
        abstract: "(not available yet in this build)")

    func run() throws {
        throw CLIError("hatscope tour is not available in this build yet")
    }
}
