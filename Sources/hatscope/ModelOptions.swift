// The options every model-running subcommand shares (--checkpoint, --model, --config,
// --resolution, --ema, --buffers, --submodule, --allow-nonfinite); loading itself is HatPipeline's ModelLoader.
import ArgumentParser
import HatModel
import HatPipeline

struct ModelOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Checkpoint: torch.save file (.pth/.pth.tar, zip or legacy format) or .safetensors. Default: the embedded demo model.",
                               valueName: "file"))
    var checkpoint: String?

    @OptionGroup var choice: ConfigOptions
    var model: String? { choice.model }
    var config: String? { choice.config }

    @Flag(help: "Load the EMA weights (state_dict_ema) instead of the regular ones.")
    var ema = false

    @Option(help: ArgumentHelp("Relative-position buffers: 'stored' (default) runs on the checkpoint's relative_coords_table and relative_position_index, as the official load_state_dict + forward do, so half-precision and EMA checkpoints (timm's ModelEmaV2 truncates the integer index) give the official results; 'geometry' recomputes them from the window geometry, the values of a freshly built model (to see what the stored ones change).",
                               valueName: "stored|geometry"))
    var buffers: String = BufferChoice.stored.rawValue

    @Option(help: ArgumentHelp("The FasterViT inside a larger model's checkpoint, by its key prefix: 'teacher' for teacher.* keys. Needed only when the checkpoint holds several (one is found on its own, e.g. a Lightning module's model.*).",
                               valueName: "prefix"))
    var submodule: String?

    @Flag(name: .customLong("allow-nonfinite"),
          help: "Load weights holding NaN or infinite values instead of refusing them (results are then reported as NaN).")
    var allowNonfinite = false

    var request: ModelRequest {
        ModelRequest(checkpoint: checkpoint, choice: choice.choice, ema: ema, allowNonfinite: allowNonfinite, buffers: buffers,
                     submodule: submodule)
    }

    /// Each model option with whether it was given (for commands that refuse them beside
    /// --recording).
    var givenOptions: [(option: String, present: Bool)] {
        [("--checkpoint", checkpoint != nil), ("--model", model != nil), ("--config", config != nil),
         ("--resolution", choice.resolution != nil), ("--ema", ema), ("--buffers", buffers != BufferChoice.stored.rawValue),
         ("--allow-nonfinite", allowNonfinite), ("--submodule", submodule != nil)]
    }

    /// Loads and builds the model, ready to run; `inputResolution` is the input tensor's [H, W]
    /// when the input is a tensor (it can decide the size the model is built for).
    func run(inputResolution: [Int]? = nil) throws -> ModelRun {
        try ModelRun(try ModelLoader.load(request, inputResolution: inputResolution), allowNonfinite: allowNonfinite)
    }
}

/// The network input of commands that take one: a photo, .npy or safetensors, `-` for stdin.
struct InputOption: ParsableArguments {
    @Option(name: [.customLong("input"), .customLong("image")],
            help: ArgumentHelp("Network input: a PNG or JPEG photo (preprocessed with the model's eval transform), a .npy array or a safetensors file [1, 3, H, W] (fed as is), or - for standard input. --image is the same option. Default: the demo image.",
                               valueName: "file"))
    var inputs: [String] = []

    /// The one input (the demo image when none is given).
    func path() throws -> String {
        if inputs.count > 1 { throw CLIError("give one --input (or --image); this command takes one input") }
        return try inputs.first ?? DemoAssets.defaultImage
    }
}
