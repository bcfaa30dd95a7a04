// Patch embedding (official PatchEmbed, `patch_embed.conv_down`): conv3x3 s2 (3 -> in_dim, no
// bias) + BatchNorm(eps 1e-4) + ReLU, conv3x3 s2 (in_dim -> dim, no bias) + BatchNorm(eps 1e-4)
// + ReLU. Both BatchNorms are folded into their convolutions at load time.
import HatCore

struct PatchEmbed {
    let conv1: Conv3x3, conv2: Conv3x3

    init(_ w: WeightReader, inDim: Int, dim: Int) throws {
        var c1 = Conv3x3(weight: try w.tensor("conv_down.0.weight", [inDim, 3, 3, 3]), bias: nil, stride: 2)
        c1.foldBatchNorm(try w.batchNorm("conv_down.1", inDim, eps: 1e-4))
        var c2 = Conv3x3(weight: try w.tensor("conv_down.3.weight", [dim, inDim, 3, 3]), bias: nil, stride: 2)
        c2.foldBatchNorm(try w.batchNorm("conv_down.4", dim, eps: 1e-4))
        conv1 = c1
        conv2 = c2
    }

    /// x [images, 3, h, w] -> [images, dim, ceil(ceil(h/2)/2), ...]
    func forward(_ x: FloatBuffer, images: Int, height h: Int, width w: Int) -> (FloatBuffer, Int, Int) {
        let (h1, w1) = conv1.outputSize(height: h, width: w)
        let y1 = FloatBuffer(count: images * conv1.outChannels * h1 * w1, zeroed: false)   // [images, in_dim, h1, w1]
        conv1.apply(x.pointer, images: images, height: h, width: w, into: y1.pointer, epilogue: .relu)
        let (h2, w2) = conv2.outputSize(height: h1, width: w1)
        let y2 = FloatBuffer(count: images * conv2.outChannels * h2 * w2, zeroed: false)   // [images, dim, h2, w2]
        conv2.apply(y1.pointer, images: images, height: h1, width: w1, into: y2.pointer, epilogue: .relu)
        return (y2, h2, w2)
    }
}
