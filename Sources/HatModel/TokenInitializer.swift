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

    /// x [C, paddedH, paddedW] -> carrier tokens [N, C] in window-list order.
    func forward(_ x: UnsafePointer<Float>, layout: StageGeometry) -> FloatBuffer {
        let c = conv.channels, hp = layout.paddedHeight, wp = layout.paddedWidth
        let mixed = FloatBuffer(count: c * hp * wp, zeroed: false)      // [C, hp, wp]
        conv.apply(x, height: hp, width: wp, into: mixed.pointer)
        let rows = layout.carrierRows, cols = layout.carrierCols
        let pooled = FloatBuffer(count: c * rows * cols, zeroed: false)  // [C, rows, cols]
        Pooling.average(mixed.pointer, channels: c, height: hp, width: wp,
                        kernel: layout.poolKernelH, layout.poolKernelW,
                        stride: layout.poolStrideH, layout.poolStrideW, into: pooled.pointer)
        let n = rows * cols
        let ct = FloatBuffer(count: n * c, zeroed: false)                // [N, C]
        let cc = layout.carriersPerWindow
        for l in 0..<n {
            let g = layout.carrierGridIndex(window: l / cc, slot: l % cc)
            for ch in 0..<c { ct.pointer[l * c + ch] = pooled.pointer[ch * n + g] }
        }
        return ct
    }
}
