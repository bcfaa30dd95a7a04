// The options every model-running subcommand shares (--checkpoint, --model, --config, --ema) and
// the one loading path: read the file (torch.save zip/legacy or safetensors) -> pick the state dict
// and strip `module.` -> infer the variant (or take --model / --config) -> strict mapping against
// the tensors the model reads (missing / unexpected / mis-shaped, one screenful).
import ArgumentParser
import Foundation
import HatCheckpoint
import HatCore
import HatModel
import HatRecording

struct LoadedModel {
    let config: ModelConfig
    /// Learned tensors only (derived buffers dropped), by official state_dict name.
    let weights: DictionaryWeightSource
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

    /// The full loading path. `path` overrides --checkpoint (positional arguments of `info`).
    func load(path override: String? = nil) throws -> LoadedModel {
        let path = try checkpointPath(override: override)
        let (sd, sha) = try readStateDict(path: path)
        var (config, notes) = try resolveConfig(shapes: sd.shapes)
        // A custom model is named after the checkpoint's own `arch` entry when it has one, so
        // titles say "faster_vit_demo_224" rather than "custom".
        if config.name == "custom", let arch = Self.archName(in: sd.extras) { config.name = arch }
        let expected = FasterViT.parameterShapes(for: config)
        do {
            try WeightMapping.verify(file: sd.shapes, expected: expected,
                                     optional: WeightMapping.optionalShapes(for: config))
        } catch let e as WeightError {
            let how = model != nil || self.config != nil ? "the chosen configuration" : "inferred variant \(config.name)"
            throw CLIError("\(path) (\(how)): " + WeightMapping.report(e).joined(separator: "\n"))
        }
        let learned = sd.tensors.filter { !WeightMapping.isDerived($0.key) }
        return LoadedModel(config: config, weights: DictionaryWeightSource(learned), checkpointPath: path,
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
