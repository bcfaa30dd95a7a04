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
    ///
    /// A group of images at a time: the first convolution's output [in_dim, h/2, w/2] is 3.2 MB
    /// per image for faster_vit_0 at 224, 51 MB for a batch of 16, past the 32 MB that glibc
    /// keeps for reuse (EngineOptions), so every forward faulted in and zeroed fresh pages for
    /// it. Groups keep it within 16 MB; each image is computed as alone either way.
    func forward(_ x: FloatBuffer, images: Int, height h: Int, width w: Int) -> (FloatBuffer, Int, Int) {
        let (h1, w1) = conv1.outputSize(height: h, width: w)
        let (h2, w2) = conv2.outputSize(height: h1, width: w1)
        let per1 = conv1.outChannels * h1 * w1, per2 = conv2.outChannels * h2 * w2
        let group = max(1, min(images, (16 << 20) / 4 / max(1, per1)))
        let y1 = FloatBuffer(count: group * per1, zeroed: false)                       // [group, in_dim, h1, w1]
        let y2 = FloatBuffer(count: images * per2, zeroed: false)                      // [images, dim, h2, w2]
        var first = 0
        while first < images {
            let n = min(group, images - first)
            conv1.apply(x.pointer + first * conv1.inChannels * h * w, images: n, height: h, width: w,
                        into: y1.pointer, epilogue: .relu)
            conv2.apply(y1.pointer, images: n, height: h1, width: w1, into: y2.pointer + first * per2, epilogue: .relu)
            first += n
        }
        return (y2, h2, w2)
    }
}
