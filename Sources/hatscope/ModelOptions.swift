// The options every model-running subcommand shares (--checkpoint, --model, --config, --resolution,
// --ema, --buffers) and the one loading path: read the file (torch.save zip/legacy or safetensors)
// -> pick the state dict and strip `module.` -> infer the variant (or take --model / --config) ->
// settle the resolution (--resolution, the input tensor's, or what a checkpoint saved at a
// non-square carrier grid needs) -> strict mapping against the learned tensors the model reads
// (missing / unexpected / mis-shaped, one screenful) -> the learned tensors plus, with --buffers
// stored, the relative-position buffers the official forward reads.
import ArgumentParser
import Foundation
import HatCheckpoint
import HatCore
import HatModel
import HatRecording

struct LoadedModel {
    let config: ModelConfig
    /// Learned tensors and, with --buffers stored, the relative-position buffers the forward reads,
    /// by official state_dict name.
    let weights: DictionaryWeightSource
    /// --buffers
    let buffers: BufferChoice
    /// The checkpoint's relative_coords_table / relative_position_index, used or not, for
    /// `bufferAudit` (the relative_bias caches, up to 340 MB a block in the largest models, are
    /// left to `info`).
    let storedBuffers: [String: Tensor]
    let checkpointPath: String
    /// SHA-256 of the checkpoint file, hashed on a background thread started at load; reading it
    /// waits for the hash (about 1 s per 128 MB) so commands that never ask never wait.
    var checkpointSHA256: String { digest.value }
    let digest: BackgroundDigest
    /// Other top-level entries of the checkpoint, one line each.
    let extras: [String]
    /// Variant inference notes (ambiguities, assumptions).
    var notes: [String] = []
    /// Where the tensors came from inside the file ("state_dict", "(top level)", ...).
    var source: String = ""
    var format: String = ""

    /// The checkpoint's forward buffers against the geometry of an input of `resolution` [H, W].
    func bufferAudit(resolution: [Int]) -> BufferAudit {
        BufferAudit(config: config, tensors: weights.tensors.merging(storedBuffers) { a, _ in a },
                    resolution: resolution, choice: buffers)
    }
}

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

    /// --buffers, checked here (not by the parser) for the one-line `hatscope: ...` error.
    func bufferChoice() throws -> BufferChoice {
        guard let choice = BufferChoice(rawValue: buffers) else {
            throw CLIError("--buffers must be stored or geometry (got '\(buffers)')")
        }
        return choice
    }

    /// The checkpoint path used: `--checkpoint`, else the embedded demo.
    func checkpointPath(override: String? = nil) throws -> String {
        try choice.checkChoice()
        if let p = override ?? checkpoint { return p }
        return try DemoAssets.checkpoint
    }

    /// Reads the state dict and starts hashing the file on a second thread.
    func readStateDict(path: String) throws -> (LoadedStateDict, BackgroundDigest) {
        let loaded = try StateDictLoader.load(path: path, ema: ema)
        return (loaded, BackgroundDigest(path: path))
    }

    /// The configuration: --config, --model (taking the class count from the head), or inferred.
    func resolveConfig(shapes: [String: [Int]]) throws -> (ModelConfig, [String]) {
        if var chosen = try choice.chosen() {
            guard let name = model else { return (chosen, []) }
            var notes: [String] = []
            if let head = shapes["head.weight"], head.count == 2, head[0] != chosen.numClasses {
                chosen.numClasses = head[0]
                notes.append("\(name) with the checkpoint's \(head[0])-class head")
            }
            return (chosen, notes)
        }
        let r = try VariantInference.analyze(shapes: shapes)
        return (r.config, r.notes)
    }

    /// The string value of a training dict's `arch` entry, from the extras summary (`arch: 'name'`).
    static func archName(in extras: [String]) -> String? {
        guard let line = extras.first(where: { $0.hasPrefix("arch: '") && $0.hasSuffix("'") }) else { return nil }
        let name = line.dropFirst("arch: '".count).dropLast()
        guard !name.isEmpty, name.count <= 64,
              name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." }) else { return nil }
        return String(name)
    }

    /// The input size the model is built for: --resolution, else the input tensor's
    /// (`input`, [H, W]) when the checkpoint needs one, else the configuration's. A checkpoint
    /// saved at a non-square carrier grid (hierarchical levels without hat_pos_embed) needs an
    /// input resolution giving such a grid; `describing` (info) shows an example one instead of
    /// failing when none is given. Returns notes for the user.
    func settleResolution(_ config: inout ModelConfig, shapes: [String: [Int]], input: [Int]?, path: String,
                          describing: Bool = false) throws -> [String] {
        let flag = try choice.parsedResolution()
        if let f = flag, let i = input, f != i {
            throw CLIError("--resolution \(f[0])x\(f[1]) but the input tensor is \(i[0])x\(i[1])")
        }
        if let f = flag { config.resolution = f }
        // --config states the configuration explicitly: nothing to recognise.
        let levels = choice.config == nil ? VariantInference.nonSquareLevels(config: config, shapes: shapes) : []
        guard !levels.isEmpty else { return [] }
        let names = levels.map { "levels.\($0)" }.joined(separator: ", ")
        let what = "\(names) \(levels.count == 1 ? "has" : "have") no hat_pos_embed: saved from a model built at a non-square "
            + "carrier grid (faster_vit_any_res.py skips hat_pos_embed there)"
        let example = VariantInference.nonSquareExample(config: config, levels: levels, shapes: shapes)
        let needs = example.map { "an input whose carrier grid is not square, e.g. \($0[0])x\($0[1])" }
            ?? "an input whose carrier grid is not square"
        guard let r = flag ?? input else {
            if describing, let e = example {
                config.resolution = e
                return [what + "; shown at \(e[0])x\(e[1]) (--resolution HxW picks the input size)"]
            }
            throw CLIError("\(path): \(what); it needs \(needs): give a tensor (--input x.npy) or, with an image, --resolution HxW")
        }
        config.resolution = r
        if let problem = VariantInference.nonSquareProblem(config: config, levels: levels, resolution: r) {
            throw CLIError("\(path): \(what), but at \(r[0])x\(r[1]) \(problem); it needs \(needs)")
        }
        return [what + "; built for the \(r[0])x\(r[1]) input"]
    }

    /// The full loading path. `path` overrides --checkpoint (positional arguments of `info`);
    /// `inputResolution` is the input tensor's [H, W] when the input is a tensor.
    func load(path override: String? = nil, inputResolution: [Int]? = nil) throws -> LoadedModel {
        let path = try checkpointPath(override: override)
        let buffers = try bufferChoice()
        let (sd, sha) = try readStateDict(path: path)
        var (config, notes) = try resolveConfig(shapes: sd.shapes)
        // A custom model is named after the checkpoint's own `arch` entry when it has one, so
        // titles say "faster_vit_demo_224" rather than "custom".
        if config.name == "custom", let arch = Self.archName(in: sd.extras) { config.name = arch }
        notes += try settleResolution(&config, shapes: sd.shapes, input: inputResolution, path: path)
        let expected = FasterViT.parameterShapes(for: config)
        do {
            try WeightMapping.verify(file: sd.shapes, expected: expected,
                                     optional: WeightMapping.optionalShapes(for: config))
        } catch let e as WeightError {
            let how = model != nil || self.config != nil ? "the chosen configuration" : "inferred variant \(config.name)"
            throw CLIError("\(path) (\(how)): " + WeightMapping.report(e).joined(separator: "\n"))
        }
        let given = WeightMapping.modelTensors(sd.tensors, buffers: buffers)
        return LoadedModel(config: config, weights: DictionaryWeightSource(given), buffers: buffers,
                           storedBuffers: WeightMapping.modelTensors(sd.tensors, buffers: .stored).filter { WeightMapping.isDerived($0.key) },
                           checkpointPath: path,
                           digest: sha, extras: sd.extras, notes: notes, source: sd.source, format: sd.format)
    }
}

/// The SHA-256 of a file, computed on a background thread once asked for (`start()`, or the first
/// read of `value`, which waits). Lazy, because hashing a large checkpoint would otherwise compete
/// with the forward pass for a core in commands that never show the hash. A file that cannot be
/// read yields "unavailable (reason)" rather than an error: the weights are already loaded.
final class BackgroundDigest: @unchecked Sendable {
    private let done = NSCondition()
    private let path: String
    private var started = false
    private var result: String?

    init(path: String) { self.path = path }

    /// Starts hashing in the background (idempotent), so a later `value` finds it ready.
    func start() {
        done.lock(); defer { done.unlock() }
        guard !started else { return }
        started = true
        let path = self.path
        Thread.detachNewThread { [self] in
            let r: String
            do { r = try SHA256.hex(ofFile: path) } catch { r = "unavailable (\(error))" }
            done.lock(); result = r; done.broadcast(); done.unlock()
        }
    }

    var value: String {
        start()
        done.lock(); defer { done.unlock() }
        while result == nil { done.wait() }
        return result ?? ""
    }
}
