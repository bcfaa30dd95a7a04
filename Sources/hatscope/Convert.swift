// `hatscope convert` — placeholder until its issue lands; it says so instead of pretending.
import ArgumentParser

struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "(not available yet in this build)")

    func run() throws {
        throw CLIError("hatscope convert is not available in this build yet")
    }
}
