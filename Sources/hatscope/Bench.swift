// `hatscope bench` — placeholder until its issue lands; it says so instead of pretending.
import ArgumentParser

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "(not available yet in this build)")

    func run() throws {
        throw CLIError("hatscope bench is not available in this build yet")
    }
}
