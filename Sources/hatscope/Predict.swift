// `hatscope predict` — placeholder until its issue lands; it says so instead of pretending.
import ArgumentParser

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "(not available yet in this build)")

    func run() throws {
        throw CLIError("hatscope predict is not available in this build yet")
    }
}
