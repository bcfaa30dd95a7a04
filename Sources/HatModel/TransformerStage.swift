// A transformer stage (official FasterViTLayer with HAT blocks, `levels.2` / `levels.3`), with the
// any-res semantics of faster_vit_any_res.py: pad right/bottom with zeros to a multiple of the
// window, initialise carrier tokens from the padded map, window partition, blocks, window reverse,
// crop, then the downsampler (levels 0-2).
import HatCore
import HatRecording

struct TransformerStage {
    let level: Int
    let dim: Int, heads: Int, window: Int
    /// Whether the loaded weights include the carrier-token parts (fixed at load time).
    let hierarchical: Bool
    let tokenizer: TokenInitializer?
    let blocks: [HATBlock]
    let downsample: Downsample?
    let propagation: Bool

    init(_ w: WeightReader, config: ModelConfig, level: Int) throws {
        self.level = level
        dim = config.stageDim(level)
        heads = config.heads[level]
        window = config.windowSize[level]
        let res = config.resolution
        let layout = ModelGeometry(config: config, inputHeight: res[0], inputWidth: res[1]).stages[level - 2]
        hierarchical = layout.hasCarriers
        if hierarchical, config.ctSize > window {
            throw ModelError.configuration("ct_size \(config.ctSize) is larger than the level-\(level) window \(window)")
        }
        tokenizer = hierarchical ? try TokenInitializer(w.child("global_tokenizer"), dim: dim) : nil
        let (d, h, win) = (dim, heads, window)
        blocks = try (0..<config.depths[level]).map { j in
            try HATBlock(w.child("blocks.\(j)"), config: config, dim: d, heads: h, window: win,
                         hierarchical: layout.hasCarriers, squareGrid: layout.squareCarrierGrid,
                         carrierSide: layout.carrierBiasSide)
        }
        downsample = level < 3 ? try Downsample(w.child("downsample"), dim: dim) : nil
        propagation = config.doPropagation
    }

    /// Why the loaded weights cannot run at layout `l`, or nil when they can. Carrier-token
    /// weights are simply unused where the stage fits one window (the official any-res model
    /// built for that size has no carrier parts and loads checkpoints non-strictly); the reverse
    /// (carrier tokens needed, weights absent) cannot run.
    func incompatibility(_ l: StageGeometry) -> String? {
        if l.hasCarriers && !hierarchical {
            return "level \(level) would use carrier tokens at this size (\(l.windowRows)x\(l.windowCols) windows), but the model was built without them"
        }
        if l.hasCarriers && l.squareCarrierGrid && blocks.first?.hatPositions == nil {
            return "level \(level) has a square window grid here, but the model was built without hat_pos_embed (non-square build)"
        }
        if l.hasCarriers, let p = blocks.lazy.compactMap({ $0.hatAttn?.positionBias.stored.problem(side: l.carrierBiasSide) }).first {
            return p
        }
        return nil
    }

    /// x [images, C, h, w] -> output [images, C', h', w'] (downsampled unless level 3).
    /// `recorder` may be nil; `plan` holds the interventions (nil = none).
    func forward(_ x: FloatBuffer, images: Int, height h: Int, width wd: Int, layout: StageGeometry,
                 recorder: AttentionRecorder?, plan: InterventionPlan?) -> (FloatBuffer, Int, Int) {
        let c = dim, w = window
        let hp = layout.paddedHeight, wp = layout.paddedWidth
        var padded = x
        if hp != h || wp != wd {
            padded = FloatBuffer(count: images * c * hp * wp, zeroed: false)   // [images, C, hp, wp]
            Windows.pad(x.pointer, channels: images * c, height: h, width: wd, toHeight: hp, width: wp, into: padded.pointer)
        }
        // [images * N, C], each image's in window-list order
        let ct = layout.hasCarriers ? tokenizer?.forward(padded.pointer, images: images, layout: layout) : nil
        let t = layout.tokensPerWindow, lead = layout.carriersPerWindow
        let tokens = FloatBuffer(count: images * layout.windowCount * t * c, zeroed: false)  // [images * windows, T, C]
        // Only the carrier rows start as zeros (the blocks fill them); partition writes every token row.
        for k in 0..<(images * layout.windowCount) { (tokens.pointer + k * t * c).update(repeating: 0, count: lead * c) }
        Windows.partition(padded.pointer, images: images, channels: c, height: hp, width: wp, window: w, lead: lead,
                          into: tokens.pointer)

        var hatBias: AttentionBias?
        let record = recorder?.beginStage(layout)
        if hierarchical && !layout.hasCarriers {
            recorder?.note("level \(level) is a single window at this input size: its carrier-token weights are unused "
                           + "(as in the official any-res model built for this size)")
        }
        for (j, block) in blocks.enumerated() {
            if layout.hasCarriers {
                // Each block has its own bias MLP; the table depends on this input's carrier grid.
                hatBias = block.carrierBias(side: layout.carrierBiasSide)
            }
            let last = j == blocks.count - 1
            let taps = record?.taps(block: j, propagate: last && propagation && layout.hasCarriers) ?? HATBlock.Taps()
            var edits: HATBlock.Edits?
            if let plan {
                let e = plan.edits(for: BlockID(level: level, block: j), windowsPerImage: layout.windowCount)
                edits = HATBlock.Edits(window: e.window, carrier: e.carrier, noPropagation: last ? plan.noPropagation[level] : nil)
            }
            block.forward(x: tokens, ct: ct, images: images, layout: layout, hatBias: hatBias,
                          propagate: last && propagation, taps: taps, edits: edits)
        }
        recorder?.endStage(record)

        let out = FloatBuffer(count: images * c * h * wd, zeroed: false)        // [images, C, h, w]
        Windows.reverse(tokens.pointer, images: images, channels: c, paddedHeight: hp, paddedWidth: wp, window: w,
                        lead: lead, height: h, width: wd, into: out.pointer)
        guard let downsample else { return (out, h, wd) }
        return downsample.forward(out, images: images, height: h, width: wd)
    }
}
