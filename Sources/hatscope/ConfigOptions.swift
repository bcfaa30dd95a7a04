// --model / --config: a model configuration chosen by preset name or read from a JSON file. Shared
// by the commands that load a checkpoint (inside ModelOptions, where they replace the variant
// inferred from the tensors) and by `preprocess`, which has no checkpoint and needs one of them.
import ArgumentParser
import HatModel
import HatPipeline
import HatRecording

struct ConfigOptions: ParsableArguments {
    @Option(help: ArgumentHelp("An official preset by name (e.g. faster_vit_0_224, faster_vit_4_21k_384); with a checkpoint, used instead of the inferred variant.",
                               valueName: "name"))
    var model: String?

    @Option(help: ArgumentHelp("A model configuration in a JSON file: a ModelConfig, or the official constructor's keyword names (dim, in_dim, depths, num_heads, ...); with a checkpoint, used instead of the inferred variant.",
                               valueName: "file"))
    var config: String?

    var choice: ConfigChoice { ConfigChoice(preset: model, file: config) }

    /// The configuration given by --config or --model, or nil when neither is.
    func chosen() throws -> ModelConfig? { try choice.chosen() }
}
