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
                Parallel.forRanges(rows, minPerChunk: max(1, 32768 / max(1, c))) { range in
                    for r in range {
                        let xr = x + r * c, yr = y + r * c
                        var sum: Float = 0
                        for i in 0..<c { sum += xr[i] }
                        let mean = sum / Float(c)
                        var sq: Float = 0
                        for i in 0..<c { let d = xr[i] - mean; sq += d * d }
                        let inv = 1 / (sq / Float(c) + p.eps).squareRoot()
                        for i in 0..<c { yr[i] = (xr[i] - mean) * inv * wb[i] + bb[i] }
                    }
                }
            }
        }
    }

    /// LayerNorm over channels at every pixel of x [C, pixels] (NCHW); y may be x.
    public static func layerNorm2d(_ x: UnsafePointer<Float>, pixels: Int, _ p: LayerNormParameters,
                                   into y: UnsafeMutablePointer<Float>) {
        let c = p.channels
        p.weight.withUnsafeBufferPointer { wb in
            p.bias.withUnsafeBufferPointer { bb in
                Parallel.forRanges(pixels, minPerChunk: max(64, 32768 / max(1, c))) { range in
                    let n = range.count
                    var mean = [Float](repeating: 0, count: n), varc = [Float](repeating: 0, count: n)
                    for ch in 0..<c {
                        let xr = x + ch * pixels + range.lowerBound
                        for i in 0..<n { mean[i] += xr[i] }
                    }
                    for i in 0..<n { mean[i] /= Float(c) }
                    for ch in 0..<c {
                        let xr = x + ch * pixels + range.lowerBound
                        for i in 0..<n { let d = xr[i] - mean[i]; varc[i] += d * d }
                    }
                    for i in 0..<n { varc[i] = 1 / (varc[i] / Float(c) + p.eps).squareRoot() }
                    for ch in 0..<c {
                        let xr = x + ch * pixels + range.lowerBound
                        let yr = y + ch * pixels + range.lowerBound
                        let g = wb[ch], b = bb[ch]
                        for i in 0..<n { yr[i] = (xr[i] - mean[i]) * varc[i] * g + b }
                    }
                }
            }
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
