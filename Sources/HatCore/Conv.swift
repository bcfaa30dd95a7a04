// 3x3 convolutions (padding 1) as im2col + one sgemm per tile of output pixels, and the depthwise
// 3x3 convolution as a direct loop. Activations are NCHW with batch 1: [C, H, W].
//
// Worked example (faster_vit_0 level 0 conv1): x [64, 56, 56] -> cols [64*9, P] for a tile of P
// output pixels -> y[64, P] = W[64, 576] * cols[576, P], written into y [64, 56*56] at the tile's
// column offset (ldc = 56*56). Tiling keeps cols small (a few MB) at any resolution.

public struct Conv3x3: Sendable {
    public let inChannels: Int, outChannels: Int, stride: Int
    /// [outChannels, inChannels * 9], PyTorch's [out, in, 3, 3] flattened.
    public private(set) var weight: [Float]
    /// [outChannels]; zeros when the convolution has no bias.
    public private(set) var bias: [Float]

    /// `weight` [out, in, 3, 3], `bias` [out] or nil.
    public init(weight: Tensor, bias: Tensor?, stride: Int) {
        precondition(weight.shape.count == 4 && weight.shape[2] == 3 && weight.shape[3] == 3, "conv3x3 weight shape")
        outChannels = weight.shape[0]
        inChannels = weight.shape[1]
        self.stride = stride
        self.weight = weight.data
        self.bias = bias?.data ?? [Float](repeating: 0, count: weight.shape[0])
    }

    /// Folds an eval-mode BatchNorm that follows this convolution into its weight and bias:
    /// y = (conv(x) + b - mean) * gamma / sqrt(var + eps) + beta. Computed in Double.
    public mutating func foldBatchNorm(_ bn: BatchNormParameters) {
        let k = inChannels * 9
        for o in 0..<outChannels {
            let scale = Double(bn.gamma[o]) / (Double(bn.variance[o]) + Double(bn.eps)).squareRoot()
            for i in 0..<k { weight[o * k + i] = Float(Double(weight[o * k + i]) * scale) }
            bias[o] = Float((Double(bias[o]) - Double(bn.mean[o])) * scale + Double(bn.beta[o]))
        }
    }

    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        ((height - 1) / stride + 1, (width - 1) / stride + 1)
    }

    /// What happens to each output after the product and bias, in the same pass.
    public enum Epilogue: Sendable { case none, relu, gelu }

    /// y [outChannels, ho, wo] = act(conv(x [inChannels, h, w]) + bias); with `accumulate`,
    /// y += conv(x) + bias instead (the residual add of a block, folded into the GEMM's beta = 1).
    /// `scratch` holds the im2col columns and is reused between calls.
    public func apply(_ x: UnsafePointer<Float>, height h: Int, width w: Int,
                      into y: UnsafeMutablePointer<Float>, scratch: inout [Float],
                      epilogue: Epilogue = .none, accumulate: Bool = false) {
        let (ho, wo) = outputSize(height: h, width: w)
        let pixels = ho * wo
        let k = inChannels * 9
        // Tile so cols [k, tile] stays near 4 MB, in whole output rows for a simple im2col.
        let rowsPerTile = max(1, min(ho, (1 << 20) / max(1, k * wo)))
        let tileCap = rowsPerTile * wo
        if scratch.count < k * tileCap { scratch = [Float](repeating: 0, count: k * tileCap) }
        let s = stride
        scratch.withUnsafeMutableBufferPointer { colsBuf in
            let cols = colsBuf.baseAddress!
            weight.withUnsafeBufferPointer { wBuf in
                var oy0 = 0
                while oy0 < ho {
                    let oy1 = min(ho, oy0 + rowsPerTile)
                    let p = (oy1 - oy0) * wo
                    // cols[r, q] for r = ci*9 + ky*3 + kx, q = (oy - oy0) * wo + ox
                    Parallel.forRanges(k, minPerChunk: 16) { rows in
                        for r in rows {
                            let ci = r / 9, ky = (r % 9) / 3, kx = r % 3
                            Conv3x3.im2colRow(x + ci * h * w, h: h, w: w, stride: s, ky: ky, kx: kx,
                                              oy0: oy0, oy1: oy1, wo: wo, into: cols + r * p)
                        }
                    }
                    BLAS.sgemmParallel(transA: false, transB: false, m: outChannels, n: p, k: k,
                               a: wBuf.baseAddress!, lda: k, b: cols, ldb: p,
                               beta: accumulate ? 1 : 0, c: y + oy0 * wo, ldc: pixels)
                    oy0 = oy1
                }
            }
        }
        bias.withUnsafeBufferPointer { b in
            Parallel.forRanges(outChannels, minPerChunk: 4) { chans in
                for o in chans {
                    let d = y + o * pixels
                    let v = b[o]
                    if v != 0 { for i in 0..<pixels { d[i] += v } }
                    switch epilogue {
                    case .none: break
                    case .relu: Activations.reluSerial(d, count: pixels)
                    case .gelu: Activations.geluSerial(d, count: pixels)
                    }
                }
            }
        }
    }

    /// One im2col row: dst[(oy - oy0) * wo + ox] = x[oy*s - 1 + ky, ox*s - 1 + kx] (0 outside).
    @inline(__always)
    static func im2colRow(_ src: UnsafePointer<Float>, h: Int, w: Int, stride s: Int, ky: Int, kx: Int,
                          oy0: Int, oy1: Int, wo: Int, into dst: UnsafeMutablePointer<Float>) {
        for oy in oy0..<oy1 {
            let iy = oy * s - 1 + ky
            let d = dst + (oy - oy0) * wo
            if iy < 0 || iy >= h {
                d.update(repeating: 0, count: wo)
                continue
            }
            let row = src + iy * w
            if s == 1 {
                // ix = ox - 1 + kx: a shifted copy of the input row, zeros where it falls outside.
                let lo = max(0, 1 - kx), hi = min(wo, w + 1 - kx)
                if lo > 0 { d.update(repeating: 0, count: lo) }
                if hi > lo { (d + lo).update(from: row + (lo - 1 + kx), count: hi - lo) }
                if hi < wo { (d + max(hi, lo)).update(repeating: 0, count: wo - max(hi, lo)) }
            } else {
                for ox in 0..<wo {
                    let ix = ox * s - 1 + kx
                    d[ox] = (ix >= 0 && ix < w) ? row[ix] : 0
                }
            }
        }
    }

    /// Convenience for tests: x [1, in, h, w] or [in, h, w] -> [1, out, ho, wo].
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let h = x.shape[x.shape.count - 2], w = x.shape[x.shape.count - 1]
        let (ho, wo) = outputSize(height: h, width: w)
        var y = [Float](repeating: 0, count: outChannels * ho * wo)
        var scratch: [Float] = []
        x.data.withUnsafeBufferPointer { xb in
            y.withUnsafeMutableBufferPointer { yb in
                apply(xb.baseAddress!, height: h, width: w, into: yb.baseAddress!, scratch: &scratch)
            }
        }
        return Tensor(shape: [1, outChannels, ho, wo], data: y)
    }
}

/// Eval-mode BatchNorm parameters (running statistics).
public struct BatchNormParameters: Sendable {
    public var gamma: [Float], beta: [Float], mean: [Float], variance: [Float]
    public var eps: Float
    public init(gamma: [Float], beta: [Float], mean: [Float], variance: [Float], eps: Float) {
        self.gamma = gamma; self.beta = beta; self.mean = mean; self.variance = variance; self.eps = eps
    }
    /// Per-channel (scale, shift) with y = x * scale + shift, computed in Double.
    public func scaleShift() -> (scale: [Float], shift: [Float]) {
        var scale = [Float](repeating: 0, count: gamma.count), shift = scale
        for c in 0..<gamma.count {
            let s = Double(gamma[c]) / (Double(variance[c]) + Double(eps)).squareRoot()
            scale[c] = Float(s)
            shift[c] = Float(Double(beta[c]) - Double(mean[c]) * s)
        }
        return (scale, shift)
    }
}

/// Depthwise 3x3 convolution, stride 1, padding 1, with bias (official `groups=dim`).
public struct DepthwiseConv3x3: Sendable {
    public let channels: Int
    /// [channels, 9]
    public let weight: [Float]
    /// [channels]
    public let bias: [Float]

    /// `weight` [C, 1, 3, 3], `bias` [C] or nil.
    public init(weight: Tensor, bias: Tensor?) {
        channels = weight.shape[0]
        self.weight = weight.data
        self.bias = bias?.data ?? [Float](repeating: 0, count: weight.shape[0])
    }

    /// y [C, h, w] = dwconv(x [C, h, w]).
    public func apply(_ x: UnsafePointer<Float>, height h: Int, width w: Int, into y: UnsafeMutablePointer<Float>) {
        weight.withUnsafeBufferPointer { wb in
            bias.withUnsafeBufferPointer { bb in
                Parallel.forRanges(channels, minPerChunk: 8) { chans in
                    for c in chans {
                        let src = x + c * h * w, dst = y + c * h * w
                        let k = wb.baseAddress! + c * 9
                        for oy in 0..<h {
                            for ox in 0..<w {
                                // Same summation order as a direct 3x3 loop (ky outer, kx inner).
                                var acc: Float = 0
                                for ky in 0..<3 {
                                    let iy = oy - 1 + ky
                                    if iy < 0 || iy >= h { continue }
                                    for kx in 0..<3 {
                                        let ix = ox - 1 + kx
                                        if ix < 0 || ix >= w { continue }
                                        acc += k[ky * 3 + kx] * src[iy * w + ix]
                                    }
                                }
                                dst[oy * w + ox] = acc + bb[c]
                            }
                        }
                    }
                }
            }
        }
    }
}
