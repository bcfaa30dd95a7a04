// LayerNorm over the last dimension of [n, C] rows (official nn.LayerNorm in the transformer
// blocks, eps 1e-5) and LayerNorm2d over the channels of an NCHW map (timm LayerNorm2d in the
// downsamplers, eps 1e-6). BatchNorm is folded into convolutions (Conv.swift) or applied as a
// per-channel affine map (`affineChannels`, the final `norm`).

public struct LayerNormParameters: Sendable {
    /// [C]
    public let weight: [Float], bias: [Float]
    public let eps: Float
    public init(weight: [Float], bias: [Float], eps: Float) {
        self.weight = weight; self.bias = bias; self.eps = eps
    }
    public var channels: Int { weight.count }
}

public enum Normalization {
    /// y[i, :] = (x[i, :] - mean) / sqrt(var + eps) * weight + bias for rows i of x [rows, C].
    /// x and y may be the same buffer. Biased variance, as PyTorch.
    public static func layerNorm(_ x: UnsafePointer<Float>, rows: Int, _ p: LayerNormParameters,
                                 into y: UnsafeMutablePointer<Float>) {
        let c = p.channels
        p.weight.withUnsafeBufferPointer { wb in
            p.bias.withUnsafeBufferPointer { bb in
                // ~8k elements per chunk: a 212 x 256 block of a level-2 HAT stage splits in two.
                Parallel.forRanges(rows, minPerChunk: max(1, 8192 / max(1, c))) { range in
                    for r in range {
                        layerNormRow(x + r * c, c, wb.baseAddress!, bb.baseAddress!, p.eps, into: y + r * c)
                    }
                }
            }
        }
    }

    /// One row: 8-lane partial sums (then summed across lanes), as PyTorch's vectorised kernel
    /// also sums in lanes rather than strictly left to right.
    @inline(__always)
    static func layerNormRow(_ xr: UnsafePointer<Float>, _ c: Int, _ wb: UnsafePointer<Float>,
                             _ bb: UnsafePointer<Float>, _ eps: Float, into yr: UnsafeMutablePointer<Float>) {
        typealias V = SIMD8<Float>
        func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
        let body = c - c % 8
        var sv = V(repeating: 0)
        var i = 0
        while i < body { sv += load(xr + i); i += 8 }
        var sum = sv.sum()
        while i < c { sum += xr[i]; i += 1 }
        let mean = sum / Float(c)
        let mv = V(repeating: mean)
        var qv = V(repeating: 0)
        i = 0
        while i < body { let d = load(xr + i) - mv; qv += d * d; i += 8 }
        var sq = qv.sum()
        while i < c { let d = xr[i] - mean; sq += d * d; i += 1 }
        let inv = 1 / (sq / Float(c) + eps).squareRoot()
        let iv = V(repeating: inv)
        i = 0
        while i < body {
            let v = (load(xr + i) - mv) * iv * load(wb + i) + load(bb + i)
            UnsafeMutableRawPointer(yr + i).storeBytes(of: v, as: V.self)
            i += 8
        }
        while i < c { yr[i] = (xr[i] - mean) * inv * wb[i] + bb[i]; i += 1 }
    }

    /// LayerNorm over channels at every pixel of x [images, C, pixels] (NCHW); y may be x.
    public static func layerNorm2d(_ x: UnsafePointer<Float>, images: Int = 1, pixels: Int, _ p: LayerNormParameters,
                                   into y: UnsafeMutablePointer<Float>) {
        let c = p.channels
        p.weight.withUnsafeBufferPointer { wb in
            p.bias.withUnsafeBufferPointer { bb in
                Parallel.forRanges(images * pixels, minPerChunk: max(64, 32768 / max(1, c))) { range in
                    // A range may span images: one run of pixels per image it touches.
                    var lo = range.lowerBound
                    while lo < range.upperBound {
                        let image = lo / pixels, first = lo % pixels
                        let n = min(range.upperBound - lo, pixels - first)
                        let base = image * c * pixels + first
                        layerNorm2dRun(x + base, y + base, count: n, stride: pixels, channels: c,
                                       wb.baseAddress!, bb.baseAddress!, p.eps)
                        lo += n
                    }
                }
            }
        }
    }

    /// LayerNorm over `channels` planes (`stride` apart) at `count` consecutive pixels.
    static func layerNorm2dRun(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count n: Int, stride: Int,
                               channels c: Int, _ wb: UnsafePointer<Float>, _ bb: UnsafePointer<Float>, _ eps: Float) {
        var mean = [Float](repeating: 0, count: n), varc = [Float](repeating: 0, count: n)
        for ch in 0..<c {
            let xr = x + ch * stride
            for i in 0..<n { mean[i] += xr[i] }
        }
        for i in 0..<n { mean[i] /= Float(c) }
        for ch in 0..<c {
            let xr = x + ch * stride
            for i in 0..<n { let d = xr[i] - mean[i]; varc[i] += d * d }
        }
        for i in 0..<n { varc[i] = 1 / (varc[i] / Float(c) + eps).squareRoot() }
        for ch in 0..<c {
            let xr = x + ch * stride
            let yr = y + ch * stride
            let g = wb[ch], b = bb[ch]
            for i in 0..<n { yr[i] = (xr[i] - mean[i]) * varc[i] * g + b }
        }
    }

    /// y[c, i] = x[c, i] * scale[c] + shift[c] on x [C, pixels] (an eval-mode BatchNorm2d).
    public static func affineChannels(_ x: UnsafeMutablePointer<Float>, pixels: Int, scale: [Float], shift: [Float]) {
        for ch in 0..<scale.count {
            let xr = x + ch * pixels
            for i in 0..<pixels { xr[i] = xr[i] * scale[ch] + shift[ch] }
        }
    }
}
