// 3x3 convolutions (padding 1) as im2col + one sgemm per tile of output pixels (and block of
// output channels, where the weight outweighs the columns), and the depthwise
// 3x3 convolution as a direct loop. Activations are NCHW: [images, C, H, W]. The model runs
// the strided convolutions (patch embedding, downsamplers) here; the stride-1 convolutions of the
// residual blocks go through WinogradConv.swift, built from a Conv3x3 after BatchNorm folding.
//
// Worked example (faster_vit_0 level 0 conv1): x [64, 56, 56] -> cols [64*9, P] for a tile of P
// output pixels -> y[64, P] = W[64, 576] * cols[576, P], written into y [64, 56*56] at the tile's
// column offset (ldc = 56*56). Tiles keep cols near 1 MB (L2-resident) at any resolution.

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

    /// y [images, outChannels, ho, wo] = act(conv(x [images, inChannels, h, w]) + bias).
    ///
    /// Each image's output is cut into tiles of whole output rows, each small enough (cols
    /// [k, tile] <= ~1 MB) to stay in a core's L2, and into blocks of output channels; tiles
    /// times blocks is a multiple of the core count, and a batch is more of the same tasks, each
    /// computed exactly as at batch 1. One task per (tile, block) does im2col, a single-threaded
    /// sgemm and the bias/activation epilogue on its own part of y: the columns are read back
    /// from L2 rather than memory, the epilogue touches the part while it is cached, and a
    /// convolution costs one parallel dispatch.
    ///
    /// Every task packs its rows of the weight anew, every block its tile's columns. Where the
    /// weight outweighs the image's columns twice over (a late downsampler: 512 x 2304 weights,
    /// 2304 x 49 columns), the cores share the weight by channel blocks over one tile rather than
    /// each packing all of it for a tile of a few rows: faster_vit_0's last one ran 2 tiles of
    /// 28 and 21 pixels per image at 23-37 GFLOPS in a batch of 16.
    public func apply(_ x: UnsafePointer<Float>, images: Int = 1, height h: Int, width w: Int,
                      into y: UnsafeMutablePointer<Float>, epilogue: Epilogue = .none) {
        let (ho, wo) = outputSize(height: h, width: w)
        let pixels = ho * wo
        let k = inChannels * 9
        let cores = Parallel.cores
        let maxRows = max(1, min(ho, (1 << 18) / max(1, k * wo)))
        var tiles = (ho + maxRows - 1) / maxRows
        let byChannels = outChannels >= 2 * pixels && tiles == 1 && cores > 1
        let blocks = byChannels ? min(cores, outChannels) : 1
        if !byChannels { tiles = min(ho, (tiles + cores - 1) / cores * cores) }
        let rowsPerTile = (ho + tiles - 1) / tiles
        tiles = (ho + rowsPerTile - 1) / rowsPerTile
        // Channel blocks in multiples of 16 rows keep the micro-kernels on full tiles.
        let perBlock = ((outChannels + blocks - 1) / blocks + 15) / 16 * 16
        let s = stride, cout = outChannels, cin = inChannels
        weight.withUnsafeBufferPointer { wBuf in
            bias.withUnsafeBufferPointer { bBuf in
                let wp = wBuf.baseAddress!, bp = bBuf.baseAddress!
                Parallel.forEach(images * tiles * blocks) { item in
                    let image = item / (tiles * blocks), tile = item / blocks % tiles, block = item % blocks
                    let o0 = min(cout, block * perBlock), o1 = min(cout, o0 + perBlock)
                    if o0 == o1 { return }
                    let xi = x + image * cin * h * w, yi = y + image * cout * pixels
                    let oy0 = tile * rowsPerTile, oy1 = min(ho, oy0 + rowsPerTile)
                    let p = (oy1 - oy0) * wo
                    // cols [k, p]: cols[r, q] for r = ci*9 + ky*3 + kx, q = (oy - oy0) * wo + ox
                    let cols = UnsafeMutablePointer<Float>.allocate(capacity: k * p)
                    defer { cols.deallocate() }
                    for ci in 0..<cin {
                        for r9 in 0..<9 {
                            Conv3x3.im2colRow(xi + ci * h * w, h: h, w: w, stride: s, ky: r9 / 3, kx: r9 % 3,
                                              oy0: oy0, oy1: oy1, wo: wo, into: cols + (ci * 9 + r9) * p)
                        }
                    }
                    // y[o0..<o1, tile] = W[o0..<o1, k] * cols[k, p]
                    BLAS.sgemm(transA: false, transB: false, m: o1 - o0, n: p, k: k,
                               a: wp + o0 * k, lda: k, b: cols, ldb: p,
                               c: yi + o0 * pixels + oy0 * wo, ldc: pixels)
                    // Bias and activation in one pass over each output row of the part.
                    for o in o0..<o1 {
                        Activations.biasSerial(yi + o * pixels + oy0 * wo, count: p, bias: bp[o], epilogue: epilogue)
                    }
                }
            }
        }
    }

    /// One im2col row: dst[(oy - oy0) * wo + ox] = x[oy*s - 1 + ky, ox*s - 1 + kx] (0 outside).
    @inline(__always)
    static func im2colRow(_ src: UnsafePointer<Float>, h: Int, w: Int, stride s: Int, ky: Int, kx: Int,
                          oy0: Int, oy1: Int, wo: Int, into dst: UnsafeMutablePointer<Float>) {
        // Output columns ox in lo..<hi read inside the input row (ix = ox*s - 1 + kx in 0..<w).
        let lo = min(wo, max(0, (1 - kx + s - 1) / s))
        let hi = w - kx < 0 ? lo : max(lo, min(wo, (w - kx) / s + 1))
        for oy in oy0..<oy1 {
            let iy = oy * s - 1 + ky
            let d = dst + (oy - oy0) * wo
            if iy < 0 || iy >= h {
                d.update(repeating: 0, count: wo)
                continue
            }
            let row = src + iy * w
            // lo is 0 or 1 at stride 2 and 0-1 at stride 1: stores, not a memset call per row.
            var z = 0
            while z < lo { d[z] = 0; z += 1 }
            if s == 1 {
                // A shifted copy of the input row.
                if hi > lo { (d + lo).update(from: row + (lo - 1 + kx), count: hi - lo) }
            } else {
                // A while loop: `for ox in lo..<hi` was left as unspecialised iterator calls here.
                let base = row + (kx - 1)
                var ox = lo
                if s == 2 {
                    // Eight outputs from sixteen consecutive inputs (their even elements), while
                    // the sixteen stay inside the row.
                    typealias V = SIMD8<Float>
                    while ox + 8 <= hi && 2 * ox + 16 + kx - 1 <= w {
                        let a = UnsafeRawPointer(base + 2 * ox).loadUnaligned(as: V.self)
                        let b = UnsafeRawPointer(base + 2 * ox + 8).loadUnaligned(as: V.self)
                        UnsafeMutableRawPointer(d + ox).storeBytes(of: V(a[0], a[2], a[4], a[6], b[0], b[2], b[4], b[6]), as: V.self)
                        ox += 8
                    }
                    // The rest as the last eight outputs, once more where they overlap (the same
                    // values): the odd elements of the sixteen inputs that end one earlier, so
                    // they stay inside the row (kx = 2 reads up to its last element).
                    let last = hi - 8
                    if ox < hi && last >= lo && 2 * last + kx - 2 >= 0 && 2 * last + 14 + kx <= w {
                        let a = UnsafeRawPointer(base + 2 * last - 1).loadUnaligned(as: V.self)
                        let b = UnsafeRawPointer(base + 2 * last + 7).loadUnaligned(as: V.self)
                        UnsafeMutableRawPointer(d + last).storeBytes(of: V(a[1], a[3], a[5], a[7], b[1], b[3], b[5], b[7]), as: V.self)
                        ox = hi
                    }
                }
                while ox < hi { d[ox] = base[ox * s]; ox += 1 }
            }
            if hi < wo { (d + hi).update(repeating: 0, count: wo - hi) }
        }
    }

    /// Convenience for tests: x [1, in, h, w] or [in, h, w] -> [1, out, ho, wo].
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let h = x.shape[x.shape.count - 2], w = x.shape[x.shape.count - 1]
        let (ho, wo) = outputSize(height: h, width: w)
        var y = [Float](repeating: 0, count: outChannels * ho * wo)
        x.data.withUnsafeBufferPointer { xb in
            y.withUnsafeMutableBufferPointer { yb in
                apply(xb.baseAddress!, height: h, width: w, into: yb.baseAddress!)
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

    /// y [images, C, h, w] = dwconv(x [images, C, h, w]).
    public func apply(_ x: UnsafePointer<Float>, images: Int = 1, height h: Int, width w: Int,
                      into y: UnsafeMutablePointer<Float>) {
        let channels = self.channels
        weight.withUnsafeBufferPointer { wb in
            bias.withUnsafeBufferPointer { bb in
                Parallel.forRanges(images * channels, minPerChunk: 8) { planes in
                    for plane in planes {
                        let c = plane % channels
                        let src = x + plane * h * w, dst = y + plane * h * w
                        let k = wb.baseAddress! + c * 9
                        for oy in 0..<h {
                            // Pixels with all nine neighbours inside, eight at a time: the same
                            // sums in the same order, lane by lane; the rest one by one below.
                            var first = 0
                            if oy > 0 && oy < h - 1 {
                                typealias V = SIMD8<Float>
                                func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
                                let r0 = src + (oy - 1) * w - 1, r1 = r0 + w, r2 = r1 + w
                                let bv = V(repeating: bb[c])
                                var ox = 1
                                while ox + 8 <= w - 1 {
                                    var acc = V(repeating: 0)
                                    acc += k[0] * load(r0 + ox); acc += k[1] * load(r0 + ox + 1); acc += k[2] * load(r0 + ox + 2)
                                    acc += k[3] * load(r1 + ox); acc += k[4] * load(r1 + ox + 1); acc += k[5] * load(r1 + ox + 2)
                                    acc += k[6] * load(r2 + ox); acc += k[7] * load(r2 + ox + 1); acc += k[8] * load(r2 + ox + 2)
                                    UnsafeMutableRawPointer(dst + oy * w + ox).storeBytes(of: acc + bv, as: V.self)
                                    ox += 8
                                }
                                first = ox
                            }
                            for ox in 0..<w where ox == 0 || ox >= first {
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
