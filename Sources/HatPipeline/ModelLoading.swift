// The one loading path for a model: read the checkpoint (torch.save zip/legacy or safetensors) ->
// pick the state dict and strip `module.` -> take the configuration (--config, --model, or inferred
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
    public init(preset: String? = nil, file: String? = nil) { self.preset = preset; self.file = file }

    public func check() throws {
        if preset != nil && file != nil { throw PipelineError("use either --model or --config, not both") }
        if let m = preset, ModelConfig.preset(named: m) == nil {
            throw PipelineError("unknown model '\(m)'; presets: \(ModelConfig.presets.map(\.name).joined(separator: ", "))")
        }
    }

    /// The configuration given by the file or the preset, or nil when neither is.
    public func chosen() throws -> ModelConfig? {
        try check()
        if let file {
            let text = try InputFile.readText(file, limit: 1 << 20)
            do { return try ModelConfig.decodeJSON(Data(text.utf8)) } catch {
                throw PipelineError("--config \(UserMessage.name(file)) is not a valid model configuration: \(error)")
            }
        }
        return preset.flatMap { ModelConfig.preset(named: $0) }
    }
}

/// What to load: a checkpoint (nil: the embedded demo) and how to read it.
public struct ModelRequest: Sendable {
    public var checkpoint: String?
    public var choice: ConfigChoice
    public var ema: Bool
    /// Load weights holding NaN or infinity instead of refusing them.
    public var allowNonfinite: Bool
    public init(checkpoint: String? = nil, choice: ConfigChoice = .init(), ema: Bool = false, allowNonfinite: Bool = false) {
        self.checkpoint = checkpoint; self.choice = choice; self.ema = ema; self.allowNonfinite = allowNonfinite
    }

    public var isDemo: Bool { checkpoint == nil }
}

public struct LoadedModel: @unchecked Sendable {
    public var config: ModelConfig
    /// Learned tensors only (derived buffers dropped), by official state_dict name.
    public let weights: DictionaryWeightSource
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
        let loaded = try StateDictLoader.load(path: path, ema: r.ema)
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

    /// The full loading path. `path` overrides the request's checkpoint (`info`'s argument).
    public static func load(_ r: ModelRequest, path override: String? = nil) throws -> LoadedModel {
        let path = try checkpointPath(r, override: override)
        let (sd, sha) = try readStateDict(r, path: path)
        var (config, notes) = try resolveConfig(r, shapes: sd.shapes)
        // A custom model is named after the checkpoint's own `arch` entry when it has one, so
        // titles say "faster_vit_demo_224" rather than "custom" (and the inference's "no preset
        // matches" note, which the name already answers, is dropped).
        if config.name == "custom", let arch = archName(in: sd.extras) {
            config.name = arch
            notes.removeAll { $0.hasPrefix("no official preset matches") }
        }
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
        let learned = sd.tensors.filter { !WeightMapping.isDerived($0.key) }
        let report = NonFiniteReport.scan(learned)
        if !report.isEmpty && !r.allowNonfinite {
            throw PipelineError("\(UserMessage.name(path)): \(report.summary); refusing to load it (--allow-nonfinite loads it anyway)",
                                details: report.lines)
        }
        return LoadedModel(config: config, weights: DictionaryWeightSource(learned), checkpointPath: path,
                           digest: sha, extras: sd.extras, notes: notes, source: sd.source, format: sd.format,
                           nonFinite: report, isDemo: r.isDemo && override == nil)
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
