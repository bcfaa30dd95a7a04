// The one loading path for a model: read the checkpoint (torch.save zip/legacy or safetensors) ->
// pick the state dict and strip `module.` / `_orig_mod.` -> take the configuration (--config, --model, or inferred
// from the tensor shapes) -> strict mapping against the tensors the model reads (missing /
// unexpected / mis-shaped) -> refuse NaN or infinite weights unless allowed.
import Foundation
import HatCheckpoint
import HatCore
import HatModel
import HatRecording
import HatSystem

/// A configuration chosen by preset name or JSON file (`--model` / `--config`).
public struct ConfigChoice: Sendable {
    public var preset: String?
    public var file: String?
    /// `--resolution HxW`: the input size the model is built for (default: the configuration's).
    public var resolution: String?
    public init(preset: String? = nil, file: String? = nil, resolution: String? = nil) {
        self.preset = preset; self.file = file; self.resolution = resolution
    }

    /// --resolution as [H, W] (multiples of 32, within the one input-size limit), or nil.
    public func parsedResolution() throws -> [Int]? {
        guard let text = resolution else { return nil }
        let parts = text.lowercased().split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
        let limit = ModelConfig.maxInputSide
        guard parts.count == 2, let h = parts[0], let w = parts[1], h > 0, w > 0 else {
            throw PipelineError("--resolution must be HEIGHTxWIDTH, e.g. 224x320 (got '\(text)')")
        }
        guard h <= limit, w <= limit else {
            throw PipelineError("--resolution \(h)x\(w) is larger than hatscope takes (\(limit) pixels per side at most)")
        }
        guard h % 32 == 0, w % 32 == 0 else {
            throw PipelineError("--resolution \(h)x\(w): height and width must be multiples of 32 (the official any-res model sizes level i as H/2^(2+i))")
        }
        return [h, w]
    }

    public func check() throws {
        if preset != nil && file != nil { throw PipelineError("use either --model or --config, not both") }
        if let m = preset, ModelConfig.preset(named: m) == nil {
            throw PipelineError("unknown model '\(m)'; presets: \(ModelConfig.presets.map(\.name).joined(separator: ", "))")
        }
    }

    /// The configuration given by the file or the preset (with --resolution applied), or nil
    /// when neither is.
    public func chosen() throws -> ModelConfig? {
        try check()
        let size = try parsedResolution()
        var found: ModelConfig?
        if let file {
            let text = try InputFile.readText(file, limit: 1 << 20)
            do { found = try ModelConfig.decodeJSON(Data(text.utf8)) } catch {
                throw PipelineError("--config \(UserMessage.name(file)) is not a valid model configuration: \(error)")
            }
        } else {
            found = preset.flatMap { ModelConfig.preset(named: $0) }
        }
        if let size { found?.resolution = size }
        return found
    }
}

/// What to load: a checkpoint (nil: the embedded demo) and how to read it.
public struct ModelRequest: Sendable {
    public var checkpoint: String?
    public var choice: ConfigChoice
    public var ema: Bool
    /// Load weights holding NaN or infinity instead of refusing them.
    public var allowNonfinite: Bool
    /// `--buffers`: "stored" or "geometry" (checked by `bufferChoice()`).
    public var buffers: String
    /// `--submodule`: the prefix of the FasterViT inside a larger model's state dict (`NestedModel`).
    public var submodule: String?
    public init(checkpoint: String? = nil, choice: ConfigChoice = .init(), ema: Bool = false, allowNonfinite: Bool = false,
                buffers: String = BufferChoice.stored.rawValue, submodule: String? = nil) {
        self.checkpoint = checkpoint; self.choice = choice; self.ema = ema; self.allowNonfinite = allowNonfinite
        self.buffers = buffers; self.submodule = submodule
    }

    public var isDemo: Bool { checkpoint == nil }

    /// --buffers, checked for the one-line error.
    public func bufferChoice() throws -> BufferChoice {
        guard let choice = BufferChoice(rawValue: buffers) else {
            throw PipelineError("--buffers must be stored or geometry (got '\(buffers)')")
        }
        return choice
    }
}

public struct LoadedModel: @unchecked Sendable {
    public var config: ModelConfig
    /// Learned tensors and, with --buffers stored, the relative-position buffers the forward reads,
    /// by official state_dict name.
    public let weights: DictionaryWeightSource
    /// --buffers
    public let buffers: BufferChoice
    /// The checkpoint's relative_coords_table / relative_position_index, used or not, for
    /// `bufferAudit` (the relative_bias caches, up to 340 MB a block in the largest models, are
    /// left to `info`).
    public let storedBuffers: [String: Tensor]
    public let checkpointPath: String
    /// SHA-256 of the checkpoint file, hashed on a background thread started at load; reading it
    /// waits for the hash (about 1 s per 128 MB) so commands that never ask never wait.
    public var checkpointSHA256: String { digest.value }
    public let digest: BackgroundDigest
    /// Other top-level entries of the checkpoint, one line each.
    public let extras: [String]
    /// Variant inference notes (ambiguities, assumptions).
    public var notes: [String] = []
    /// Where the tensors came from inside the file ("state_dict", "(top level)", ...).
    public var source: String = ""
    public var format: String = ""
    /// Tensors holding NaN or infinity (only when allowed).
    public var nonFinite: NonFiniteReport = .init()
    public let isDemo: Bool

    /// The checkpoint's forward buffers against the geometry of an input of `resolution` [H, W].
    public func bufferAudit(resolution: [Int]) -> BufferAudit {
        BufferAudit(config: config, tensors: weights.tensors.merging(storedBuffers) { a, _ in a },
                    resolution: resolution, choice: buffers)
    }
}

public enum ModelLoader {
    /// The checkpoint path used: `override`, the request's, else the embedded demo.
    public static func checkpointPath(_ r: ModelRequest, override: String? = nil) throws -> String {
        try r.choice.check()
        if let p = override ?? r.checkpoint {
            if p.isEmpty { throw PipelineError("--checkpoint: empty file name") }
            return p
        }
        return try DemoAssets.checkpoint
    }

    /// Reads the state dict and prepares hashing the file on a second thread.
    public static func readStateDict(_ r: ModelRequest, path: String) throws -> (LoadedStateDict, BackgroundDigest) {
        var st = stat()
        if stat(path, &st) == 0, st.st_mode & S_IFMT != S_IFREG, st.st_mode & S_IFMT != S_IFDIR {
            throw PipelineError("\(UserMessage.name(path)): a checkpoint must be a regular file (it is memory-mapped); "
                                + "save the stream to a file first")
        }
        let loaded: LoadedStateDict
        do {
            loaded = try NestedModel.locate(try StateDictLoader.load(path: path, ema: r.ema), submodule: r.submodule)
        } catch let error as CheckpointError where r.ema {
            // No top-level EMA entry: the trainer may keep its EMA copy as a submodule beside the
            // network ('model_ema.module.*' in a LightningModule's state_dict).
            guard case .noStateDict = error else { throw error }
            let plain = try StateDictLoader.load(path: path)
            guard NestedModel.prefixes(in: plain).contains(where: NestedModel.isEMA) else { throw error }
            loaded = try NestedModel.locate(plain, submodule: r.submodule, ema: true)
        }
        return (loaded, BackgroundDigest(path: path))
    }

    /// The configuration: --config, --model (taking the class count from the head), or inferred.
    public static func resolveConfig(_ r: ModelRequest, shapes: [String: [Int]]) throws -> (ModelConfig, [String]) {
        if var chosen = try r.choice.chosen() {
            guard let name = r.choice.preset else { return (chosen, []) }
            var notes: [String] = []
            if let head = shapes["head.weight"], head.count == 2, head[0] != chosen.numClasses {
                chosen.numClasses = head[0]
                notes.append("\(name) with the checkpoint's \(head[0])-class head")
            }
            return (chosen, notes)
        }
        let result = try VariantInference.analyze(shapes: shapes)
        return (result.config, result.notes)
    }

    /// The string value of a training dict's `arch` entry, from the extras summary (`arch: 'name'`).
    public static func archName(in extras: [String]) -> String? {
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
    public static func settleResolution(_ r: ModelRequest, _ config: inout ModelConfig, shapes: [String: [Int]],
                                        input: [Int]?, path: String, describing: Bool = false) throws -> [String] {
        let flag = try r.choice.parsedResolution()
        if let f = flag, let i = input, f != i {
            throw PipelineError("--resolution \(f[0])x\(f[1]) but the input tensor is \(i[0])x\(i[1])")
        }
        if let f = flag { config.resolution = f }
        // --config states the configuration explicitly: nothing to recognise.
        let levels = r.choice.file == nil ? VariantInference.nonSquareLevels(config: config, shapes: shapes) : []
        guard !levels.isEmpty else { return [] }
        let names = levels.map { "levels.\($0)" }.joined(separator: ", ")
        let what = "\(names) \(levels.count == 1 ? "has" : "have") no hat_pos_embed: saved from a model built at a non-square "
            + "carrier grid (faster_vit_any_res.py skips hat_pos_embed there)"
        let example = VariantInference.nonSquareExample(config: config, levels: levels, shapes: shapes)
        let needs = example.map { "an input whose carrier grid is not square, e.g. \($0[0])x\($0[1])" }
            ?? "an input whose carrier grid is not square"
        guard let size = flag ?? input else {
            if describing, let e = example {
                config.resolution = e
                return [what + "; shown at \(e[0])x\(e[1]) (--resolution HxW picks the input size)"]
            }
            throw PipelineError("\(UserMessage.name(path)): \(what); it needs \(needs): give a tensor (--input x.npy) or, with an image, --resolution HxW")
        }
        config.resolution = size
        if let problem = VariantInference.nonSquareProblem(config: config, levels: levels, resolution: size) {
            throw PipelineError("\(UserMessage.name(path)): \(what), but at \(size[0])x\(size[1]) \(problem); it needs \(needs)")
        }
        return [what + "; built for the \(size[0])x\(size[1]) input"]
    }

    /// The full loading path. `path` overrides the request's checkpoint (`info`'s argument);
    /// `inputResolution` is the input tensor's [H, W] when the input is a tensor.
    public static func load(_ r: ModelRequest, path override: String? = nil, inputResolution: [Int]? = nil) throws -> LoadedModel {
        let path = try checkpointPath(r, override: override)
        let buffers = try r.bufferChoice()
        let (sd, sha) = try readStateDict(r, path: path)
        var (config, notes) = try resolveConfig(r, shapes: sd.shapes)
        // A custom model is named after the checkpoint's own `arch` entry when it has one, so
        // titles say "faster_vit_demo_224" rather than "custom" (and the inference's "no preset
        // matches" note, which the name already answers, is dropped).
        if config.name == "custom", let arch = archName(in: sd.extras) {
            config.name = arch
            notes.removeAll { $0.hasPrefix("no official preset matches") }
        }
        notes += try settleResolution(r, &config, shapes: sd.shapes, input: inputResolution, path: path)
        let expected = FasterViT.parameterShapes(for: config)
        do {
            try WeightMapping.verify(file: sd.shapes, expected: expected,
                                     optional: WeightMapping.optionalShapes(for: config))
        } catch let e as WeightError {
            let how = r.choice.preset != nil || r.choice.file != nil ? "the chosen configuration" : "inferred variant \(config.name)"
            var summary = "\(UserMessage.name(path)) does not match \(how)"
            if case let .mapping(missing, unexpected, misshaped) = e {
                summary += " (\(missing.count) missing, \(unexpected.count) unexpected, \(misshaped.count) mis-shaped keys)"
            } else {
                summary += ": \(e)"
            }
            let keys = WeightMapping.report(e, limit: 8).dropFirst().map { $0.trimmingCharacters(in: .whitespaces) }
            throw PipelineError(summary, details: keys.isEmpty ? [] : keys + ["`hatscope info` lists every key"])
        }
        let given = WeightMapping.modelTensors(sd.tensors, buffers: buffers)
        let report = NonFiniteReport.scan(given)
        if !report.isEmpty && !r.allowNonfinite {
            throw PipelineError("\(UserMessage.name(path)): \(report.summary); refusing to load it (--allow-nonfinite loads it anyway)",
                                details: report.lines)
        }
        return LoadedModel(config: config, weights: DictionaryWeightSource(given), buffers: buffers,
                           storedBuffers: WeightMapping.modelTensors(sd.tensors, buffers: .stored).filter { WeightMapping.isDerived($0.key) },
                           checkpointPath: path, digest: sha, extras: sd.extras, notes: notes, source: sd.source,
                           format: sd.format, nonFinite: report, isDemo: r.isDemo && override == nil)
    }
}

/// Which tensors hold NaN or infinite values, and how many.
public struct NonFiniteReport: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var nan: Int
        public var infinite: Int
        public var count: Int
    }
    public var entries: [Entry] = []
    public init() {}

    public var isEmpty: Bool { entries.isEmpty }

    /// "3 tensors hold non-finite values (12 NaN, 1 infinite)".
    public var summary: String {
        let nan = entries.reduce(0) { $0 + $1.nan }, inf = entries.reduce(0) { $0 + $1.infinite }
        return "\(entries.count) tensor\(entries.count == 1 ? "" : "s") hold\(entries.count == 1 ? "s" : "") non-finite values "
            + "(\(nan) NaN, \(inf) infinite)"
    }

    /// One line per tensor, in name order.
    public var lines: [String] {
        entries.map { "\($0.name): \($0.nan) NaN, \($0.infinite) infinite of \($0.count) values" }
    }

    /// Scans every tensor (a vectorised check first; counting only where it fails).
    public static func scan(_ tensors: [String: Tensor]) -> NonFiniteReport {
        var report = NonFiniteReport()
        for (name, t) in tensors where !allFinite(t.data) {
            var nan = 0, inf = 0
            for v in t.data where !v.isFinite { if v.isNaN { nan += 1 } else { inf += 1 } }
            report.entries.append(Entry(name: name, nan: nan, infinite: inf, count: t.data.count))
        }
        report.entries.sort { $0.name < $1.name }
        return report
    }

    /// Whether every value is finite (the engine's vectorised check).
    public static func allFinite(_ v: [Float]) -> Bool { FasterViT.allFinite(v) }
}

/// The SHA-256 of a file, computed on a background thread once asked for (`start()`, or the first
/// read of `value`, which waits). Lazy, because hashing a large checkpoint would otherwise compete
/// with the forward pass for a core in commands that never show the hash. A file that cannot be
/// read yields "unavailable (reason)" rather than an error: the weights are already loaded.
public final class BackgroundDigest: @unchecked Sendable {
    private let done = NSCondition()
    private let path: String
    private var started = false
    private var result: String?

    public init(path: String) { self.path = path }

    /// Starts hashing in the background (idempotent), so a later `value` finds it ready.
    public func start() {
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

    public var value: String {
        start()
        done.lock(); defer { done.unlock() }
        while result == nil { done.wait() }
        return result ?? ""
    }
}
