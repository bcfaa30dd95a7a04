// Convolutional block of levels 0 and 1 (official ConvBlock, `levels.I.blocks.J`):
// x + gamma * BN2(conv2(GELU(BN1(conv1(x))))), both BatchNorms (eps 1e-5) folded into the convs,
// which then run as Winograd F(2x2,3x3) (HatCore/WinogradConv.swift).
import HatCore

struct ConvBlock {
    let conv1: WinogradConv3x3, conv2: WinogradConv3x3
    /// [C] layer scale, nil = none (every official variant).
    let gamma: [Float]?

    init(_ w: WeightReader, dim: Int, layerScale: Bool) throws {
        var c1 = Conv3x3(weight: try w.tensor("conv1.weight", [dim, dim, 3, 3]), bias: try w.tensor("conv1.bias", [dim]), stride: 1)
        c1.foldBatchNorm(try w.batchNorm("norm1", dim, eps: 1e-5))
        var c2 = Conv3x3(weight: try w.tensor("conv2.weight", [dim, dim, 3, 3]), bias: try w.tensor("conv2.bias", [dim]), stride: 1)
        c2.foldBatchNorm(try w.batchNorm("norm2", dim, eps: 1e-5))
        conv1 = WinogradConv3x3(c1)
        conv2 = WinogradConv3x3(c2)
        gamma = layerScale ? try w.array("gamma", [dim]) : nil
    }

    /// x [images, C, h, w] updated in place.
    func forward(_ x: FloatBuffer, images: Int, height h: Int, width w: Int) {
        let pixels = h * w, c = conv1.outChannels
        let y = FloatBuffer(count: x.count, zeroed: false)   // [images, C, h, w]
        conv1.apply(x.pointer, images: images, height: h, width: w, into: y.pointer, epilogue: .gelu)
        guard let g = gamma else {
            // x + BN2(conv2(y)): the residual add is the GEMM's beta = 1.
            conv2.apply(y.pointer, images: images, height: h, width: w, into: x.pointer, accumulate: true)
            return
        }
        let z = FloatBuffer(count: x.count, zeroed: false)   // [images, C, h, w]
        conv2.apply(y.pointer, images: images, height: h, width: w, into: z.pointer)
        let xp = x.pointer, zp = z.pointer
        for plane in 0..<(images * c) {
            let gc = g[plane % c]
            for i in 0..<pixels { xp[plane * pixels + i] += gc * zp[plane * pixels + i] }
        }
    }
}
