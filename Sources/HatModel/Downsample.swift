// Downsampler between stages (official Downsample, `levels.I.downsample` for I < 3):
// LayerNorm2d over channels (eps 1e-6), then conv3x3 stride 2 padding 1 without bias (C -> 2C).
import HatCore

struct Downsample {
    let norm: LayerNormParameters
    let reduction: Conv3x3

    init(_ w: WeightReader, dim: Int) throws {
        norm = try w.layerNorm("norm", dim, eps: 1e-6)
        reduction = Conv3x3(weight: try w.tensor("reduction.0.weight", [2 * dim, dim, 3, 3]), bias: nil, stride: 2)
    }

    /// x [images, C, h, w] -> [images, 2C, ceil(h/2), ceil(w/2)]
    func forward(_ x: FloatBuffer, images: Int, height h: Int, width w: Int) -> (FloatBuffer, Int, Int) {
        let normed = FloatBuffer(count: x.count, zeroed: false)         // [images, C, h, w]
        Normalization.layerNorm2d(x.pointer, images: images, pixels: h * w, norm, into: normed.pointer)
        let (ho, wo) = reduction.outputSize(height: h, width: w)
        let y = FloatBuffer(count: images * reduction.outChannels * ho * wo, zeroed: false)  // [images, 2C, ho, wo]
        reduction.apply(normed.pointer, images: images, height: h, width: w, into: y.pointer)
        return (y, ho, wo)
    }
}
