// The hatscope command: a thin front end that wires the libraries together.
import ArgumentParser
import HatCore

@main
struct HatScope: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hatscope",
        abstract: "Run FasterViT on the CPU, record its hierarchical attention, explore it in the terminal and export PNG heatmaps.",
        discussion: """
        With no subcommand, opens the terminal explorer on the embedded demo model and image.

        Examples:
          hatscope                                   explore the demo
          hatscope explore --checkpoint fastervit_0_224_1k.pth.tar --image cat.jpg
          hatscope export --image cat.jpg --out figs --view local --view carrier
          hatscope record --checkpoint C.pth.tar --input x.npy --out rec.safetensors
        """,
        version: HatScopeVersion.string,
        subcommands: [Explore.self, Record.self, Predict.self, Export.self, Preprocess.self,
                      Info.self, Convert.self, Bench.self, Tour.self, Stats.self],
        defaultSubcommand: Explore.self
    )

    /// The entry point: the engine's process-wide settings first (the libraries never change them
    /// on their own), then argument parsing and the subcommand.
    static func main() {
        EngineOptions.standard.apply()
        main(nil)
    }
}

enum HatScopeVersion {
    static let string = "0.1.0"
}
