// The two learned position encodings of a HAT block, both small MLPs over coordinates:
// - `PositionMLP` (official PosEmbMLPSwinv1D, rank 2): an s x s grid of absolute coordinates
//   ((i - s//2) / (s//2), (j - s//2) / (s//2)) -> Linear(2, 512) ReLU Linear(512, C, no bias),
//   added to the tokens (`pos_embed`, w x w window tokens) or carrier tokens (`hat_pos_embed`).
// - `RelativePositionBias` (official PosEmbMLPSwinv2D, the continuous position bias): relative
//   offsets (dy, dx) in -(W-1)..(W-1), scaled t = 8 * d / (W-1), then sign(t) log2(|t|+1) / 3,
//   -> Linear(2, 512) ReLU Linear(512, heads, no bias) -> 16 * sigmoid, looked up per token pair.
//   With T > W*W tokens, the first T - W*W rows and columns (carrier tokens) get bias 0.
//   The table and index are the checkpoint's buffers when it stores them for this W
//   (RelativePositionBuffers.swift), else the geometry's.
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
    /// The checkpoint's relative_coords_table / relative_position_index (RelativePositionBuffers.swift).
    let stored: StoredRelativeBuffers

    init(_ w: WeightReader, heads: Int) throws {
        mlp = try PositionMLP(w, outputs: heads)
        self.heads = heads
        stored = try StoredRelativeBuffers(w)
    }

    /// The bias table for a W x W grid (W = `side`), looked up per token pair when applied. Each
    /// stored buffer is used when its shape belongs to this W (as load_state_dict leaves it),
    /// else the geometry's.
    func bias(side: Int) -> AttentionBias {
        let span = 2 * side - 1
        // relative_coords_table [(2W-1)^2, 2]
        let coords = stored.coords.flatMap { $0.side == side ? $0.values : nil } ?? RelativeGeometry.coords(side: side)
        let mlpOut = mlp(coords)  // [(2W-1)^2, heads]
        var table = [Float](repeating: 0, count: heads * span * span)   // [heads, (2W-1)^2]
        for e in 0..<(span * span) {
            for h in 0..<heads { table[h * span * span + e] = 16 * Activations.sigmoid(mlpOut[e * heads + h]) }
        }
        // (An unusable stored index never gets here: `StoredRelativeBuffers.problem` stops the load
        // or the input first.)
        let index = stored.index.flatMap { $0.side == side && !$0.equalsGeometry ? $0.values : nil }
        return AttentionBias(heads: heads, side: side, table: table, index: index)
    }
}

/// The continuous position bias of one attention module, stored compactly as the
/// [heads, (2W-1)^2] table (16 * sigmoid applied): a dense [heads, T, T] copy would take 340 MB
/// per block for faster_vit_4_21k_768's 2304-token windows. The first T - W*W tokens (carrier
/// tokens) get bias 0, rows and columns. Small windows also keep the bias per token pair, looked
/// up once here (the same values): adding a row of it is a contiguous, vectorised add, where the
/// lookup walks the table backwards one element at a time for every window and head.
struct AttentionBias: Sendable {
    let heads: Int, side: Int
    /// [heads, (2W-1)^2], entry (dy + W-1) * (2W-1) + (dx + W-1) for offset (dy, dx)
    let table: [Float]
    /// [W*W, W*W] table entry per token pair when a stored relative_position_index differs from
    /// the geometry (an EMA-truncated one, say); nil = the geometry's, looked up by its formula.
    let index: [Int32]?
    /// [heads, W*W, W*W] the bias of each token pair, when that is at most `pairLimit` floats.
    let pairs: [Float]?
    /// 1M floats (4 MB): faster_vit_0's 7 x 7 windows take 77-154 KB per block.
    static let pairLimit = 1 << 20

    init(heads: Int, side: Int, table: [Float], index: [Int32]? = nil) {
        self.heads = heads; self.side = side; self.table = table; self.index = index
        let ww = side * side
        if heads * ww * ww <= Self.pairLimit {
            var p = [Float](repeating: 0, count: heads * ww * ww)
            p.withUnsafeMutableBufferPointer { pb in
                for h in 0..<heads {
                    Self.lookUp(table, index, side: side, to: pb.baseAddress! + h * ww * ww, head: h, tokens: ww)
                }
            }
            pairs = p
        } else {
            pairs = nil
        }
    }

    /// scores [T, T] of head `h` += bias (official relative_position_index lookup); the first
    /// T - W*W tokens get none.
    func add(to s: UnsafeMutablePointer<Float>, head h: Int, tokens t: Int) {
        guard let pairs else { return Self.lookUp(table, index, side: side, to: s, head: h, tokens: t) }
        let ww = side * side, lead = t - ww
        pairs.withUnsafeBufferPointer { pb in
            let bias = pb.baseAddress! + h * ww * ww
            for p in 0..<ww {
                let row = s + (lead + p) * t + lead, b = bias + p * ww
                for q in 0..<ww { row[q] += b[q] }
            }
        }
    }

    /// scores [T, T] of head `h` += bias looked up in `table` (through `index`, else the
    /// geometry's formula).
    private static func lookUp(_ table: [Float], _ index: [Int32]?, side w: Int, to s: UnsafeMutablePointer<Float>,
                               head h: Int, tokens t: Int) {
        let span = 2 * w - 1, lead = t - w * w
        table.withUnsafeBufferPointer { tb in
            let tbl = tb.baseAddress! + h * span * span
            if let index {
                // General gather through the stored index.
                index.withUnsafeBufferPointer { ib in
                    let ww = w * w
                    for p in 0..<ww {
                        let row = s + (lead + p) * t + lead, ir = ib.baseAddress! + p * ww
                        for q in 0..<ww { row[q] += tbl[Int(ir[q])] }
                    }
                }
                return
            }
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
