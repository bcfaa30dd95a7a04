// `hatscope record` — placeholder until its issue lands; it says so instead of pretending.
import ArgumentParser

struct Record: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "(not available yet in this build)")

    func run() throws {
        throw CLIError("hatscope record is not available in this build yet")
    }
}
