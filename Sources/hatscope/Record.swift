// `hatscope record`: one forward pass with the attention recorder, written as safetensors.
import ArgumentParser
import Foundation
import HatCheckpoint
import HatCore
import HatModel
import HatPipeline
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
        device is written into; - is standard output): `input` [1, 3, H, W], `logits` [1, classes], and for \
        every attention module its softmax output under the official module path plus `.probs`: \
        `levels.I.blocks.J.attn.probs` [windows, heads, T, T] (carrier tokens first in each window) \
        and `levels.I.blocks.J.hat_attn.probs` [1, heads, N, N] (carrier tokens in grid order). \
        Metadata: the model configuration (JSON), the checkpoint path, `buffers` (stored or \
        geometry, see --buffers), notes on anything not recorded and one on how the checkpoint's \
        relative-position buffers compare with the geometry.
        Large models: window maps of all blocks must fit in --max-attention-mb, else only the last \
        block of each stage keeps them (said in the notes); --blocks picks blocks explicitly, as \
        STAGE.BLOCK (stages 1-4, stage 3 = levels.2; blocks from 0) or official paths levels.L.blocks.B.

        Examples:
          hatscope record --out demo.safetensors          (the demo model on the demo image)
          hatscope record --checkpoint fastervit_0_224_1k.pth.tar --input x.npy --out rec.safetensors
          hatscope record --checkpoint fastervit_4_21k_768_w48.pth.tar --model faster_vit_4_21k_768 --input cat.jpg --out rec.safetensors --blocks 3.11,4.4
        (the 21k variants share their weight shapes, so name the resolution with --model)
        """)

    @OptionGroup var model: ModelOptions
    @OptionGroup var input: InputOption

    @Option(help: ArgumentHelp("Output .safetensors file (- for standard output).", valueName: "file"))
    var out: String

    @Option(help: ArgumentHelp("Keep window attention only for these blocks: STAGE.BLOCK list (e.g. 3.0,3.11,4.4; stage 3 = levels.2) or levels.L.blocks.B paths.", valueName: "list"))
    var blocks: String?

    @Option(name: .customLong("max-attention-mb"), help: "Budget for all window attention maps when --blocks is not given.")
    var maxAttentionMB: Int = 1024

    func validate() throws {
        guard maxAttentionMB >= 0 && maxAttentionMB <= 1 << 20 else {
            throw ValidationError("--max-attention-mb must be 0-1048576 (got \(maxAttentionMB))")
        }
    }

    func run() throws {
        try OutputFile.preflight(out)
        let file = try NetworkInputReader.open(try input.path())
        let run = try model.run(inputResolution: file.resolution)
        let config = run.config
        let keep = try blocks.map { try StageNumbering.blockList($0, config: config, option: "--blocks") }
        let x = try file.input(for: config)
        var rec = try run.record(x, options: RecorderOptions(blocks: keep, maxAttentionBytes: maxAttentionMB << 20))
        rec.notes.append(run.loaded.bufferAudit(resolution: [x.tensor.shape[2], x.tensor.shape[3]]).summary())
        var tensors: [(name: String, tensor: Tensor)] = [("input", x.tensor), ("logits", Tensor(shape: [1, rec.logits.count], data: rec.logits))]
        var maps = 0
        for stage in rec.stages {
            for (j, b) in stage.blocks.enumerated() {
                if let w = b.window {
                    tensors.append(("levels.\(stage.level).blocks.\(j).attn.probs", Tensor(shape: [w.groups, w.heads, w.queries, w.keys], data: w.probs)))
                    maps += 1
                }
                if let c = b.carrier {
                    tensors.append(("levels.\(stage.level).blocks.\(j).hat_attn.probs", Tensor(shape: [c.groups, c.heads, c.queries, c.keys], data: c.probs)))
                    maps += 1
                }
            }
        }
        // Sorted keys: the same run writes the same bytes.
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let configJSON = String(data: try encoder.encode(config), encoding: .utf8) ?? ""
        // No checkpoint SHA-256 here: hashing a large checkpoint costs more than the whole
        // recording (`hatscope info` prints it).
        var metadata = ["format": "hatscope-recording", "config": configJSON, "checkpoint": run.loaded.checkpointPath,
                        "buffers": run.loaded.buffers.rawValue]
        if !rec.notes.isEmpty { metadata["notes"] = rec.notes.joined(separator: "\n") }
        try SafeTensors.write(tensors, metadata: metadata, to: out)
        // With --out - the recording is stdout; the summary goes to stderr then.
        let top = rec.topK(1).first.map { "top-1 class \($0.index) (p=\(String(format: "%.3f", $0.probability)))" } ?? ""
        let summary = "wrote \(out == "-" ? "standard output" : out): \(maps) attention maps, logits [1, \(rec.logits.count)], \(top)"
        if out == "-" { StandardStreams.error(summary + "\n") } else { print(summary) }
        for n in run.loaded.notes + rec.notes + run.notes {
            if out == "-" { note(n) } else { print("note: \(n)") }
        }
    }
}
