// The options every model-running subcommand shares (--checkpoint, --model, --config, --ema) and
// the one loading path: read the file (torch.save zip/legacy or safetensors) -> pick the state dict
// and strip `module.` -> infer the variant (or take --model / --config) -> strict mapping against
// the tensors the model reads (missing / unexpected / mis-shaped, one screenful).
import ArgumentParser
import Foundation
import HatCheckpoint
import HatCore
import HatModel

struct LoadedModel {
    let config: ModelConfig
    /// Learned tensors only (derived buffers dropped), by official state_dict name.
    let weights: DictionaryWeightSource
    let checkpointPath: String
    let checkpointSHA256: String
    /// Other top-level entries of the checkpoint, one line each.
    let extras: [String]
    /// Variant inference notes (ambiguities, assumptions).
    var notes: [String] = []
    /// Where the tensors came from inside the file ("state_dict", "(top level)", ...).
    var source: String = ""
    var format: String = ""
}

struct ModelOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Checkpoint: torch.save file (.pth/.pth.tar, zip or legacy format) or .safetensors. Default: the embedded demo model.",
                               valueName: "file"))
    var checkpoint: String?

    @Option(help: ArgumentHelp("Use this official preset instead of the inferred variant (e.g. faster_vit_4_21k_384).", valueName: "name"))
    var model: String?

    @Option(help: ArgumentHelp("Use the model configuration in this JSON file (a ModelConfig) instead of the inferred variant.", valueName: "file"))
    var config: String?

    @Flag(help: "Load the EMA weights (state_dict_ema) instead of the regular ones.")
    var ema = false

    func validate() throws {
        if model != nil && config != nil { throw ValidationError("use either --model or --config, not both") }
        if let m = model, ModelConfig.preset(named: m) == nil {
            throw ValidationError("unknown model '\(m)'; presets: \(ModelConfig.presets.map(\.name).joined(separator: ", "))")
        }
    }

    /// The checkpoint path used: `--checkpoint`, else the embedded demo.
    func checkpointPath(override: String? = nil) throws -> String {
        if let p = override ?? checkpoint { return p }
        return try DemoAssets.checkpoint
    }

    /// Reads the state dict and the SHA-256 of the file, hashing on a second thread while the
    /// tensors are converted (both read the same page-cached file).
    func readStateDict(path: String) throws -> (LoadedStateDict, String) {
        final class Box: @unchecked Sendable { var value: Result<String, Error> = .success("") }
        let box = Box()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            box.value = Result { try SHA256.hex(ofFile: path) }
            group.leave()
        }
        let loaded: LoadedStateDict
        do { loaded = try StateDictLoader.load(path: path, ema: ema) } catch {
            group.wait()
            throw error
        }
        group.wait()
        return (loaded, try box.value.get())
    }

    /// The configuration: --config, --model (taking the class count from the head), or inferred.
    func resolveConfig(shapes: [String: [Int]]) throws -> (ModelConfig, [String]) {
        if let file = config {
            guard let data = FileManager.default.contents(atPath: file) else { throw CLIError("cannot read --config \(file)") }
            do { return (try JSONDecoder().decode(ModelConfig.self, from: data), []) } catch {
                throw CLIError("--config \(file) is not a valid model configuration: \(error.localizedDescription)")
            }
        }
        if let name = model, var preset = ModelConfig.preset(named: name) {
            var notes: [String] = []
            if let head = shapes["head.weight"], head.count == 2, head[0] != preset.numClasses {
                preset.numClasses = head[0]
                notes.append("\(name) with the checkpoint's \(head[0])-class head")
            }
            return (preset, notes)
        }
        let r = try VariantInference.analyze(shapes: shapes)
        return (r.config, r.notes)
    }

    /// The full loading path. `path` overrides --checkpoint (positional arguments of `info`).
    func load(path override: String? = nil) throws -> LoadedModel {
        let path = try checkpointPath(override: override)
        let (sd, sha) = try readStateDict(path: path)
        let (config, notes) = try resolveConfig(shapes: sd.shapes)
        let expected = FasterViT.parameterShapes(for: config)
        do { try WeightMapping.verify(file: sd.shapes, expected: expected) } catch let e as WeightError {
            let how = model != nil || self.config != nil ? "the chosen configuration" : "inferred variant \(config.name)"
            throw CLIError("\(path) (\(how)): \(e.description)")
        }
        let learned = sd.tensors.filter { !WeightMapping.isDerived($0.key) }
        return LoadedModel(config: config, weights: DictionaryWeightSource(learned), checkpointPath: path,
                           checkpointSHA256: sha, extras: sd.extras, notes: notes, source: sd.source, format: sd.format)
    }
}
