// Bridges a model configuration to the imaging library's timm eval transform, so every command
// that reads a photo (preprocess, record, predict, export, explore) prepares it the same way.
import HatCore
import HatImaging
import HatModel
import HatRecording

/// HatImaging's transform; the executable's `Preprocess` is the subcommand.
typealias ImagePreprocess = HatImaging.Preprocess

extension ModelConfig {
    /// timm's eval transform settings for this model: input size, crop_pct, crop_mode, ImageNet
    /// mean/std. crop_pct goes through its shortest decimal form (Float 0.95 -> Double 0.95) so
    /// floor(size / crop_pct) matches timm's Python float arithmetic.
    func preprocessSettings() throws -> ImagePreprocess.Settings {
        guard let mode = ImagePreprocess.CropMode(rawValue: cropMode) else {
            throw CLIError("model \(name): unknown crop_mode '\(cropMode)' (expected center, squash or border)")
        }
        let pct = Double("\(cropPct)") ?? Double(cropPct)
        return ImagePreprocess.Settings(size: resolution, cropPct: pct, cropMode: mode,
                                        mean: ModelConfig.imagenetMean, std: ModelConfig.imagenetStd)
    }
}

/// Loads a PNG/JPEG and runs the model's eval transform: the network input [1, 3, H, W] plus the
/// 8-bit image it was made from (for drawing).
func preprocessImage(path: String, config: ModelConfig) throws -> ImagePreprocess.Result {
    let image: RGBImage
    do { image = try ImageIO.load(path: path) } catch let error as ImageError {
        // Name the file unless the message already does.
        let text = error.description
        throw CLIError(text.contains(path) ? text : "\(path): \(text)")
    }
    return try ImagePreprocess.run(image, settings: config.preprocessSettings())
}
