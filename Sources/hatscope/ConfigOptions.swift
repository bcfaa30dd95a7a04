// --model / --config: a model configuration chosen by preset name or read from a JSON file, and
// --resolution, the input size it is built for (default: the configuration's). Shared
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

    @Option(help: ArgumentHelp("Input resolution HxW (multiples of 32, e.g. 224x320): images are preprocessed to it and the model is built for it, as the official faster_vit_*_any_res(resolution=[H, W]) is. A tensor input gives its resolution by its shape; a checkpoint saved at a non-square carrier grid needs one of them.",
                               valueName: "HxW"))
    var resolution: String?

    /// --resolution as [H, W], or nil.
    func parsedResolution() throws -> [Int]? {
        guard let text = resolution else { return nil }
        let parts = text.lowercased().split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
        guard parts.count == 2, let h = parts[0], let w = parts[1], h > 0, w > 0, h <= 16384, w <= 16384 else {
            throw CLIError("--resolution must be HEIGHTxWIDTH, e.g. 224x320 (got '\(text)')")
        }
        guard h % 32 == 0, w % 32 == 0 else {
            throw CLIError("--resolution \(h)x\(w): height and width must be multiples of 32 (the official any-res model sizes level i as H/2^(2+i))")
        }
        return [h, w]
    }

    /// Checked here rather than in `validate()` so the message takes the project's one-line
    /// `hatscope: ...` form with exit status 1 (callers route errors through `fail`).
    func checkChoice() throws {
        if model != nil && config != nil { throw CLIError("use either --model or --config, not both") }
        if let m = model, ModelConfig.preset(named: m) == nil {
            throw CLIError("unknown model '\(m)'; presets: \(ModelConfig.presets.map(\.name).joined(separator: ", "))")
        }
    }

    /// The configuration given by --config or --model (with --resolution applied), or nil when
    /// neither is.
    func chosen() throws -> ModelConfig? {
        try checkChoice()
        let size = try parsedResolution()
        var found: ModelConfig?
        if let file = config {
            guard let data = FileManager.default.contents(atPath: file) else { throw CLIError("cannot read --config \(file)") }
            do { found = try ModelConfig.decodeJSON(data) } catch {
                throw CLIError("--config \(file) is not a valid model configuration: \(error)")
            }
        } else {
            found = model.flatMap { ModelConfig.preset(named: $0) }
        }
        if let size { found?.resolution = size }
        return found
    }
}
