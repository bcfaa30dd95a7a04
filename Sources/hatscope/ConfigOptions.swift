// --model / --config: a model configuration chosen by preset name or read from a JSON file. Shared
// by the commands that load a checkpoint (inside ModelOptions, where they replace the variant
// inferred from the tensors) and by `preprocess`, which has no checkpoint and needs one of them.
import ArgumentParser
import Foundation
import HatModel
import HatRecording

struct ConfigOptions: ParsableArguments {
    @Option(help: ArgumentHelp("An official preset by name (e.g. faster_vit_0_224, faster_vit_4_21k_384); with a checkpoint, used instead of the inferred variant.",
                               valueName: "name"))
    var model: String?

    @Option(help: ArgumentHelp("A model configuration in a JSON file: a ModelConfig, or the official constructor's keyword names (dim, in_dim, depths, num_heads, ...); with a checkpoint, used instead of the inferred variant.",
                               valueName: "file"))
    var config: String?

    /// Checked here rather than in `validate()` so the message takes the project's one-line
    /// `hatscope: ...` form with exit status 1 (callers route errors through `fail`).
    func checkChoice() throws {
        if model != nil && config != nil { throw CLIError("use either --model or --config, not both") }
        if let m = model, ModelConfig.preset(named: m) == nil {
            throw CLIError("unknown model '\(m)'; presets: \(ModelConfig.presets.map(\.name).joined(separator: ", "))")
        }
    }

    /// The configuration given by --config or --model, or nil when neither is.
    func chosen() throws -> ModelConfig? {
        try checkChoice()
        if let file = config {
            guard let data = FileManager.default.contents(atPath: file) else { throw CLIError("cannot read --config \(file)") }
            do { return try ModelConfig.decodeJSON(data) } catch {
                throw CLIError("--config \(file) is not a valid model configuration: \(error)")
            }
        }
        return model.flatMap { ModelConfig.preset(named: $0) }
    }
}
