// The hatscope command: a thin front end that wires the libraries together. Every failure, the
// parser's own included, ends as one `hatscope: ...` line on stderr (details indented below it,
// at most ten) and exit status 1; `--help` and `--version` print to stdout and exit 0.
import ArgumentParser
import Foundation
import HatCore
import HatSystem

@main
struct HatScope: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hatscope",
        abstract: "Run FasterViT on the CPU, record its hierarchical attention, explore it in the terminal and export PNG heatmaps.",
        discussion: """
        With no subcommand, opens the terminal explorer on the embedded demo model and image.

        Inputs: every --input / --image takes a PNG or JPEG photo, a .npy array or a safetensors \
        file [1, 3, H, W], or - for standard input. Stages are numbered 1-4 (stage 3 = levels.2).

        Examples:
          hatscope                                   explore the demo
          hatscope explore --checkpoint fastervit_0_224_1k.pth.tar --image cat.jpg
          hatscope export --image cat.jpg --out figs --view local --view carrier
          hatscope record --checkpoint C.pth.tar --input x.npy --out rec.safetensors
        """,
        version: HatScopeVersion.string,
        subcommands: [Explore.self, Record.self, Predict.self, Export.self, Preprocess.self,
                      Info.self, Convert.self, Bench.self, Tour.self, Stats.self, Merge.self, Occlude.self, Faithfulness.self],
        defaultSubcommand: Explore.self
    )

    /// The entry point: signal handlers and the engine's process-wide settings first (the
    /// libraries never change them on their own), then argument parsing and the subcommand.
    static func main() {
        ProcessSignals.install()
        EngineOptions.standard.apply()
        let arguments = Array(CommandLine.arguments.dropFirst())
        var command: ParsableCommand
        do {
            command = try parseAsRoot(arguments)
        } catch {
            parseFailure(error, arguments: arguments)
        }
        do {
            try command.run()
        } catch let code as ExitCode {
            finish(code.rawValue)
        } catch {
            // `hatscope help ...` runs a command that throws the parser's own errors.
            if error is ValidationError || String(reflecting: type(of: error)).hasPrefix("ArgumentParser.") {
                parseFailure(error, arguments: arguments)
            }
            fail(error)
        }
        finish(0)
    }

    /// Help and version requests print as usual; every parse error becomes one line.
    static func parseFailure(_ error: Error, arguments: [String]) -> Never {
        if exitCode(for: error) == .success { exit(withError: error) }
        let text = message(for: error)
            .split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            .joined(separator: "; ")
        let sub = subcommandName(arguments)
        fail(CLIError(lowercasedFirst(text.isEmpty ? "invalid arguments" : text)
                      + " (see `hatscope\(sub.map { " " + $0 } ?? "") --help`)"))
    }

    /// The subcommand the arguments name, if any.
    static func subcommandName(_ arguments: [String]) -> String? {
        let names = Set(configuration.subcommands.map { $0._commandName })
        return arguments.first { names.contains($0) }
    }

    static func lowercasedFirst(_ s: String) -> String {
        guard let f = s.first, f.isUppercase, !(s.dropFirst().first?.isUppercase ?? false) else { return s }
        return f.lowercased() + s.dropFirst()
    }
}

enum HatScopeVersion {
    static let string = "0.1.0"
}
