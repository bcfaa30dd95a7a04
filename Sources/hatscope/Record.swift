// `hatscope record`: one forward pass with the attention recorder, written as safetensors.
import ArgumentParser
import Foundation
import HatCheckpoint
import HatCore
import HatModel
import HatPipeline
import HatRecordingFile
import HatRecording
import HatSystem

struct Record: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Run the model once and save its logits and every attention map (safetensors).",
        discussion: """
        Input: a checkpoint (--checkpoint; the variant is inferred unless --model or --config is \
        given; default: the embedded demo model) and --input (default: the demo image): a PNG/JPEG \
        preprocessed with the model's eval transform, or a .npy or .safetensors tensor \
        [1, 3, H, W] fed to the network as is (H and W multiples of 32; other sizes than the \
        model's run with the official any-res semantics); - reads standard input.
        Output (--out; a new or regular file is replaced whole, never half-written; a FIFO or \
        device is written into; - is standard output): a recording file \
        (docs/recording-format.md), safetensors with `input` [1, 3, H, W], `logits` [1, classes], \
        `levels.L.energy` of the convolutional stages, and for every attention module its softmax \
        output under the official module path plus `.probs`: `levels.I.blocks.J.attn.probs` \
        [windows, heads, T, T] (carrier tokens first in each window) and \
        `levels.I.blocks.J.hat_attn.probs` [1, heads, N, N] (carrier tokens in grid order), plus the \
        propagation term where the model has one. Metadata: schema and geometry versions, the \
        configuration, input size, class names, preprocessing, the input file with its SHA-256, the \
        checkpoint file (with its SHA-256 when --hash-checkpoint is given), `buffers` (stored or \
        geometry, see --buffers), notes (one on how the checkpoint's relative-position buffers \
        compare with the geometry), `interventions` (each in its option spelling, e.g. \
        `--cut-global levels.2`; the stored input is the occluded one). explore, export, stats and \
        tour read it back with --recording, without the model.
        Interventions (--occlude, --occlude-box, --ablate-head, --cut-carriers, --cut-global, \
        --no-propagation; repeatable, composable) change the forward pass; one that does not apply \
        to the model is refused in one line before anything runs.
        --dtype f16 stores the attention maps as float16 (half the size; values rounded to \
        nearest float16); the default f32 keeps them exact.
        Large models: window maps of all blocks must fit in --max-attention-mb, else only the last \
        block of each stage keeps them (said in the notes); --blocks picks blocks explicitly, as \
        STAGE.BLOCK (stages 1-4, stage 3 = levels.2; blocks from 0) or official paths levels.L.blocks.B.

        Examples:
          hatscope record --out demo.safetensors          (the demo model on the demo image)
          hatscope record --checkpoint fastervit_0_224_1k.pth.tar --input x.npy --out rec.safetensors
          hatscope explore --recording rec.safetensors
          hatscope record --cut-global levels.2 --out cut.safetensors   (carriers attend only to themselves)
          hatscope record --checkpoint fastervit_4_21k_768_w48.pth.tar --model faster_vit_4_21k_768 --input cat.jpg --out rec.safetensors --blocks 3.11,4.4
        (the 21k variants share their weight shapes, so name the resolution with --model)
        """)

    @OptionGroup var model: ModelOptions
    @OptionGroup var input: InputOption
    @OptionGroup(title: InterventionOptions.title) var interventions: InterventionOptions

    @Option(help: ArgumentHelp("Output .safetensors file (- for standard output).", valueName: "file"))
    var out: String

    @Option(help: ArgumentHelp("Keep window attention only for these blocks: STAGE.BLOCK list (e.g. 3.0,3.11,4.4; stage 3 = levels.2) or levels.L.blocks.B paths.", valueName: "list"))
    var blocks: String?

    @Option(name: .customLong("max-attention-mb"), help: "Budget for all window attention maps when --blocks is not given.")
    var maxAttentionMB: Int = 1024

    @Option(help: ArgumentHelp("Element type of the stored attention maps: f32 (exact) or f16 (half the size).", valueName: "f32|f16"))
    var dtype: String = "f32"

    @Flag(help: "Name the checkpoint by its SHA-256 in the recording (hashing a 128 MB checkpoint takes about 0.4 s, more than the forward pass of faster_vit_0).")
    var hashCheckpoint = false

    func validate() throws {
        guard maxAttentionMB >= 0 && maxAttentionMB <= 1 << 20 else {
            throw ValidationError("--max-attention-mb must be 0-1048576 (got \(maxAttentionMB))")
        }
        guard RecordingDType(rawValue: dtype.lowercased()) != nil else {
            throw ValidationError("--dtype must be f32 or f16 (got \(dtype))")
        }
    }

    func run() throws {
        try OutputFile.preflight(out)
        let file = try NetworkInputReader.open(try input.path())
        let run = try model.run(inputResolution: file.resolution)
        if hashCheckpoint { run.loaded.digest.start() }  // hash while the model runs
        let config = run.config
        let keep = try blocks.map { try StageNumbering.blockList($0, config: config, option: "--blocks") }
        let x = try file.input(for: config)
        let edits = try interventions.resolve(config: config, height: x.tensor.shape[2], width: x.tensor.shape[3])
        var rec = try run.record(x, options: RecorderOptions(blocks: keep, maxAttentionBytes: maxAttentionMB << 20),
                                 interventions: edits)
        rec.notes.append(run.loaded.bufferAudit(resolution: [x.tensor.shape[2], x.tensor.shape[3]]).summary())
        rec.provenance = RunProvenance.make(run.loaded, input: x, buffers: run.loaded.buffers.rawValue,
                                            interventions: rec.provenance.interventions,
                                            checkpointSHA256: hashCheckpoint ? run.loaded.checkpointSHA256 : nil)
        let mapsType = RecordingDType(rawValue: dtype.lowercased()) ?? .f32
        try RecordingWriter.write(rec, dtype: mapsType, to: out)
        let maps = rec.stages.reduce(0) { $0 + $1.blocks.reduce(0) { $0 + ($1.window == nil ? 0 : 1) + ($1.carrier == nil ? 0 : 1) } }
        // With --out - the recording is stdout; the summary goes to stderr then.
        let top = rec.topK(1).first.map { "top-1 class \($0.index) (p=\(String(format: "%.3f", $0.probability)))" } ?? ""
        let summary = "wrote \(out == "-" ? "standard output" : out): \(maps) attention maps (\(mapsType.element.rawValue)), logits [1, \(rec.logits.count)], \(top)"
        if out == "-" { StandardStreams.error(summary + "\n") } else { print(summary) }
        for n in run.loaded.notes + rec.notes + run.notes {
            if out == "-" { note(n) } else { print("note: \(n)") }
        }
    }
}

/// What `record` writes beside the numbers: checkpoint, input, preprocessing, class names, ...
enum RunProvenance {
    /// Hashes the input file when it is a regular file (small; a stream is read once and gone);
    /// the checkpoint's hash is given when asked for.
    /// `interventions`: the forward pass's, in their CLI spelling (the engine names them in each
    /// recording's provenance).
    static func make(_ loaded: LoadedModel, input: NetworkInput, buffers: String, interventions: [String],
                     checkpointSHA256: String?) -> Provenance {
        let config = loaded.config
        let names: [String]
        if loaded.isDemo { names = (try? DemoAssets.classNames).flatMap { $0.count == config.numClasses ? $0 : nil } ?? [] }
        else { names = DemoAssets.classNames(forCheckpoint: loaded.checkpointPath, count: config.numClasses) ?? [] }
        let isImage = input.kind == .image
        let regular = input.path != "-"
            && (try? FileManager.default.attributesOfItem(atPath: input.path)[.type] as? FileAttributeType) == .typeRegular
        return Provenance(
            producer: "hatscope \(HatScopeVersion.string)",
            checkpoint: .init(path: loaded.checkpointPath, sha256: checkpointSHA256.flatMap { $0.count == 64 ? $0 : nil },
                              demo: loaded.isDemo),
            input: .init(kind: input.kind.rawValue, path: input.path, sha256: regular ? try? SHA256.hex(ofFile: input.path) : nil),
            preprocessing: isImage ? InputPreprocessing(height: config.resolution[0], width: config.resolution[1],
                                                        cropPct: config.cropPct, cropMode: config.cropMode) : nil,
            classNames: names,
            interventions: interventions,
            buffers: buffers)
    }
}
