// The two buffers an official PosEmbMLPSwinv2D (`attn.pos_emb_funct`, `hat_attn.pos_emb_funct`)
// registers and its non-deploy forward reads, for a W x W grid (W = the window, or int(sqrt(#CTs))
// for the carrier attention):
//   relative_coords_table   [1, 2W-1, 2W-1, 2]  float: offsets (dy, dx) in -(W-1)..(W-1), each
//                           t = 8 * d / (W-1), then sign(t) * log2(|t| + 1) / 3
//   relative_position_index [W*W, W*W]          int64: (yi - yj + W-1) * (2W-1) + (xi - xj + W-1)
// `cpb_mlp(relative_coords_table)` is looked up through `relative_position_index`. load_state_dict
// overwrites both with the checkpoint's values, so the official result follows the stored buffers:
// half-precision copies round the table, timm's ModelEmaV2 truncates blended indices. The official
// any-res loader (strict=False) skips a buffer shaped for another W: the model keeps its own, i.e.
// the geometry. `StoredRelativeBuffers` holds what a checkpoint stores, each buffer with the W its
// shape belongs to.
import Foundation
import HatCore

enum RelativeGeometry {
    /// relative_coords_table of a W x W grid, [(2W-1)^2, 2] row-major over (dy, dx).
    static func coords(side wn: Int) -> [Float] {
        let span = 2 * wn - 1
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
        return coords
    }

    /// relative_position_index of a W x W grid, [W*W, W*W].
    static func index(side w: Int) -> [Int32] {
        let ww = w * w, span = 2 * w - 1
        var out = [Int32](repeating: 0, count: ww * ww)
        for p in 0..<ww {
            for q in 0..<ww {
                out[p * ww + q] = Int32((p / w - q / w + w - 1) * span + (p % w - q % w + w - 1))
            }
        }
        return out
    }

    /// The W a relative_coords_table of `shape` [1, 2W-1, 2W-1, 2] belongs to, or nil.
    static func coordsSide(_ shape: [Int]) -> Int? {
        guard shape.count == 4, shape[0] == 1, shape[3] == 2, shape[1] == shape[2], shape[1] > 0, shape[1] % 2 == 1 else { return nil }
        return (shape[1] + 1) / 2
    }

    /// The W a relative_position_index of `shape` [W*W, W*W] belongs to, or nil.
    static func indexSide(_ shape: [Int]) -> Int? {
        guard shape.count == 2, shape[0] == shape[1], shape[0] > 0 else { return nil }
        let w = Int(Double(shape[0]).squareRoot().rounded())
        return w * w == shape[0] ? w : nil
    }
}

/// What a checkpoint stores for one PosEmbMLPSwinv2D, as load_state_dict leaves it.
struct StoredRelativeBuffers: Sendable {
    struct Coords: Sendable {
        let side: Int
        /// [(2W-1)^2, 2]
        let values: [Float]
    }
    struct Index: Sendable {
        let side: Int
        /// [W*W, W*W] entries of the (2W-1)^2 table, after copy_ into int64 (truncation toward
        /// zero) and torch's negative-index wrap; nil when an entry lies outside the table.
        let values: [Int32]?
        /// Why the index cannot be used (an entry outside the table), or nil.
        let problem: String?
        /// The stored index is the geometry's (the lookup can take the structured fast path).
        let equalsGeometry: Bool
    }
    let coords: Coords?
    let index: Index?

    static let none = StoredRelativeBuffers(coords: nil, index: nil)

    init(coords: Coords?, index: Index?) {
        self.coords = coords
        self.index = index
    }

    /// Reads `relative_coords_table` and `relative_position_index` under `w` when present. A
    /// buffer of a shape no official module has is ignored (never read, like a mismatched one).
    /// An index with entries outside its table is kept with its problem: the model fails only
    /// where a grid of its side uses it, as the official forward does.
    init(_ w: WeightReader) throws {
        if let t = try w.storedBuffer("relative_coords_table"), let side = RelativeGeometry.coordsSide(t.shape) {
            coords = Coords(side: side, values: t.data)
        } else {
            coords = nil
        }
        if let t = try w.storedBuffer("relative_position_index"), let side = RelativeGeometry.indexSide(t.shape) {
            do {
                let values = try Self.tableEntries(t.data, side: side, name: w.key("relative_position_index"))
                index = Index(side: side, values: values, problem: nil, equalsGeometry: values == RelativeGeometry.index(side: side))
            } catch let ModelError.buffer(problem) {
                index = Index(side: side, values: nil, problem: problem, equalsGeometry: false)
            }
        } else {
            index = nil
        }
    }

    /// Why the stored buffers cannot serve a grid of side `side`, or nil.
    func problem(side: Int) -> String? {
        index.flatMap { $0.side == side ? $0.problem : nil }
    }

    /// Stored index values (float32 from the loader; integers and float storages alike) as
    /// table entries: truncated toward zero as copy_ into int64 does, negatives wrapped as torch
    /// indexing does; anything outside -(n)..<n (n = (2W-1)^2 entries) fails like the official
    /// lookup.
    static func tableEntries(_ raw: [Float], side: Int, name: String) throws -> [Int32] {
        let n = (2 * side - 1) * (2 * side - 1)
        var out = [Int32](repeating: 0, count: raw.count)
        for (i, v) in raw.enumerated() {
            let t = v.rounded(.towardZero)
            guard t.isFinite, t >= Float(-n), t < Float(n) else {
                throw ModelError.buffer("\(name): entry \(i) is \(v), outside the \(n)-entry bias table of a \(side)x\(side) grid "
                                        + "(the official forward fails on it too; --buffers geometry recomputes the index)")
            }
            let k = Int(t)
            out[i] = Int32(k < 0 ? k + n : k)
        }
        return out
    }
}
