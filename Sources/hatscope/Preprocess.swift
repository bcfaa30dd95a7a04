// `hatscope preprocess`: writes the exact network input timm would make from a photo.
import ArgumentParser
import Foundation
import HatCheckpoint
import HatImaging
import HatModel
import HatRecording

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
        cropped 8-bit image the network sees, as PNG. Files are written atomically.

        Example:
          hatscope preprocess --model faster_vit_0_224 --image cat.jpg --out x.npy --save-image seen.png
        """)

    @OptionGroup var choice: ConfigOptions

    @Option(help: "The PNG or JPEG to preprocess.")
    var image: String

    @Option(help: "Where to write the [1, 3, H, W] float32 .npy.")
    var out: String

    @Option(name: .customLong("save-image"), help: "Also write the cropped 8-bit network view as PNG here.")
    var saveImage: String?

    func run() throws {
        do {
            let cfg = try resolveConfig()
            let result = try preprocessImage(path: image, config: cfg)
            try NPY.write(result.tensor, to: out)
            if let saveImage { try ImageIO.writePNG(result.image, to: saveImage) }
            let s = result.tensor.shape
            print("wrote \(out): [\(s.map(String.init).joined(separator: ", "))] float32 "
                  + "(\(cfg.name): resized to \(result.resizedWidth)x\(result.resizedHeight), "
                  + "crop \(cfg.cropMode) \(cfg.cropPct))")
        } catch {
            fail(error)
        }
    }

    private func resolveConfig() throws -> ModelConfig {
        guard let cfg = try choice.chosen() else { throw CLIError("give --model NAME (a preset) or --config FILE.json") }
        return cfg
    }
}
