// --model / --config: a model configuration chosen by preset name or read from a JSON file, and
// --resolution, the input size it is built for (default: the configuration's). Shared
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

    @Option(help: ArgumentHelp("Input resolution HxW (multiples of 32, e.g. 224x320): images are preprocessed to it and the model is built for it, as the official faster_vit_*_any_res(resolution=[H, W]) is. A tensor input gives its resolution by its shape; a checkpoint saved at a non-square carrier grid needs one of them.",
                               valueName: "HxW"))
    var resolution: String?

    var choice: ConfigChoice { ConfigChoice(preset: model, file: config, resolution: resolution) }

    /// The configuration given by --config or --model, or nil when neither is.
    func chosen() throws -> ModelConfig? { try choice.chosen() }
}
