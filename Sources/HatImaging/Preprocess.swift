// timm's evaluation transform, reproduced exactly: resize with crop_pct / crop_mode using PIL's
// bicubic resampling, center crop, then ToTensor (/255) and ImageNet mean/std normalisation.
// Mirrors timm 1.0.31 transforms_factory.transforms_imagenet_eval with torchvision 0.20 Resize /
// CenterCrop and Pillow's Resample.c (see PillowResample.swift).
import Foundation
import HatCore

public enum Preprocess {
    /// How the image is fitted to the network input before the center crop (timm's crop_mode).
    public enum CropMode: String, Sendable, CaseIterable {
        /// Shorter side to size / crop_pct keeping the aspect ratio, then center crop.
        case center
        /// Both sides to size / crop_pct (aspect ratio not kept), then center crop.
        case squash
        /// Longer side to size / crop_pct keeping the aspect ratio, then crop or pad with the mean colour.
        case border
    }

    /// Everything the transform needs; the executable builds it from a ModelConfig.
    public struct Settings: Sendable, Equatable {
        /// Network input [height, width].
        public var size: [Int]
        /// timm's crop_pct (Double: the decimal as written, e.g. 0.875, 0.95).
        public var cropPct: Double
        public var cropMode: CropMode
        /// Per-channel (R, G, B) mean and standard deviation on the [0, 1] scale.
        public var mean: [Float]
        public var std: [Float]

        public init(size: [Int], cropPct: Double, cropMode: CropMode,
                    mean: [Float] = [0.485, 0.456, 0.406], std: [Float] = [0.229, 0.224, 0.225]) {
            self.size = size; self.cropPct = cropPct; self.cropMode = cropMode
            self.mean = mean; self.std = std
        }

        /// Checks the values a custom configuration could get wrong.
        public func validate() throws {
            guard size.count == 2, size.allSatisfy({ $0 > 0 && $0 <= 16384 }) else {
                throw PreprocessError.badSettings("input size must be [height, width] in 1...16384, got \(size)")
            }
            guard cropPct.isFinite, cropPct > 0, cropPct <= 10 else {
                throw PreprocessError.badSettings("crop_pct must be in (0, 10], got \(cropPct)")
            }
            guard mean.count == 3, std.count == 3, std.allSatisfy({ $0 > 0 && $0.isFinite }),
                  mean.allSatisfy({ $0.isFinite }) else {
                throw PreprocessError.badSettings("mean and std need 3 finite values each, std > 0")
            }
        }
    }

    /// The network input and how it was made.
    public struct Result: Sendable {
        /// [1, 3, H, W] float32, normalised: (pixel / 255 - mean) / std.
        public var tensor: Tensor
        /// What the network sees before normalisation: size[1] x size[0] RGB, 8-bit.
        public var image: RGBImage
        /// Size of the resized image before the crop, and the crop's top-left corner in it
        /// (negative when the crop pads).
        public var resizedWidth: Int, resizedHeight: Int
        public var cropLeft: Int, cropTop: Int
    }

    /// Runs the whole transform on a decoded image.
    public static func run(_ image: RGBImage, settings: Settings) throws -> Result {
        try settings.validate()
        guard image.width > 0, image.height > 0 else {
            throw PreprocessError.emptyImage(width: image.width, height: image.height)
        }
        let (outH, outW) = (settings.size[0], settings.size[1])
        // scale_size = floor(size / crop_pct) per dimension (timm).
        let scaleH = Int((Double(outH) / settings.cropPct).rounded(.down))
        let scaleW = Int((Double(outW) / settings.cropPct).rounded(.down))
        guard scaleH > 0, scaleW > 0 else {
            throw PreprocessError.badSettings("size / crop_pct is below one pixel")
        }
        let (rw, rh) = resizedSize(width: image.width, height: image.height,
                                   scaleH: scaleH, scaleW: scaleW, mode: settings.cropMode)
        guard rw > 0, rh > 0, rw <= 65536, rh <= 65536 else {
            throw PreprocessError.aspectRatio(width: image.width, height: image.height,
                                              maxRatio: 65536 / max(1, min(scaleH, scaleW)))
        }
        let resized = PillowResample.bicubic(image, width: rw, height: rh)
        // CenterCrop pads with 0 (torchvision) or, in border mode, with round(255 * mean).
        let fill: (UInt8, UInt8, UInt8) = settings.cropMode == .border
            ? (padValue(settings.mean[0]), padValue(settings.mean[1]), padValue(settings.mean[2]))
            : (0, 0, 0)
        let (left, top) = cropOrigin(width: rw, height: rh, cropWidth: outW, cropHeight: outH)
        let cropped = crop(resized, left: left, top: top, width: outW, height: outH, fill: fill)
        let tensor = normalize(cropped, mean: settings.mean, std: settings.std)
        return Result(tensor: tensor, image: cropped, resizedWidth: rw, resizedHeight: rh,
                      cropLeft: left, cropTop: top)
    }

    /// Just the [1, 3, H, W] network input.
    public static func tensor(from image: RGBImage, settings: Settings) throws -> Tensor {
        try run(image, settings: settings).tensor
    }

    /// Size after the resize step, as (width, height).
    static func resizedSize(width w: Int, height h: Int, scaleH: Int, scaleW: Int,
                            mode: CropMode) -> (Int, Int) {
        switch mode {
        case .squash:
            // transforms.Resize((scaleH, scaleW)): exact size.
            return (scaleW, scaleH)
        case .center where scaleH == scaleW:
            // torchvision Resize(int): shorter side to s, longer = int(s * long / short) (truncated).
            let s = scaleH
            if w <= h { return (s, Int(Double(s * h) / Double(w))) }
            return (Int(Double(s * w) / Double(h)), s)
        case .center, .border:
            // timm ResizeKeepRatio: ratio = min (center) or max (border) of in/target per side;
            // size = round(x / ratio) with Python's round-half-to-even.
            let ratioH = Double(h) / Double(scaleH), ratioW = Double(w) / Double(scaleW)
            let ratio = mode == .border ? max(ratioH, ratioW) : min(ratioH, ratioW)
            let nh = (Double(h) / ratio).rounded(.toNearestOrEven)
            let nw = (Double(w) / ratio).rounded(.toNearestOrEven)
            return (Int(nw), Int(nh))
        }
    }

    /// torchvision CenterCrop's (and timm CenterCropOrPad's) top-left corner, per axis: when the
    /// crop is larger it pads (crop - size) // 2 before and the rest after, so the origin is
    /// -((crop - size) / 2); otherwise int(round((size - crop) / 2)) with Python's half-to-even.
    static func cropOrigin(width: Int, height: Int, cropWidth: Int, cropHeight: Int) -> (Int, Int) {
        func axis(_ size: Int, _ crop: Int) -> Int {
            if crop > size { return -((crop - size) / 2) }
            return Int((Double(size - crop) / 2).rounded(.toNearestOrEven))
        }
        return (axis(width, cropWidth), axis(height, cropHeight))
    }

    /// round(255 * mean) as timm's border fill (Python rounding).
    static func padValue(_ m: Float) -> UInt8 {
        UInt8(clamping: Int((255 * Double(m)).rounded(.toNearestOrEven)))
    }

    /// The width x height window at (left, top) of `image`; outside pixels take `fill`.
    static func crop(_ image: RGBImage, left: Int, top: Int, width: Int, height: Int,
                     fill: (UInt8, UInt8, UInt8)) -> RGBImage {
        var out = RGBImage(width: width, height: height, fill: fill)
        let x0 = max(0, -left), x1 = min(width, image.width - left)
        guard x0 < x1 else { return out }
        for y in 0..<height {
            let sy = y + top
            guard sy >= 0, sy < image.height else { continue }
            let src = (sy * image.width + left + x0) * 3
            let dst = (y * width + x0) * 3
            out.pixels.replaceSubrange(dst..<dst + (x1 - x0) * 3,
                                       with: image.pixels[src..<src + (x1 - x0) * 3])
        }
        return out
    }

    /// RGB (H, W, 3) bytes -> [1, 3, H, W] float32: (v / 255 - mean[c]) / std[c], in float32 like
    /// torchvision's ToTensor + Normalize.
    public static func normalize(_ image: RGBImage, mean: [Float], std: [Float]) -> Tensor {
        let plane = image.width * image.height
        var data = [Float](repeating: 0, count: 3 * plane)
        for c in 0..<3 {
            let m = mean[c], s = std[c]
            for i in 0..<plane {
                let x = Float(image.pixels[3 * i + c]) / 255
                data[c * plane + i] = (x - m) / s
            }
        }
        return Tensor(shape: [1, 3, image.height, image.width], data: data)
    }

    /// The 8-bit image a normalised [1, 3, H, W] tensor came from (for drawing figures):
    /// round((x * std + mean) * 255), clipped.
    public static func denormalize(_ tensor: Tensor, mean: [Float], std: [Float]) throws -> RGBImage {
        guard tensor.shape.count == 4, tensor.shape[0] == 1, tensor.shape[1] == 3,
              mean.count == 3, std.count == 3 else {
            throw PreprocessError.badTensor(shape: tensor.shape)
        }
        let h = tensor.shape[2], w = tensor.shape[3], plane = h * w
        var pixels = [UInt8](repeating: 0, count: plane * 3)
        for c in 0..<3 {
            for i in 0..<plane {
                let v = ((tensor.data[c * plane + i] * std[c] + mean[c]) * 255).rounded()
                pixels[3 * i + c] = v.isNaN ? 0 : UInt8(min(max(v, 0), 255))
            }
        }
        return RGBImage(width: w, height: h, pixels: pixels)
    }
}

/// Preprocessing failures (bad settings from a custom configuration, empty input).
public enum PreprocessError: Error, Equatable, CustomStringConvertible {
    case badSettings(String)
    case emptyImage(width: Int, height: Int)
    case badTensor(shape: [Int])
    /// The image is so elongated that resizing its shorter side to the model's size makes the
    /// longer one absurd (over 65536 pixels).
    case aspectRatio(width: Int, height: Int, maxRatio: Int)

    public var description: String {
        switch self {
        case .badSettings(let why): return "bad preprocessing settings: \(why)"
        case .emptyImage(let w, let h): return "cannot preprocess an empty \(w)x\(h) image"
        case .badTensor(let shape): return "expected a [1, 3, H, W] image tensor, got \(describe(shape: shape))"
        case let .aspectRatio(w, h, r):
            return "a \(w)x\(h) image is too elongated for this model's preprocessing (aspect ratios up to \(r):1 "
                + "are supported); crop it first, or use crop_mode squash in --config"
        }
    }
}
