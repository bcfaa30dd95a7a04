// `hatscope preprocess` — placeholder until its issue lands; it says so instead of pretending.
import ArgumentParser

struct Preprocess: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preprocess",
        abstract: "(not available yet in this build)")

    func run() throws {
        throw CLIError("hatscope preprocess is not available in this build yet")
    }
}
