// `hatscope export` — placeholder until its issue lands; it says so instead of pretending.
import ArgumentParser

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "(not available yet in this build)")

    func run() throws {
        throw CLIError("hatscope export is not available in this build yet")
    }
}
