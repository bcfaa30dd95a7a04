// `hatscope record`: one forward pass with the attention recorder, written as safetensors.
import ArgumentParser
import Foundation
import HatCheckpoint
import HatCore
import HatModel
import HatRecording
import HatRecordingFile

struct Record: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Run the model once and save its logits and every attention map (safetensors).",
        discussion: """
        Input: a checkpoint (--checkpoint; the variant is inferred unless --model or --config is \
        given; default: the embedded demo model) and --input (default: the demo image): a .npy or .safetensors tensor \
        [1, 3, H, W] fed to the network as is (H and W multiples of 32; other sizes than the \
        model's run with the official any-res semantics), or a PNG/JPEG preprocessed with the \
        model's eval transform.
        Output (--out, written atomically): a recording file (docs/recording-format.md), \
        safetensors with `input` [1, 3, H, W], `logits` [1, classes], `levels.L.energy` of the \
        convolutional stages, and for every attention module its softmax output under the \
        official module path plus `.probs`: `levels.I.blocks.J.attn.probs` [windows, heads, T, T] \
        (carrier tokens first in each window) and `levels.I.blocks.J.hat_attn.probs` \
        [1, heads, N, N] (carrier tokens in grid order), plus the propagation term where the \
        model has one. Metadata: schema and geometry versions, the configuration, input size, \
        class names, preprocessing, the input file with its SHA-256, the checkpoint file (with its \
        SHA-256 when --hash-checkpoint is given), `buffers` \
        (stored or geometry, see --buffers), notes (one on how the checkpoint's relative-position \
        buffers compare with the geometry). \
        explore, export, stats and tour read it back with --recording, without the model.
        --dtype f16 stores the attention maps as float16 (half the size; values rounded to \
        nearest float16); the default f32 keeps them exact.
        Large models: window maps of all blocks must fit in --max-attention-mb, else only the last \
        block of each stage keeps them (said in the notes); --blocks picks blocks explicitly.

        Examples:
          hatscope record --out demo.safetensors          (the demo model on the demo image)
          hatscope record --checkpoint fastervit_0_224_1k.pth.tar --input x.npy --out rec.safetensors
          hatscope explore --recording rec.safetensors
          hatscope record --checkpoint fastervit_4_21k_768_w48.pth.tar --model faster_vit_4_21k_768 --input cat.jpg --out rec.safetensors --blocks 2.11,3.4
        (the 21k variants share their weight shapes, so name the resolution with --model)
        """)

    @OptionGroup var model: ModelOptions

    @Option(help: ArgumentHelp("Network input: .npy / .safetensors [1, 3, H, W], or a PNG/JPEG image. Default: the demo image.", valueName: "file"))
    var input: String?

    @Option(help: ArgumentHelp("Output .safetensors file.", valueName: "file"))
    var out: String

    @Option(help: ArgumentHelp("Keep window attention only for these blocks: LEVEL.BLOCK list, e.g. 2.0,2.11,3.4.", valueName: "list"))
    var blocks: String?

    @Option(name: .customLong("max-attention-mb"), help: "Budget for all window attention maps when --blocks is not given.")
    var maxAttentionMB: Int = 1024

    @Option(help: ArgumentHelp("Element type of the stored attention maps: f32 (exact) or f16 (half the size).", valueName: "f32|f16"))
    var dtype: String = "f32"

    @Flag(help: "Name the checkpoint by its SHA-256 in the recording (hashing a 128 MB checkpoint takes about 0.4 s, more than the forward pass of faster_vit_0).")
    var hashCheckpoint = false

    func run() throws {
        do {
            guard let mapsType = RecordingDType(rawValue: dtype.lowercased()) else {
                throw CLIError("--dtype must be f32 or f16 (got \(dtype))")
            }
            try checkDestination()
            let options = RecorderOptions(blocks: try parseBlocks(), maxAttentionBytes: max(0, maxAttentionMB) << 20)
            let inputPath = try input ?? DemoAssets.defaultImage
            let given = try EngineInput.tensorFile(inputPath)
            let loaded = try model.load(inputResolution: given.flatMap(EngineInput.resolution))
            if hashCheckpoint { loaded.digest.start() }  // hash while the model runs
            let net = try FasterViT(config: loaded.config, weights: loaded.weights)
            let x = try given ?? EngineInput.load(inputPath, config: loaded.config)
            try net.validate(input: x)
            let recorder = AttentionRecorder(options: options)
            _ = try net.forward(x, recorder: recorder)
            var rec = try recorder.recording()
            rec.notes.append(loaded.bufferAudit(resolution: [x.shape[2], x.shape[3]]).summary())
            rec.provenance = RunProvenance.make(loaded: loaded, isDemo: model.checkpoint == nil, inputPath: inputPath,
                                                isImage: given == nil, buffers: loaded.buffers.rawValue,
                                                checkpointSHA256: hashCheckpoint ? loaded.checkpointSHA256 : nil)
            try RecordingWriter.write(rec, dtype: mapsType, to: out)
            let maps = rec.stages.reduce(0) { $0 + $1.blocks.reduce(0) { $0 + ($1.window == nil ? 0 : 1) + ($1.carrier == nil ? 0 : 1) } }
            let top = rec.topK(1).first.map { "top-1 class \($0.index) (p=\(String(format: "%.3f", $0.probability)))" } ?? ""
            print("wrote \(out): \(maps) attention maps (\(mapsType.element.rawValue)), logits [1, \(rec.logits.count)], \(top)")
            for note in loaded.notes + rec.notes { print("note: \(note)") }
        } catch {
            fail(error)
        }
    }

    private func parseBlocks() throws -> Set<BlockID>? {
        guard let blocks else { return nil }
        var set = Set<BlockID>()
        for item in blocks.split(separator: ",") {
            let parts = item.split(separator: ".")
            guard parts.count == 2, let l = Int(parts[0]), let b = Int(parts[1]), (2...3).contains(l), b >= 0 else {
                throw CLIError("--blocks: '\(item)' is not LEVEL.BLOCK with LEVEL 2 or 3 (e.g. 2.11)")
            }
            set.insert(BlockID(level: l, block: b))
        }
        return set
    }

    /// Fails before any work when the output folder does not exist.
    private func checkDestination() throws {
        let dir = (out as NSString).deletingLastPathComponent
        var isDir: ObjCBool = false
        if !dir.isEmpty && !(FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) && isDir.boolValue) {
            throw CLIError("output folder \(dir) does not exist")
        }
    }
}

/// What `record` writes beside the numbers: checkpoint, input, preprocessing, class names, ...
enum RunProvenance {
    /// Hashes the input file (small); the checkpoint's hash is given when asked for.
    static func make(loaded: LoadedModel, isDemo: Bool, inputPath: String, isImage: Bool, buffers: String,
                     checkpointSHA256: String?) -> Provenance {
        let lower = inputPath.lowercased()
        let kind = isImage ? "image" : lower.hasSuffix(".npy") ? "npy" : "safetensors"
        let config = loaded.config
        let names: [String]
        if isDemo { names = (try? DemoAssets.classNames).flatMap { $0.count == config.numClasses ? $0 : nil } ?? [] }
        else { names = DemoAssets.classNames(forCheckpoint: loaded.checkpointPath, count: config.numClasses) ?? [] }
        return Provenance(
            producer: "hatscope \(HatScopeVersion.string)",
            checkpoint: .init(path: loaded.checkpointPath, sha256: checkpointSHA256.flatMap { $0.count == 64 ? $0 : nil }, demo: isDemo),
            input: .init(kind: kind, path: inputPath, sha256: try? SHA256.hex(ofFile: inputPath)),
            preprocessing: isImage ? InputPreprocessing(height: config.resolution[0], width: config.resolution[1],
                                                        cropPct: config.cropPct, cropMode: config.cropMode) : nil,
            classNames: names,
            // Filled when the engine's interventions reach the command line; until then every
            // forward pass is the plain one.
            interventions: [],
            buffers: buffers)
    }
}
