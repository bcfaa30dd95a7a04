// `hatscope convert`: a torch.save checkpoint -> safetensors, so the weights can be used without pickle.
import ArgumentParser
import Foundation
import HatCheckpoint
import HatModel
import HatPipeline
import HatSystem

struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert a PyTorch checkpoint to safetensors (no Python, nothing in the pickle is executed).",
        discussion: """
        Input: a torch.save file (zip or legacy format; bare state dict or a training dict with \
        state_dict / model / state_dict_ema, optionally with 'module.' / '_orig_mod.' prefixes, or a \
        whole pickled model) or a safetensors file.
        Output: a safetensors file holding every tensor of the selected state dict (learned weights \
        and buffers, 'module.' and '_orig_mod.' removed) as float32 in file order, with metadata: format=pt, source \
        file name and SHA-256, the state dict used, and the inferred FasterViT variant when the \
        tensors are a FasterViT. Written whole or not at all (temporary name, then rename; a FIFO or \
        device is written into; - is standard output). Training extras \
        (optimizer, args, ...) are not copied; `hatscope info` lists them. When the state dict is a \
        larger model holding a FasterViT (a Lightning module's model.*), only the FasterViT is \
        written, its prefix removed; --submodule chooses one of several.

        Example:
          hatscope convert fastervit_0_224_1k.pth.tar fastervit_0_224_1k.safetensors
          hatscope convert --ema model_best.pth.tar ema.safetensors
        """)

    @Argument(help: ArgumentHelp("The checkpoint to read.", valueName: "checkpoint"))
    var input: String

    @Argument(help: ArgumentHelp("The .safetensors file to write.", valueName: "out"))
    var output: String

    @Flag(help: "Convert the EMA weights (state_dict_ema) instead of the regular ones.")
    var ema = false

    @Option(help: ArgumentHelp("The FasterViT inside a larger model's checkpoint, by its key prefix (as for the other commands).",
                               valueName: "prefix"))
    var submodule: String?

    func run() throws {
        try OutputFile.preflight(output)
        let (sd, _) = try ModelLoader.readStateDict(ModelRequest(checkpoint: input, ema: ema, submodule: submodule), path: input)
        let sha = try SHA256.hex(ofFile: input)
        var meta: [String: String] = [
            "format": "pt",
            "source": (input as NSString).lastPathComponent,
            "source_sha256": sha,
            "state_dict": sd.source + (sd.submodule.map { " (the FasterViT under '\($0)')" } ?? ""),
            "converted_by": "hatscope \(HatScopeVersion.string)",
        ]
        if let variant = try? VariantInference.analyze(shapes: sd.shapes) {
            meta["fastervit_variant"] = variant.config.name
        }
        let tensors = sd.order.compactMap { name in sd.tensors[name].map { (name: name, tensor: $0) } }
        try SafeTensors.write(tensors, metadata: meta, to: output)
        let count = tensors.reduce(0) { $0 + $1.tensor.count }
        let summary = "wrote \(output == "-" ? "standard output" : output): \(tensors.count) tensors, \(count) values (float32) from \(sd.source)"
            + (meta["fastervit_variant"].map { ", variant \($0)" } ?? "")
        if output == "-" { StandardStreams.error(summary + "\n") } else { print(summary) }
    }
}
