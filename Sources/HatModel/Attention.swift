// Multi-head self-attention with the continuous position bias (official WindowAttention, used as
// `attn` over the tokens of each window and as `hat_attn` over all carrier tokens), and the MLP.
//
// qkv = x W_qkv^T + b : [groups*T, 3C], column s*C + h*d + e holds q/k/v (s = 0/1/2) of head h,
// element e (official reshape(B, N, 3, heads, d)). Per group g and head h:
//   P = softmax(Q K^T * d^-0.5 + bias[h])  [T, T]     (the recorded attention probabilities)
//   ctx[g*T.., h*d..] = P V                 [T, d]
// y = ctx W_proj^T + b.
import Foundation
import HatCore

struct Attention {
    let dim: Int, heads: Int, headDim: Int
    let scale: Float
    /// qkv [3C, C] + [3C]; proj [C, C] + [C]
    let qkv: Linear, proj: Linear
    let positionBias: RelativePositionBias

    init(_ w: WeightReader, dim: Int, heads: Int) throws {
        guard heads > 0, dim % heads == 0 else {
            throw ModelError.configuration("\(dim) channels do not split into \(heads) heads")
        }
        self.dim = dim
        self.heads = heads
        headDim = dim / heads
        scale = Float(pow(Double(headDim), -0.5))
        qkv = try w.linear("qkv", in: dim, out: 3 * dim)
        proj = try w.linear("proj", in: dim, out: dim)
        positionBias = try RelativePositionBias(w.child("pos_emb_funct"), heads: heads)
    }

    /// y [groups*T, C] = attention(x [groups*T, C]) with the position `bias` (y += ... with
    /// `accumulate`). When `probs` is given, the softmax output is written there,
    /// [groups, heads, T, T]. `edits` (interventions, per image of the batch) change single
    /// groups: with `carrierKeys` = the number of carrier tokens in front of each group's tokens.
    func forward(_ x: UnsafePointer<Float>, groups: Int, tokens t: Int, bias: AttentionBias,
                 probs: UnsafeMutablePointer<Float>?, into y: UnsafeMutablePointer<Float>, accumulate: Bool = false,
                 edits: AttentionEdits? = nil, carrierKeys: Int = 0) {
        let rows = groups * t, c = dim, d = headDim, h = heads
        let qkvOut = FloatBuffer(count: rows * 3 * c, zeroed: false)  // [rows, 3C]
        qkv.apply(x, rows: rows, into: qkvOut.pointer)
        let ctx = FloatBuffer(count: rows * c, zeroed: false)          // [rows, C]
        let q0 = qkvOut.pointer, ctxp = ctx.pointer, scale = self.scale
        // Many small products: one (group, head) per task, single-threaded BLAS inside.
        Parallel.forRanges(groups * h) { items in
            let scratch = probs == nil ? FloatBuffer(count: t * t, zeroed: false) : nil
            for item in items {
                let g = item / h, head = item % h
                let s = probs.map { $0 + item * t * t } ?? scratch!.pointer   // [T, T]
                let q = q0 + g * t * 3 * c + head * d
                let out = ctxp + g * t * c + head * d                         // [T, d], row stride C
                BLAS.sgemm(transA: false, transB: true, m: t, n: t, k: d, alpha: scale,
                           a: q, lda: 3 * c, b: q + c, ldb: 3 * c, c: s, ldc: t)
                bias.add(to: s, head: head, tokens: t)
                if let e = edits?.edit(group: g) {
                    Attention.softmaxEdited(s, tokens: t, edit: e, carrierKeys: carrierKeys)
                    if e.ablated[head] {
                        // The head's output is zero before the projection (its probabilities stay).
                        for r in 0..<t { (out + r * c).update(repeating: 0, count: d) }
                        continue
                    }
                } else {
                    for r in 0..<t { Activations.softmaxRow(s + r * t, t) }
                }
                BLAS.sgemm(transA: false, transB: false, m: t, n: d, k: t,
                           a: s, lda: t, b: q + 2 * c, ldb: 3 * c,
                           c: out, ldc: c)
            }
        }
        proj.apply(ctx.pointer, rows: rows, into: y, accumulate: accumulate)
    }

    /// The softmax of logits s [T, T] under an edit. A logit set to -inf takes probability exactly
    /// 0 and the others share the row, so the softmax runs over the remaining keys only:
    /// - cutCarrierKeys: token queries (rows carrierKeys..<T) over token keys (carrierKeys..<T);
    ///   carrier queries keep every key.
    /// - diagonalOnly: each query's only key is itself, probability 1.
    static func softmaxEdited(_ s: UnsafeMutablePointer<Float>, tokens t: Int, edit e: AttentionEdit, carrierKeys lead: Int) {
        if e.diagonalOnly {
            for r in 0..<t {
                (s + r * t).update(repeating: 0, count: t)
                s[r * t + r] = 1
            }
            return
        }
        for r in 0..<t {
            let row = s + r * t
            if e.cutCarrierKeys && r >= lead {
                row.update(repeating: 0, count: lead)
                Activations.softmaxRow(row + lead, t - lead)
            } else {
                Activations.softmaxRow(row, t)
            }
        }
    }
}

/// Official Mlp: fc1 (C -> hidden), exact GELU, fc2 (hidden -> C).
struct FeedForward {
    let fc1: Linear, fc2: Linear

    init(_ w: WeightReader, dim: Int, hidden: Int) throws {
        fc1 = try w.linear("fc1", in: dim, out: hidden)
        fc2 = try w.linear("fc2", in: hidden, out: dim)
    }

    /// y [rows, C] = fc2(gelu(fc1(x [rows, C]))) (y += ... with `accumulate`).
    func forward(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, accumulate: Bool = false) {
        let hidden = FloatBuffer(count: rows * fc1.outFeatures, zeroed: false)  // [rows, hidden]
        fc1.apply(x, rows: rows, into: hidden.pointer, activation: .gelu)
        fc2.apply(hidden.pointer, rows: rows, into: y, accumulate: accumulate)
    }
}

/// x[r, :] += gamma * y[r, :] for rows of [rows, C]; gamma nil means 1 (no layer scale).
func addResidual(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, rows: Int, channels c: Int, gamma: [Float]?) {
    if let g = gamma {
        g.withUnsafeBufferPointer { gb in
            Parallel.forRanges(rows, minPerChunk: max(1, 32768 / max(1, c))) { r in
                for i in r { for k in 0..<c { x[i * c + k] += gb[k] * y[i * c + k] } }
            }
        }
    } else {
        Parallel.forRanges(rows * c, minPerChunk: 16384) { r in
            for i in r { x[i] += y[i] }
        }
    }
}
