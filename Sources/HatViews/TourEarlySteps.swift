// Tour steps 1-3: the patch embedding, the convolutional stages and how the carrier tokens are
// made (official TokenInitializer: a depthwise 3 x 3 convolution, then average pooling).
import HatRecording

extension TourSteps {
    static func patchEmbedding(_ t: TourFacts) -> TourStep {
        let r = t.rec, c = t.config
        var facts = ["input: 3 x \(r.inputHeight) x \(r.inputWidth) (RGB, normalised with the ImageNet mean and std)",
                     "conv 3x3 stride 2: 3 -> \(c.inDim) channels, BatchNorm, ReLU: \(c.inDim) x \(r.inputHeight / 2) x \(r.inputWidth / 2)",
                     "conv 3x3 stride 2: \(c.inDim) -> \(c.dim) channels, BatchNorm, ReLU: \(c.dim) x \(r.inputHeight / 4) x \(r.inputWidth / 4), one vector per 4 x 4 pixel patch"]
        var picture: ViewResult?
        if let s = r.convStages.first(where: { $0.level == 0 }) {
            if let (i, v) = energyPeak(s) {
                facts.append("stage 1's energy (L2 norm over the \(s.channels) channels of its output at one position) is largest at r\(i / s.width) c\(i % s.width): \(TourFacts.fmt(v))")
                picture = energyPicture(t, s, peak: i)
            }
        } else {
            facts.append("stage 1 was not recorded in this run")
        }
        return TourStep(
            kind: .patchEmbedding, title: "Patch embedding: pixels become a grid of feature vectors", facts: facts,
            sentences: [
                "Two 3 x 3 convolutions with stride 2 turn the image into a grid at 1/4 of its resolution: each position holds \(c.dim) numbers describing a 4 x 4 pixel patch and the 7 x 7 pixels the two convolutions see around it.",
                "Nothing later sees raw pixels.",
                "The colours show stage 1's energy at every position (the outlined cell is the largest).",
            ],
            explorer: [.reach(level: 0, view: .energy)], picture: picture)
    }

    static func convStages(_ t: TourFacts) -> TourStep {
        let r = t.rec, c = t.config
        var facts: [String] = []
        let conv = r.convStages.sorted { $0.level < $1.level }
        for s in conv {
            facts.append("stage \(s.number): \(TourFacts.plural(c.depths[s.level], "residual conv block")) (conv 3x3, BatchNorm, GELU, conv 3x3, BatchNorm, plus the block's input) at \(s.channels) x \(s.height) x \(s.width)")
        }
        for (a, b) in zip(conv, conv.dropFirst()) {
            facts.append("downsample: LayerNorm + conv 3x3 stride 2: \(a.channels) x \(a.height) x \(a.width) -> \(b.channels) x \(b.height) x \(b.width)")
        }
        if let last = conv.last, let next = t.firstStage {
            facts.append("downsample again: \(last.channels) x \(last.height) x \(last.width) -> \(next.channels) x \(next.height) x \(next.width) for stage \(next.number), the first attention stage")
        }
        var picture: ViewResult?
        if let s = conv.first(where: { $0.level == 1 }), let (i, v) = energyPeak(s) {
            facts.append("stage 2's energy (L2 norm over its \(s.channels) output channels) is largest at r\(i / s.width) c\(i % s.width): \(TourFacts.fmt(v))")
            picture = energyPicture(t, s, peak: i)
        }
        if conv.isEmpty { facts.append("the convolutional stages were not recorded in this run") }
        var sentences = [
            "At high resolution FasterViT uses plain convolutions: each output looks only at its 3 x 3 neighbourhood, which is cheap when there are thousands of positions.",
            "Between stages a strided convolution halves the grid and doubles the channels.",
        ]
        if let s = conv.first, let st = t.firstStage {
            let n = s.height * s.width
            sentences.append("Attention starts only in stage \(st.number), at \(st.height * st.width) tokens: over stage \(s.number)'s \(TourFacts.count(n)) positions, global attention would take \(TourFacts.count(n))^2 = \(TourFacts.count(n * n)) pairs per head.")
        }
        return TourStep(kind: .convStages, title: "Stages 1 and 2: convolutions, no attention", facts: facts,
                        sentences: sentences, explorer: [.reach(level: 1, view: .energy)], picture: picture)
    }

    static func carrierInit(_ t: TourFacts) -> TourStep {
        guard let st = t.hatStage else {
            return TourStep(kind: .carrierInit, title: "Carrier tokens: not in this model", applies: false,
                            facts: t.noCarrierFacts, sentences: [t.noCarrierSentence], picture: t.windowPicture(t.firstStage))
        }
        let g = st.geometry, s = st.stride
        let kH = st.poolKernelH, kW = st.poolKernelW, sH = st.poolStrideH, sW = st.poolStrideW
        func pair(_ a: Int, _ b: Int) -> String { "\(a) x \(b)" }
        func step(_ a: Int, _ b: Int) -> String { a == b ? "\(a)" : "\(a) x \(b)" }
        var facts = [t.stageShape(st)]
        facts.append("made by global_tokenizer: a depthwise 3 x 3 convolution of the stage input (pos_embed: one learned 3 x 3 filter per channel), then average pooling")
        facts.append("\(st.carrierCount) carrier tokens (\(st.carrierRows) x \(st.carrierCols) grid), pooled over \(pair(kH, kW)) token boxes every \(step(sH, sW)) tokens (\(pair(kH * s, kW * s)) px every \(step(sH * s, sW * s)) px)")
        facts.append("so each carrier depends on a \(pair(kH + 2, kW + 2)) token area (\(pair((kH + 2) * s, (kW + 2) * s)) px): its box and the one token around it the convolution reaches (less at the grid's edge)")
        facts.append("\(st.carriersPerWindow) carrier tokens per window (\(st.ctSize) x \(st.ctSize)), put in front of its \(st.windowSize * st.windowSize) tokens")
        facts.append("window 0 receives " + st.windowCarriers[0].map(g.carrierLabel).joined(separator: ", "))
        // Any-res quirk: with a non-square window grid the official ct_window swaps height and
        // width, so windows receive carriers pooled elsewhere. Say so with the real labels.
        let swapped = (0 ..< g.windowCount).first { Set(g.windowCarriers[$0]) != Set(g.pooledCarriers(window: $0)) }
        if let w = swapped {
            facts.append("official quirk (\(st.windowRows) x \(st.windowCols) windows, not square): window \(w) receives "
                         + g.windowCarriers[w].map(g.carrierLabel).joined(separator: ", ")
                         + " but pooled " + g.pooledCarriers(window: w).map(g.carrierLabel).joined(separator: ", "))
        }
        if st.isPadded {
            facts.append("the grid is zero-padded to \(st.paddedHeight) x \(st.paddedWidth) first; boxes may cover padding")
        }
        var picture = t.windowPicture(st, title: "carrier tokens")
        picture?.kind = .carrier
        return TourStep(
            kind: .carrierInit, title: "Carrier tokens: one learned summary per region", facts: facts,
            sentences: [
                "Before stage \(st.number)'s first block, a depthwise 3 x 3 convolution (learned weights, each channel on its own) runs over the token grid, and its result is average-pooled into \(st.carrierCount) carrier tokens (CTs).",
                "So a CT is a learned summary of one region of the image, not the plain mean of its box. The boxes (corners drawn) overlap because they are wider than their spacing.",
                "The CTs are made once per stage, from the stage input; every block then rewrites them (next steps). "
                    + (swapped == nil ? "Each window gets its own \(st.ctSize) x \(st.ctSize) CTs (window 0 and its boxes are highlighted)."
                        : "Each window gets \(st.ctSize) x \(st.ctSize) CTs, but here the official code hands some windows CTs pooled elsewhere (window 0 and the boxes it receives are highlighted)."),
            ],
            explorer: [.reach(level: st.level, view: .local),
                       .note("the local view outlines the pooling boxes of the query window's carriers")],
            picture: picture)
    }

    // MARK: - Helpers

    /// Index and value of the largest energy of a conv stage.
    static func energyPeak(_ s: ConvStageRecord) -> (Int, Float)? {
        guard s.width > 0, let i = ViewStats.argmax(s.energy) else { return nil }
        return (i, s.energy[i])
    }

    /// The energy view of a conv stage with position `peak` outlined.
    static func energyPicture(_ t: TourFacts, _ s: ConvStageRecord, peak i: Int) -> ViewResult? {
        var v = try? Views.compute(.energy, recording: t.rec, selection: Selection(level: s.level, block: 0, head: nil))
        v?.overlays.query = PixelRect(x0: (i % s.width) * s.stride, y0: (i / s.width) * s.stride,
                                      width: s.stride, height: s.stride)
        return v
    }
}
