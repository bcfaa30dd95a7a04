// `hatscope preprocess`: writes the exact network input timm would make from a photo.
import ArgumentParser
import Foundation
import HatCheckpoint
import HatImaging
import HatModel
import HatPipeline
import HatRecording
import HatSystem

struct Preprocess: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preprocess",
        abstract: "Turn a PNG/JPEG into the model's input tensor exactly as timm's eval transform does.",
        discussion: """
        Input: a PNG or JPEG (any colour type; alpha is dropped like PIL's convert("RGB")) and a \
        model preset (--model) or a configuration file (--config: a ModelConfig as JSON, or the official constructor's keyword names).
        Steps: resize with the model's crop_pct and crop_mode (center: shorter side to \
        floor(size / crop_pct); squash: both sides) using PIL's bicubic resampling, center crop to \
        the model's resolution, divide by 255, normalise with the ImageNet mean and std.
        Output: a float32 .npy of shape [1, 3, H, W] (C order). --save-image also writes the \
        cropped 8-bit image the network sees, as PNG. Both appear together or, on failure, \
        neither (a FIFO or device is written into; - is standard output). --image - reads \
        standard input.

        Example:
          hatscope preprocess --model faster_vit_0_224 --image cat.jpg --out x.npy --save-image seen.png
        """)

    @OptionGroup var choice: ConfigOptions

    @Option(help: "The PNG or JPEG to preprocess (- for standard input).")
    var image: String

    @Option(help: "Where to write the [1, 3, H, W] float32 .npy (- for standard output).")
    var out: String

    @Option(name: .customLong("save-image"), help: "Also write the cropped 8-bit network view as PNG here.")
    var saveImage: String?

    func run() throws {
        guard let cfg = try choice.chosen() else { throw CLIError("give --model NAME (a preset) or --config FILE.json") }
        try OutputFile.preflight(out)
        if let saveImage { try OutputFile.preflight(saveImage) }
        let x = try NetworkInputReader.read(image, config: cfg)
        guard x.kind == .image, let result = x.preprocessed else {
            throw CLIError("\(UserMessage.name(image)) is already a tensor (\(x.kind.rawValue)); preprocess takes a PNG or JPEG image")
        }
        let batch = OutputBatch()
        try batch.write(try NPY.encode(result.tensor), to: out)
        if let saveImage { try ImageIO.writePNG(result.image, to: saveImage, batch: batch) }
        try batch.commit()
        let s = result.tensor.shape
        let summary = "wrote \(out == "-" ? "standard output" : out): [\(s.map(String.init).joined(separator: ", "))] float32 "
            + "(\(cfg.name): resized to \(result.resizedWidth)x\(result.resizedHeight), crop \(cfg.cropMode) \(cfg.cropPct))"
        if out == "-" { StandardStreams.error(summary + "\n") } else { print(summary) }
    }
}
