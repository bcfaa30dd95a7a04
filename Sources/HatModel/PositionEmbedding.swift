// The two learned position encodings of a HAT block, both small MLPs over coordinates:
// - `PositionMLP` (official PosEmbMLPSwinv1D, rank 2): an s x s grid of absolute coordinates
//   ((i - s//2) / (s//2), (j - s//2) / (s//2)) -> Linear(2, 512) ReLU Linear(512, C, no bias),
//   added to the tokens (`pos_embed`, w x w window tokens) or carrier tokens (`hat_pos_embed`).
// - `RelativePositionBias` (official PosEmbMLPSwinv2D, the continuous position bias): relative
//   offsets (dy, dx) in -(W-1)..(W-1), scaled t = 8 * d / (W-1), then sign(t) log2(|t|+1) / 3,
//   -> Linear(2, 512) ReLU Linear(512, heads, no bias) -> 16 * sigmoid, looked up per token pair.
//   With T > W*W tokens, the first T - W*W rows and columns (carrier tokens) get bias 0.
import Foundation
import HatCore

struct PositionMLP {
    /// cpb_mlp.0 [512, 2] + [512]; cpb_mlp.2 [C, 512]
    let fc1: Linear, fc2: Linear

    init(_ w: WeightReader, outputs: Int) throws {
        fc1 = try w.linear("cpb_mlp.0", in: 2, out: 512)
        fc2 = try w.linear("cpb_mlp.2", in: 512, out: outputs, bias: false)
    }

    /// MLP of coordinate pairs [n, 2] -> [n, outputs] (ReLU between).
    func callAsFunction(_ coords: [Float]) -> [Float] {
        var hidden = fc1(Tensor(shape: [coords.count / 2, 2], data: coords))
        hidden.data.withUnsafeMutableBufferPointer { Activations.relu($0.baseAddress!, count: $0.count) }
        return fc2(hidden).data
    }

    /// The absolute embedding of an s x s grid: [s*s, C], row-major tokens.
    func grid(side s: Int) -> [Float] {
        let half = Float(s / 2)
        var coords = [Float](repeating: 0, count: s * s * 2)
        for i in 0..<s {
            for j in 0..<s {
                coords[(i * s + j) * 2] = (Float(i) - half) / half
                coords[(i * s + j) * 2 + 1] = (Float(j) - half) / half
            }
        }
        return self(coords)
    }
}

struct RelativePositionBias {
    let mlp: PositionMLP
    let heads: Int

    init(_ w: WeightReader, heads: Int) throws {
        mlp = try PositionMLP(w, outputs: heads)
        self.heads = heads
    }

    /// The bias table for a W x W grid (W = `side`), looked up per token pair when applied.
    func bias(side: Int) -> AttentionBias {
        let wn = side, span = 2 * side - 1
        // relative_coords_table [(2W-1)^2, 2]
        var coords = [Float](repeating: 0, count: span * span * 2)
        let denom = Float(wn - 1)
        func squash(_ d: Int) -> Float {
            var t = Float(d) / denom
            t *= 8
            let s: Float = t > 0 ? 1 : (t < 0 ? -1 : 0)
            return s * log2f(abs(t) + 1) / 3
        }
        for a in 0..<span {
            for b in 0..<span {
                coords[(a * span + b) * 2] = squash(a - (wn - 1))
                coords[(a * span + b) * 2 + 1] = squash(b - (wn - 1))
            }
        }
        let mlpOut = mlp(coords)  // [(2W-1)^2, heads]
        var table = [Float](repeating: 0, count: heads * span * span)   // [heads, (2W-1)^2]
        for e in 0..<(span * span) {
            for h in 0..<heads { table[h * span * span + e] = 16 * Activations.sigmoid(mlpOut[e * heads + h]) }
        }
        return AttentionBias(heads: heads, side: side, table: table)
    }
}

/// The continuous position bias of one attention module, stored compactly as the
/// [heads, (2W-1)^2] table (16 * sigmoid applied): a dense [heads, T, T] copy would take 340 MB
/// per block for faster_vit_4_21k_768's 2304-token windows. The first T - W*W tokens (carrier
/// tokens) get bias 0, rows and columns.
struct AttentionBias: Sendable {
    let heads: Int, side: Int
    /// [heads, (2W-1)^2], entry (dy + W-1) * (2W-1) + (dx + W-1) for offset (dy, dx)
    let table: [Float]

    /// scores [T, T] of head `h` += bias (official relative_position_index lookup); the first
    /// T - W*W tokens get none.
    func add(to s: UnsafeMutablePointer<Float>, head h: Int, tokens t: Int) {
        let w = side, span = 2 * w - 1, lead = t - w * w
        table.withUnsafeBufferPointer { tb in
            let tbl = tb.baseAddress! + h * span * span
            for p in 0..<(w * w) {
                let yi = p / w, xi = p % w
                let row = s + (lead + p) * t + lead
                // index(p, q) = (yi - yj + W-1) * span + (xi - xj + W-1)
                let base = (yi + w - 1) * span + (xi + w - 1)
                for yj in 0..<w {
                    let rb = tbl + base - yj * span
                    let d = row + yj * w
                    for xj in 0..<w { d[xj] += rb[-xj] }
                }
            }
        }
    }

    /// Dense [heads, T, T] (tests).
    func dense(tokens t: Int) -> [Float] {
        var out = [Float](repeating: 0, count: heads * t * t)
        out.withUnsafeMutableBufferPointer { o in
            for h in 0..<heads { add(to: o.baseAddress! + h * t * t, head: h, tokens: t) }
        }
        return out
    }
}
