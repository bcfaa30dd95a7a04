// Carrier-token initializer (official TokenInitializer, `levels.I.global_tokenizer`): a depthwise
// 3x3 convolution with bias, then AvgPool2d(kernel, stride) over the PADDED stage map, giving the
// (c*rows) x (c*cols) carrier grid; returned in window-list order [N, C] (see StageGeometry.swift).
//
// The official module registers its convolution twice (`pos_embed` and `to_global_feature.pos`);
// loading a state dict writes both into the one parameter, `to_global_feature.pos` last, so that is
// the value the official model runs with, and the one used here.
import HatCore
import HatRecording

struct TokenInitializer {
    let conv: DepthwiseConv3x3

    init(_ w: WeightReader, dim: Int) throws {
        _ = try w.tensor("pos_embed.weight", [dim, 1, 3, 3])
        _ = try w.tensor("pos_embed.bias", [dim])
        let p = w.child("to_global_feature.pos")
        conv = DepthwiseConv3x3(weight: try p.tensor("weight", [dim, 1, 3, 3]), bias: try p.tensor("bias", [dim]))
    }

    /// x [images, C, paddedH, paddedW] -> carrier tokens [images * N, C], each image's in
    /// window-list order.
    func forward(_ x: UnsafePointer<Float>, images: Int, layout: StageGeometry) -> FloatBuffer {
        let c = conv.channels, hp = layout.paddedHeight, wp = layout.paddedWidth
        let mixed = FloatBuffer(count: images * c * hp * wp, zeroed: false)      // [images, C, hp, wp]
        conv.apply(x, images: images, height: hp, width: wp, into: mixed.pointer)
        let rows = layout.carrierRows, cols = layout.carrierCols
        let pooled = FloatBuffer(count: images * c * rows * cols, zeroed: false)  // [images, C, rows, cols]
        Pooling.average(mixed.pointer, channels: images * c, height: hp, width: wp,
                        kernel: layout.poolKernelH, layout.poolKernelW,
                        stride: layout.poolStrideH, layout.poolStrideW, into: pooled.pointer)
        let n = rows * cols
        let ct = FloatBuffer(count: images * n * c, zeroed: false)                // [images * N, C]
        let cc = layout.carriersPerWindow
        for image in 0..<images {
            let src = pooled.pointer + image * c * n, dst = ct.pointer + image * n * c
            for l in 0..<n {
                let g = layout.carrierGridIndex(window: l / cc, slot: l % cc)
                for ch in 0..<c { dst[l * c + ch] = src[ch * n + g] }
            }
        }
        return ct
    }
}
