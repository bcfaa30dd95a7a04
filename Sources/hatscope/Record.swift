// `hatscope record`: one forward pass with the attention recorder, written as safetensors.
import ArgumentParser
import Foundation
import HatCheckpoint
import HatCore
import HatModel

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
        Output (--out, written atomically): `input` [1, 3, H, W], `logits` [1, classes], and for \
        every attention module its softmax output under the official module path plus `.probs`: \
        `levels.I.blocks.J.attn.probs` [windows, heads, T, T] (carrier tokens first in each window) \
        and `levels.I.blocks.J.hat_attn.probs` [1, heads, N, N] (carrier tokens in grid order). \
        Metadata: the model configuration (JSON), the checkpoint path, notes on anything not \
        recorded.
        Large models: window maps of all blocks must fit in --max-attention-mb, else only the last \
        block of each stage keeps them (said in the notes); --blocks picks blocks explicitly.

        Examples:
          hatscope record --out demo.safetensors          (the demo model on the demo image)
          hatscope record --checkpoint fastervit_0_224_1k.pth.tar --input x.npy --out rec.safetensors
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

    func run() throws {
        do {
            try checkDestination()
            let options = RecorderOptions(blocks: try parseBlocks(), maxAttentionBytes: max(0, maxAttentionMB) << 20)
            let loaded = try model.load()
            let net = try FasterViT(config: loaded.config, weights: loaded.weights)
            let path = try input ?? DemoAssets.defaultImage
            let x = try EngineInput.single(EngineInput.load(path, config: loaded.config), from: path)
            try net.validate(input: x)
            let recorder = AttentionRecorder(options: options)
            _ = try net.forward(x, recorder: recorder)
            let rec = try recorder.recording()
            var tensors: [(name: String, tensor: Tensor)] = [("input", x), ("logits", Tensor(shape: [1, rec.logits.count], data: rec.logits))]
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
            let configJSON = String(data: try JSONEncoder().encode(loaded.config), encoding: .utf8) ?? ""
            // No checkpoint SHA-256 here: hashing a large checkpoint costs more than the whole
            // recording (`hatscope info` prints it).
            var metadata = ["format": "hatscope-recording", "config": configJSON, "checkpoint": loaded.checkpointPath]
            if !rec.notes.isEmpty { metadata["notes"] = rec.notes.joined(separator: "\n") }
            try SafeTensors.write(tensors, metadata: metadata, to: out)
            let top = rec.topK(1).first.map { "top-1 class \($0.index) (p=\(String(format: "%.3f", $0.probability)))" } ?? ""
            print("wrote \(out): \(maps) attention maps, logits [1, \(rec.logits.count)], \(top)")
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
