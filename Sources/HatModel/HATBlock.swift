// One hierarchical-attention block (official HAT, `levels.I.blocks.J`).
//
// Buffers, for a batch of `images` and a stage with `windows` windows of w*w tokens and c*c
// carrier tokens (CTs) each (every image's part follows the previous image's):
//   x    [images * windows, T, C], T = c*c + w*w: each window's CT slots first, then its tokens
//   ct   [images * N, C], N = windows * c*c, each image's in window-list order (StageGeometry)
// Official order of operations:
//   x = pos_embed(x)                                    (tokens only)
//   if hierarchical:
//     ct = ct_dewindow(ct)                              -> grid order
//     ct = hat_pos_embed(ct)                            (only for a square window grid)
//     ct = ct + gamma1 * hat_attn(hat_norm1(ct))        (all CTs attend to all CTs)
//     ct = ct + gamma2 * hat_mlp(hat_norm2(ct))
//     x  = cat(ct_window(ct), x)                        (swapped-h/w ct_window: any-res quirk)
//   x = x + gamma3 * attn(norm1(x));  x = x + gamma4 * mlp(norm2(x))
//   if hierarchical: ct = the CT slots of x (window-list order);
//     in the stage's last block with propagation: x += gamma1 * nearest_upsample(ct of the window)
import HatCore
import HatRecording

struct HATBlock {
    let dim: Int
    let hierarchical: Bool
    /// [w*w, C], the window-token position embedding (input independent, computed at load).
    let windowPositions: [Float]
    let norm1: LayerNormParameters, norm2: LayerNormParameters
    let attn: Attention
    let mlp: FeedForward
    /// Layer-scale gammas [C]; nil = 1.
    let gamma1: [Float]?, gamma2: [Float]?, gamma3: [Float]?, gamma4: [Float]?
    // Carrier-token parts (hierarchical only).
    let hatNorm1: LayerNormParameters?, hatNorm2: LayerNormParameters?
    let hatAttn: Attention?
    let hatMLP: FeedForward?
    let hatPositions: PositionMLP?
    /// Window attention bias table (computed at load).
    let windowBias: AttentionBias
    /// Carrier attention bias and carrier position embedding ([side*side, C]) for the carrier
    /// grid of the resolution the model was built for (computed at load: they depend only on the
    /// grid side, and recomputing them cost two small MLPs per block and forward); other sides
    /// are computed when used.
    let builtCarrierBias: AttentionBias?, builtCarrierPositions: [Float]?
    let builtCarrierSide: Int

    init(_ w: WeightReader, config: ModelConfig, dim: Int, heads: Int, window: Int,
         hierarchical: Bool, squareGrid: Bool, carrierSide: Int) throws {
        self.dim = dim
        self.hierarchical = hierarchical
        let hidden = Int(Float(dim) * config.mlpRatio)
        windowPositions = try PositionMLP(w.child("pos_embed"), outputs: dim).grid(side: window)
        norm1 = try w.layerNorm("norm1", dim, eps: 1e-5)
        norm2 = try w.layerNorm("norm2", dim, eps: 1e-5)
        attn = try Attention(w.child("attn"), dim: dim, heads: heads)
        mlp = try FeedForward(w.child("mlp"), dim: dim, hidden: hidden)
        let ls = config.layerScale != nil
        gamma3 = ls ? try w.array("gamma3", [dim]) : nil
        gamma4 = ls ? try w.array("gamma4", [dim]) : nil
        if hierarchical {
            gamma1 = ls ? try w.array("gamma1", [dim]) : nil
            gamma2 = ls ? try w.array("gamma2", [dim]) : nil
            hatNorm1 = try w.layerNorm("hat_norm1", dim, eps: 1e-5)
            hatNorm2 = try w.layerNorm("hat_norm2", dim, eps: 1e-5)
            hatAttn = try Attention(w.child("hat_attn"), dim: dim, heads: heads)
            hatMLP = try FeedForward(w.child("hat_mlp"), dim: dim, hidden: hidden)
            hatPositions = squareGrid ? try PositionMLP(w.child("hat_pos_embed"), outputs: dim) : nil
        } else {
            gamma1 = nil; gamma2 = nil; hatNorm1 = nil; hatNorm2 = nil; hatAttn = nil; hatMLP = nil
            hatPositions = nil
        }
        // A stored index that fails the official lookup fails here too.
        for p in [attn.positionBias.stored.problem(side: window),
                  hierarchical ? hatAttn?.positionBias.stored.problem(side: carrierSide) : nil] {
            if let p { throw ModelError.buffer(p) }
        }
        windowBias = attn.positionBias.bias(side: window)
        builtCarrierSide = carrierSide
        builtCarrierBias = hierarchical ? hatAttn?.positionBias.bias(side: carrierSide) : nil
        builtCarrierPositions = hierarchical ? hatPositions?.grid(side: carrierSide) : nil
    }

    /// The carrier attention bias for a carrier grid of side `side` (official seq_length).
    func carrierBias(side: Int) -> AttentionBias? {
        if side == builtCarrierSide, let b = builtCarrierBias { return b }
        return hatAttn?.positionBias.bias(side: side)
    }

    /// What the block hands the recorder; each buffer holds the whole batch, image after image.
    struct Taps {
        /// [images, windows, heads, T, T] destination for the window attention, or nil.
        var windowProbs: UnsafeMutablePointer<Float>?
        /// [images, heads, N, N] destination for the carrier attention, or nil.
        var carrierProbs: UnsafeMutablePointer<Float>?
        /// [images, paddedH * paddedW, C] destination for the propagation term, or nil.
        var propagation: UnsafeMutablePointer<Float>?
    }

    /// What interventions change in this block (nil = nothing).
    struct Edits {
        var window: AttentionEdits?
        var carrier: AttentionEdits?
        /// Per image: true = do not add the carriers back (when this block propagates).
        var noPropagation: [Bool]?
    }

    /// Runs the block on `x` [images * windows, T, C] and `ct` [images * N, C] (each image's
    /// carriers in window-list order) in place. `hatBias` is the carrier attention's bias over
    /// this input's N carrier tokens. Carrier tokens are used when `layout` (this input) has them;
    /// a block loaded with carrier weights runs without them where the stage is a single window,
    /// as the official any-res model built for that size does.
    func forward(x: FloatBuffer, ct: FloatBuffer?, images: Int, layout: StageGeometry, hatBias: AttentionBias?,
                 propagate: Bool, taps: Taps, edits: Edits? = nil) {
        let c = dim, w = layout.windowSize, ww = w * w
        let lead = layout.carriersPerWindow, t = layout.tokensPerWindow
        let windows = layout.windowCount, allWindows = images * windows
        let xp = x.pointer
        // x = pos_embed(x): tokens only, every window.
        windowPositions.withUnsafeBufferPointer { pb in
            Parallel.forRanges(allWindows) { ks in
                for k in ks {
                    let base = xp + (k * t + lead) * c
                    for i in 0..<(ww * c) { base[i] += pb[i] }
                }
            }
        }

        if layout.hasCarriers, let ct = ct, let hatAttn, let hatMLP, let hatNorm1, let hatNorm2, let hatBias {
            let n = layout.carrierCount
            let cc = lead
            // ct_dewindow: window list -> grid order, grid [images * N, C]
            let grid = FloatBuffer(count: images * n * c, zeroed: false)
            for image in 0..<images {
                for l in 0..<n {
                    let g = layout.carrierGridIndex(window: l / cc, slot: l % cc)
                    (grid.pointer + (image * n + g) * c).update(from: ct.pointer + (image * n + l) * c, count: c)
                }
            }
            if let hatPositions, layout.squareCarrierGrid {
                let side = layout.carrierBiasSide   // int(sqrt(N)), the official seq_length
                let emb = side == builtCarrierSide ? builtCarrierPositions ?? hatPositions.grid(side: side)
                                                   : hatPositions.grid(side: side)
                for image in 0..<images {
                    let gi = grid.pointer + image * n * c
                    for i in 0..<min(emb.count, n * c) { gi[i] += emb[i] }
                }
            }
            let normed = FloatBuffer(count: images * n * c, zeroed: false)
            let out = FloatBuffer(count: images * n * c, zeroed: false)
            Normalization.layerNorm(grid.pointer, rows: images * n, hatNorm1, into: normed.pointer)
            hatAttn.forward(normed.pointer, groups: images, tokens: n, bias: hatBias, probs: taps.carrierProbs,
                            into: out.pointer, edits: edits?.carrier)
            addResidual(grid.pointer, out.pointer, rows: images * n, channels: c, gamma: gamma1)
            Normalization.layerNorm(grid.pointer, rows: images * n, hatNorm2, into: normed.pointer)
            hatMLP.forward(normed.pointer, rows: images * n, into: out.pointer)
            addResidual(grid.pointer, out.pointer, rows: images * n, channels: c, gamma: gamma2)
            // ct_window (swapped h/w for non-square window grids) into each window's CT slots.
            for image in 0..<images {
                for k in 0..<windows {
                    for (j, src) in layout.windowCarriers[k].enumerated() {
                        (xp + ((image * windows + k) * t + j) * c).update(from: grid.pointer + (image * n + src) * c, count: c)
                    }
                }
            }
        }

        // x = x + gamma3 * attn(norm1(x)); x = x + gamma4 * mlp(norm2(x))
        let rows = allWindows * t
        let normed = FloatBuffer(count: rows * c, zeroed: false)
        let out = FloatBuffer(count: rows * c, zeroed: false)
        // Without layer scale the residual add is folded into the output projection (beta = 1).
        Normalization.layerNorm(xp, rows: rows, norm1, into: normed.pointer)
        attn.forward(normed.pointer, groups: allWindows, tokens: t, bias: windowBias, probs: taps.windowProbs,
                     into: gamma3 == nil ? xp : out.pointer, accumulate: gamma3 == nil,
                     edits: edits?.window, carrierKeys: lead)
        if gamma3 != nil { addResidual(xp, out.pointer, rows: rows, channels: c, gamma: gamma3) }
        Normalization.layerNorm(xp, rows: rows, norm2, into: normed.pointer)
        mlp.forward(normed.pointer, rows: rows, into: gamma4 == nil ? xp : out.pointer, accumulate: gamma4 == nil)
        if gamma4 != nil { addResidual(xp, out.pointer, rows: rows, channels: c, gamma: gamma4) }

        guard layout.hasCarriers, let ct = ct else { return }
        // ct = CT slots of x, window-list order.
        for k in 0..<allWindows {
            (ct.pointer + k * lead * c).update(from: xp + k * t * c, count: lead * c)
        }
        guard propagate else { return }
        // x += gamma1 * upsample_nearest(ct of the window, c x c -> w x w)
        let cs = layout.ctSize
        let plane = layout.paddedHeight * layout.paddedWidth * c
        let skipped = edits?.noPropagation
        // [C]: gamma1, or ones (1 * x is x: the same values as without a layer scale).
        let scale = gamma1 ?? [Float](repeating: 1, count: c)
        scale.withUnsafeBufferPointer { gb in
            let g = gb.baseAddress!
            // Windows spread over the cores: each writes only its own tokens and tap pixels.
            Parallel.forRanges(allWindows, minPerChunk: max(1, 16384 / max(1, ww * c))) { wks in
                for wk in wks {
                    let image = wk / windows, k = wk % windows
                    if skipped?[image] ?? false { continue }
                    let (a, b) = layout.windowPosition(k)
                    for p in 0..<w {
                        let si = Pooling.nearestSource(p, inSize: cs, outSize: w)
                        for q in 0..<w {
                            let sj = Pooling.nearestSource(q, inSize: cs, outSize: w)
                            let src = xp + (wk * t + si * cs + sj) * c
                            let dst = xp + (wk * t + lead + p * w + q) * c
                            if let tapBase = taps.propagation {
                                let tap = tapBase + image * plane + ((a * w + p) * layout.paddedWidth + b * w + q) * c
                                for ch in 0..<c { let v = g[ch] * src[ch]; dst[ch] += v; tap[ch] = v }
                            } else {
                                for ch in 0..<c { dst[ch] += g[ch] * src[ch] }
                            }
                        }
                    }
                }
            }
        }
    }
}
