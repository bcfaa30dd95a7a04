// The guided tour's content: one step per part of the forward pass, each a pure function of the
// Recording (and the class names). A step carries real shapes and numbers from this run, a few
// plain sentences, the explorer keys that show the same thing, and the picture to highlight — a
// ViewResult computed by HatViews, so the tour draws exactly what the explorer and the PNG
// figures draw. Nothing here touches the terminal; TourTests check every step's text.
import Foundation
import HatRecording
import HatViews

/// The parts of FasterViT the tour walks through, in forward order.
public enum TourStepKind: String, CaseIterable, Sendable {
    case patchEmbedding, convStages, carrierInit, carrierAttention, windowAttention, propagation, lastStage, prediction,
         statistics
}

/// One screen of the tour.
public struct TourStep: Equatable, Sendable {
    public var kind: TourStepKind
    /// Short heading ("Carrier tokens: one summary per region").
    public var title: String
    /// False when this part does not exist in the loaded model (the text then says why).
    public var applies: Bool
    /// Shapes and numbers of this run, one short line each.
    public var facts: [String]
    /// The plain explanation.
    public var sentences: [String]
    /// Where to see it in the explorer.
    public var explorerKeys: String
    /// What the picture highlights; nil = the input image alone.
    public var picture: ViewResult?
    /// Per-head statistics drawn instead of the picture (the statistics step).
    public var statistics: HeadStatistics? = nil
}

public enum TourContent {
    /// Every step for `rec`, in order. `classNames` name the logits (empty = "class N").
    public static func steps(_ rec: Recording, classNames: [String] = []) -> [TourStep] {
        let t = Facts(rec)
        return [patchEmbedding(t), convStages(t), carrierInit(t), carrierAttention(t), windowAttention(t),
                propagation(t), lastStage(t), prediction(t, classNames), statistics(t)]
    }

    // MARK: - Steps

    static func patchEmbedding(_ t: Facts) -> TourStep {
        let r = t.rec, c = r.config
        var facts = ["input: 3 x \(r.inputHeight) x \(r.inputWidth) (RGB, ImageNet mean/std normalised)",
                     "conv 3x3 stride 2: 3 -> \(c.inDim) channels, BatchNorm, ReLU",
                     "conv 3x3 stride 2: \(c.inDim) -> \(c.dim) channels, BatchNorm, ReLU"]
        var picture: ViewResult?
        if let s = r.convStages.first(where: { $0.level == 0 }) {
            facts.append("output: \(s.channels) x \(s.height) x \(s.width): one position per \(s.stride) x \(s.stride) pixel patch")
            if let (i, v) = argmax(s.energy) {
                facts.append("strongest stage-1 feature (L2 over channels): \(fmt(v)) at r\(i / max(s.width, 1)) c\(i % max(s.width, 1))")
                picture = try? Views.compute(.energy, recording: r, selection: Selection(level: 0, block: 0, head: nil))
                picture?.overlays.query = PixelRect(x0: (i % s.width) * s.stride, y0: (i / s.width) * s.stride,
                                                    width: s.stride, height: s.stride)
            }
        } else {
            facts.append("stage 1 was not recorded in this run")
        }
        return TourStep(
            kind: .patchEmbedding, title: "Patch embedding: pixels become a grid of feature vectors", applies: true,
            facts: facts,
            sentences: [
                "Two small convolutions, each halving the size, turn the image into a grid at 1/4 of its resolution.",
                "Every position of that grid is a vector describing a 4 x 4 pixel patch and its surroundings; nothing later sees raw pixels.",
                "The colours show how strongly each patch responds after stage 1 (the outlined cell is the strongest).",
            ],
            explorerKeys: "explorer: s until stage 1, energy view", picture: picture)
    }

    static func convStages(_ t: Facts) -> TourStep {
        let r = t.rec, c = r.config
        var facts: [String] = []
        let conv = r.convStages.sorted { $0.level < $1.level }
        for s in conv {
            facts.append("stage \(s.level + 1): \(c.depths[s.level]) residual conv blocks (conv 3x3, BN, GELU, conv 3x3, BN) at \(s.channels) x \(s.height) x \(s.width)")
        }
        for (a, b) in zip(conv, conv.dropFirst()) {
            facts.append("downsample: LayerNorm + conv 3x3 stride 2: \(a.channels) x \(a.height) x \(a.width) -> \(b.channels) x \(b.height) x \(b.width)")
        }
        if !conv.isEmpty, let next = r.stages.first {
            facts.append("downsample again: -> \(next.channels) x \(next.height) x \(next.width) for stage \(next.level + 1), the first attention stage")
        }
        var picture: ViewResult?
        if let s = conv.first(where: { $0.level == 1 }), let (i, v) = argmax(s.energy) {
            facts.append("strongest stage-2 feature: \(fmt(v)) at r\(i / max(s.width, 1)) c\(i % max(s.width, 1))")
            picture = try? Views.compute(.energy, recording: r, selection: Selection(level: 1, block: 0, head: nil))
            picture?.overlays.query = PixelRect(x0: (i % s.width) * s.stride, y0: (i / s.width) * s.stride,
                                                width: s.stride, height: s.stride)
        }
        if conv.isEmpty { facts.append("the convolutional stages were not recorded in this run") }
        return TourStep(
            kind: .convStages, title: "Stages 1 and 2: convolutions, no attention", applies: true, facts: facts,
            sentences: [
                "At high resolution FasterViT uses plain convolutions: each output looks only at its 3 x 3 neighbourhood, which is cheap when there are thousands of positions.",
                "Between stages a strided convolution halves the grid and doubles the channels.",
                "Attention starts only in stage 3, where the grid is small enough for it.",
            ],
            explorerKeys: "explorer: s to stage 2, energy view", picture: picture)
    }

    static func carrierInit(_ t: Facts) -> TourStep {
        let r = t.rec
        guard let st = t.hatStage else {
            return notApplicable(.carrierInit, "Carrier tokens: not in this model", t.noCarrierFacts,
                                 "This variant has no carrier tokens: every window attends only to itself (or a stage is a single window, which is already global).",
                                 picture: t.windowPicture(t.firstStage))
        }
        let w = st.windowSize, cc = st.carriersPerWindow
        var facts = [t.stageShape(st)]
        if let k = t.pooling(st) {
            facts.append("\(st.carriers.count) carrier tokens (\(st.carrierRows) x \(st.carrierCols) grid) from \(k.kernel) x \(k.kernel) pooling boxes every \(k.step) tokens (\(k.kernel * st.stride) x \(k.kernel * st.stride) px every \(k.step * st.stride) px)")
        }
        facts.append("\(cc) carrier tokens per window (\(st.ctSize) x \(st.ctSize)), put in front of its \(w * w) tokens")
        if let first = st.windowCarriers.first {
            facts.append("window 0 receives " + first.map(st.geometry.carrierLabel).joined(separator: ", "))
        }
        // Any-res quirk: with a non-square window grid the official ct_window swaps height and
        // width, so windows receive carriers pooled elsewhere. Say so with the real labels.
        let g = st.geometry
        let swapped = (0 ..< g.windowCount).first { Set(g.windowCarriers[$0]) != Set(g.pooledCarriers(window: $0)) }
        if let w = swapped {
            let pooled = g.pooledCarriers(window: w).map(g.carrierLabel)
            facts.append("official quirk (\(st.windowRows) x \(st.windowCols) windows, not square): window \(w) receives "
                         + g.windowCarriers[w].map(g.carrierLabel).joined(separator: ", ")
                         + " but pooled " + pooled.joined(separator: ", "))
        }
        if st.isPadded {
            facts.append("the grid is zero-padded to \(st.paddedHeight) x \(st.paddedWidth) first; boxes may cover padding")
        }
        var o = Overlays()
        o.windowRects = st.windowRects
        o.carrierBoxes = st.carriers.map(\.box)
        if let first = st.windowCarriers.first {
            o.selectedWindow = g.windowRect(0)
            o.highlightedBoxes = first.map { st.carriers[$0].box }
        }
        let picture = ViewResult(kind: .carrier, title: "carrier tokens | \(r.config.name) | stage \(st.level + 1)",
                                 explanation: [], field: nil, matrix: nil, overlays: o, rangeMin: 0, rangeMax: 1,
                                 scaleLabel: "", numbers: [])
        return TourStep(
            kind: .carrierInit, title: "Carrier tokens: one summary per region", applies: true, facts: facts,
            sentences: [
                "Before stage \(st.level + 1)'s attention, the token grid is average-pooled into a few carrier tokens (CTs), computed once from the stage input.",
                "Each CT summarises one box of the image (dashed outlines; the boxes overlap because they are wider than their spacing).",
                swapped == nil ? "Every window gets its own \(st.ctSize) x \(st.ctSize) CTs (window 0 and its boxes are highlighted)."
                    : "Every window gets \(st.ctSize) x \(st.ctSize) CTs, but here the official code hands some windows CTs pooled from elsewhere (window 0 and the boxes it receives are highlighted).",
            ],
            explorerKeys: "explorer: s to stage \(st.level + 1); the dashed boxes are drawn in every view", picture: picture)
    }

    static func carrierAttention(_ t: Facts) -> TourStep {
        guard let st = t.hatStage else {
            return notApplicable(.carrierAttention, "Carrier attention: not in this model", t.noCarrierFacts,
                                 "Without carrier tokens there is no global attention between regions in the windowed stages; information crosses windows only through the downsampling to the next stage.",
                                 picture: nil)
        }
        let n = st.carriers.count
        guard let b = st.blocks.firstIndex(where: { $0.carrier != nil }), let maps = st.blocks[b].carrier else {
            return notApplicable(.carrierAttention, "Carrier attention: not recorded", [t.stageShape(st)],
                                 "The carrier attention of stage \(st.level + 1) was not kept in this recording.", picture: nil)
        }
        let mean = headMean(maps, group: 0)  // (N, N)
        var best = (q: 0, k: 0, v: -Float.infinity)
        for q in 0 ..< n { for k in 0 ..< n where mean[q * n + k] > best.v { best = (q, k, mean[q * n + k]) } }
        let facts = [
            t.stageShape(st),
            "carrier attention: \(n) x \(n) per head, \(maps.heads) heads, all \(n) carriers at once (global)",
            "block \(b), mean of heads: strongest link \(st.geometry.carrierLabel(best.q)) -> \(st.geometry.carrierLabel(best.k)) = \(fmt(best.v))",
            "cost: \(n)^2 = \(n * n) pairs, against (\(st.height * st.width))^2 = \(st.height * st.width * st.height * st.width) for full attention over all tokens",
        ]
        let picture = try? Views.compute(.carrier, recording: t.rec,
                                         selection: Selection(level: st.level, block: b, head: nil, carrier: best.q))
        return TourStep(
            kind: .carrierAttention, title: "Carrier attention: the regions talk to each other", applies: true,
            facts: facts,
            sentences: [
                "In every block of stage \(st.level + 1) the carrier tokens first attend to each other, all of them at once: this is the only global step, and it is cheap because there are few carriers.",
                "This is how information crosses window borders. The picture shows what carrier \(st.geometry.carrierLabel(best.q)) (bright box) takes from each region.",
            ],
            explorerKeys: "explorer: s to stage \(st.level + 1), Tab to the carrier view, t/T to pick a carrier",
            picture: picture)
    }

    static func windowAttention(_ t: Facts) -> TourStep {
        guard let st = t.firstStage else {
            return notApplicable(.windowAttention, "Window attention: not recorded", [], "This recording has no transformer stage.", picture: nil)
        }
        let w = st.windowSize, cc = st.carriersPerWindow, T = st.tokensPerWindow
        var facts = [t.stageShape(st)]
        facts.append(cc > 0
            ? "each window: \(cc) carriers in front + \(w * w) tokens = \(T) tokens; attention \(T) x \(T) per head, \(st.heads) heads, \(st.windowCount) windows"
            : "each window: \(w * w) tokens, no carriers; attention \(T) x \(T) per head, \(st.heads) heads, \(st.windowCount) window(s)")
        let sel = t.querySelection(st)
        var picture: ViewResult?
        if let b = sel?.block, let maps = st.blocks[b].window, let s = sel {
            let win = st.geometry.window(row: s.queryRow, col: s.queryCol)
            let r = headMeanRow(maps, group: win, query: st.geometry.attentionRow(row: s.queryRow, col: s.queryCol))
            let (k, v) = argmax(r) ?? (0, 0)
            facts.append("query r\(s.queryRow) c\(s.queryCol) (window \(win)), block \(b), mean of heads: top key \(st.geometry.keyName(window: win, key: k)) = \(fmt(v))")
            if cc > 0 { facts.append("its \(cc) carriers receive \(pct(r[0 ..< cc].reduce(0, +))) of its attention") }
            picture = try? Views.compute(.local, recording: t.rec, selection: s)
        } else {
            facts.append("no window attention of stage \(st.level + 1) was recorded")
        }
        let carrierSentence = cc > 0
            ? "Each window's \(cc) carrier tokens sit in front of its tokens, so every token also sees a summary of the whole image (the CTs just attended globally)."
            : "This stage has no carrier tokens: a token sees only its own window in one block."
        return TourStep(
            kind: .windowAttention, title: cc > 0 ? "Window attention: local, with the carriers in front"
                : (st.windowCount == 1 ? "Stage \(st.level + 1) attention: one window covers the grid" : "Window attention: local only"),
            applies: true, facts: facts,
            sentences: [
                (cc > 0 ? "Then each" : "Each") + " \(w) x \(w) window runs ordinary self-attention over its own tokens: every token weighs every other token of the window."
                    + (st.windowCount == 1 ? " Here one window covers the whole grid, so this attention is already global." : ""),
                carrierSentence,
                "The picture shows one query token (outlined) and where its attention goes.",
            ],
            explorerKeys: "explorer: local view; arrows move the query, n/N heads, b/B blocks, w/W windows",
            picture: picture)
    }

    static func propagation(_ t: Facts) -> TourStep {
        let r = t.rec
        guard let st = t.hatStage else {
            return notApplicable(.propagation, "Propagation: not in this model", t.noCarrierFacts,
                                 "With no carrier tokens there is nothing to hand back to the windows.", picture: nil)
        }
        let last = st.blocks.count - 1
        guard let prop = st.propagation, st.channels > 0, prop.count == st.paddedHeight * st.paddedWidth * st.channels else {
            let why = r.config.doPropagation ? "the propagation term was not recorded in this run"
                : "\(r.config.name) has propagation off (do_propagation = False): after block \(last) the carrier tokens are dropped"
            return notApplicable(.propagation, "Propagation: off in this model", [t.stageShape(st), why],
                                 "The windows have already read the carriers through window attention in every block; this model does not add them back at the end.",
                                 picture: t.windowPicture(st))
        }
        let cells = st.paddedHeight * st.paddedWidth
        var norms = [Float](repeating: 0, count: cells)  // (paddedHeight * paddedWidth)
        for i in 0 ..< cells {
            var s: Float = 0
            for c in 0 ..< st.channels { let v = prop[i * st.channels + c]; s += v * v }
            norms[i] = s.squareRoot()
        }
        let (i, v) = argmax(norms) ?? (0, 0)
        let facts = [
            t.stageShape(st),
            "last block (\(last)): each window's \(st.ctSize) x \(st.ctSize) carriers are upsampled (nearest) to \(st.windowSize) x \(st.windowSize) and added to its tokens, scaled by gamma1",
            "added term: \(st.channels) channels per token; largest size (L2) \(fmt(v)) at r\(i / st.paddedWidth) c\(i % st.paddedWidth)",
        ]
        let picture = try? Views.compute(.propagation, recording: r, selection: Selection(level: st.level, block: last, head: nil))
        return TourStep(
            kind: .propagation, title: "Propagation: the carriers flow back into the windows", applies: true,
            facts: facts,
            sentences: [
                "At the end of stage \(st.level + 1), the carrier tokens, which have gathered global context, are spread back over their windows and added to the tokens.",
                "Each window shows \(st.ctSize) x \(st.ctSize) flat patches, one per carrier.",
            ],
            explorerKeys: "explorer: s to stage \(st.level + 1), Tab to the propagation view", picture: picture)
    }

    static func lastStage(_ t: Facts) -> TourStep {
        guard let st = t.rec.stages.max(by: { $0.level < $1.level }) else {
            return notApplicable(.lastStage, "Last stage: not recorded", [], "This recording has no transformer stage.", picture: nil)
        }
        var facts: [String] = []
        if let prev = t.rec.stages.first(where: { $0.level == st.level - 1 }) {
            facts.append("downsample: \(prev.channels) x \(prev.height) x \(prev.width) -> \(st.channels) x \(st.height) x \(st.width)")
        }
        facts.append(t.stageShape(st))
        let global = st.windowCount == 1
        facts.append(global
            ? "one window covers all \(st.height * st.width) tokens: plain global attention, \(st.tokensPerWindow) x \(st.tokensPerWindow) per head, \(st.heads) heads"
            : "\(st.windowCount) windows of \(st.windowSize * st.windowSize) tokens" + (st.hasCarriers ? " with \(st.carriers.count) carriers" : ", no carriers"))
        var picture: ViewResult?
        if let s = t.querySelection(st), let maps = st.blocks[s.block].window {
            let win = st.geometry.window(row: s.queryRow, col: s.queryCol)
            let row = headMeanRow(maps, group: win, query: st.geometry.attentionRow(row: s.queryRow, col: s.queryCol))
            let (k, v) = argmax(row) ?? (0, 0)
            facts.append("query r\(s.queryRow) c\(s.queryCol), block \(s.block), mean of heads: top key \(st.geometry.keyName(window: win, key: k)) = \(fmt(v))")
            picture = try? Views.compute(.local, recording: t.rec, selection: s)
        }
        return TourStep(
            kind: .lastStage, title: "Stage \(st.level + 1): " + (global ? "one window, global attention" : "windowed attention"),
            applies: true, facts: facts,
            sentences: global
                ? ["After one more downsampling the grid is so small that a single window covers it: every token attends to every other, no carriers needed.",
                   "The picture shows one query's attention over the whole image."]
                : ["This stage is still cut into windows at this input size; each window attends within itself.",
                   "The picture shows one query's attention inside its window."],
            explorerKeys: "explorer: s to stage \(st.level + 1), local view", picture: picture)
    }

    static func prediction(_ t: Facts, _ names: [String]) -> TourStep {
        let r = t.rec
        let ch = r.stages.max(by: { $0.level < $1.level })?.channels ?? r.config.stageDim(3)
        var facts = ["BatchNorm, average over all tokens, linear head: \(ch) -> \(r.logits.count) classes"]
        let top = r.topK(5)
        for (i, p) in top.enumerated() {
            let name = p.index < names.count ? names[p.index] : "class \(p.index)"
            facts.append("\(i + 1). \(name): \(pct(p.probability))")
        }
        let first = top.first.map { $0.index < names.count ? names[$0.index] : "class \($0.index)" } ?? "nothing"
        return TourStep(
            kind: .prediction, title: "Prediction: \(first)", applies: true, facts: facts,
            sentences: [
                "The last stage's tokens are averaged into one vector, and a linear layer gives one score per class; softmax turns the scores into the probabilities above.",
                "Go back (Backspace) to see which attention led here, or leave the tour and explore every block and head yourself.",
            ],
            explorerKeys: "explorer: the Prediction panel on the right", picture: nil)
    }

    static func statistics(_ t: Facts) -> TourStep {
        let stats = HeadStatistics.compute(t.rec)
        var facts: [String] = []
        for st in stats.stages {
            for kind in AttentionKind.allCases {
                let rows = stats.series(kind).filter { $0.level == st.level }
                guard let lo = rows.min(by: { $0.meanDistance < $1.meanDistance }),
                      let hi = rows.max(by: { $0.meanDistance < $1.meanDistance }) else { continue }
                let blocks = Set(rows.map(\.block)).count
                var line = "stage \(st.level + 1) \(kind.rawValue) attention: mean distance \(px(lo.meanDistance))-\(px(hi.meanDistance)) px over \(blocks) block(s) x \(st.heads) heads"
                let shares = rows.compactMap(\.carrierShare)
                if let a = shares.min(), let b = shares.max() { line += ", carrier share \(pct(Float(a)))-\(pct(Float(b)))" }
                facts.append(line)
            }
        }
        let all = stats.window + stats.carrier
        if let lo = all.min(by: { $0.meanDistance < $1.meanDistance }), let hi = all.max(by: { $0.meanDistance < $1.meanDistance }) {
            facts.append("most local head: stage \(lo.level + 1) block \(lo.block) head \(lo.head) (\(lo.attention.rawValue), \(px(lo.meanDistance)) px)")
            facts.append("most global head: stage \(hi.level + 1) block \(hi.block) head \(hi.head) (\(hi.attention.rawValue), \(px(hi.meanDistance)) px)")
        }
        if !stats.missing.isEmpty { facts.append("\(stats.missing.count) block(s) not recorded in this run") }
        return TourStep(
            kind: .statistics, title: "Every head at once: how far each one looks", applies: !all.isEmpty, facts: facts,
            sentences: [
                "Each dot is one head of one block: how far, in input pixels, its queries look on average (attention-weighted distance to the keys; a carrier token counts at the centre of its pooling box).",
                "Low dots are local heads, high dots global ones; carrier attention (orange) spans the whole image, window attention (blue) stays inside 7 x 7 windows until the last stage.",
                "`hatscope stats --images DIR` averages these numbers over many images and writes CSV, JSON and PNG charts.",
            ],
            explorerKeys: "", picture: nil, statistics: stats)
    }

    static func px(_ v: Double) -> String { String(format: "%.1f", v) }

    // MARK: - Helpers

    static func notApplicable(_ kind: TourStepKind, _ title: String, _ facts: [String], _ sentence: String,
                              picture: ViewResult?) -> TourStep {
        TourStep(kind: kind, title: title, applies: false, facts: facts,
                 sentences: ["Does not apply to this model. " + sentence], explorerKeys: "", picture: picture)
    }

    static func headMean(_ m: AttentionMaps, group g: Int) -> [Float] {
        var out = [Float](repeating: 0, count: m.queries * m.keys)  // (queries, keys)
        for h in 0 ..< m.heads {
            let o = m.rowOffset(g, h, 0)
            for i in 0 ..< out.count { out[i] += m.probs[o + i] }
        }
        return out.map { $0 / Float(max(m.heads, 1)) }
    }

    static func headMeanRow(_ m: AttentionMaps, group g: Int, query q: Int) -> [Float] {
        var out = [Float](repeating: 0, count: m.keys)  // (keys)
        for h in 0 ..< m.heads {
            let o = m.rowOffset(g, h, q)
            for k in 0 ..< m.keys { out[k] += m.probs[o + k] }
        }
        return out.map { $0 / Float(max(m.heads, 1)) }
    }

    /// Index and value of the largest finite entry.
    static func argmax(_ v: [Float]) -> (Int, Float)? {
        var best: (Int, Float)?
        for (i, x) in v.enumerated() where x.isFinite {
            if let b = best, b.1 >= x { continue }
            best = (i, x)
        }
        return best
    }

    static func fmt(_ v: Float) -> String {
        guard v.isFinite else { return "n/a" }
        if v != 0 && abs(v) < 0.001 { return String(format: "%.2e", Double(v)) }
        return String(format: abs(v) >= 100 ? "%.1f" : "%.3f", Double(v))
    }

    /// "7.5%"; shares below 0.1% keep two significant digits ("0.0031%") instead of "0.0%".
    static func pct(_ v: Float) -> String {
        let p = Double(v * 100)
        return p != 0 && abs(p) < 0.1 ? String(format: "%.2g%%", p) : String(format: "%.1f%%", p)
    }
}
