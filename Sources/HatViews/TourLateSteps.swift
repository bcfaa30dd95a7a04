// Tour steps 8-10 and 12: propagation back into the windows, the last stage, the prediction, and
// every head at once (the per-head statistics, with a closing sentence made from this run's
// numbers). Step 11, the carrier cut, is in TourInterventionSteps.swift.
import HatRecording

extension TourSteps {
    static func propagation(_ t: TourFacts) -> TourStep {
        guard let st = t.hatStage else {
            return TourStep(kind: .propagation, title: "Propagation: not in this model", applies: false,
                            facts: t.noCarrierFacts, sentences: [t.noCarrierSentence + " With no carriers there is nothing to hand back to the windows."])
        }
        let last = st.blocks.count - 1
        guard let norms = try? PropagationView.norms(t.rec, st) else {
            let why = t.config.doPropagation ? "the propagation term was not recorded in this run"
                : "\(t.name) has propagation off (do_propagation = False): after block \(last) the carrier tokens are dropped"
            return TourStep(kind: .propagation, title: t.config.doPropagation ? "Propagation: not recorded" : "Propagation: off in this model",
                            applies: false,
                            facts: [t.stageShape(st), why],
                            sentences: ["Does not apply to \(t.name). Its windows read the carriers through window attention in every block; it does not add them back at the end of the stage."],
                            picture: t.windowPicture(st))
        }
        let i = ViewStats.argmax(norms) ?? 0
        let facts = [
            t.stageShape(st),
            "last block (\(last)): each window's \(st.ctSize) x \(st.ctSize) carriers are upsampled (nearest) to \(st.windowSize) x \(st.windowSize) and added to its tokens: x += gamma1 * upsample(ct)",
            "gamma1 is the carrier attention's layer scale, used again here; " + t.gammaFact,
            "size of the added term at a token: the L2 norm over its \(st.channels) channels; largest \(TourFacts.fmt(norms[i])) at r\(i / st.paddedWidth) c\(i % st.paddedWidth)",
        ]
        let picture = try? Views.compute(.propagation, recording: t.rec, selection: Selection(level: st.level, block: last, head: nil))
        return TourStep(
            kind: .propagation, title: "Propagation: the carriers flow back into the windows", facts: facts,
            sentences: [
                "At the end of stage \(st.number), the carrier tokens, which have gathered global context block after block, are spread back over their windows and added to the tokens.",
                "Each window shows \(st.ctSize) x \(st.ctSize) flat patches, one per carrier.",
            ],
            explorer: [.reach(level: st.level, view: .propagation)], picture: picture)
    }

    static func lastStage(_ t: TourFacts) -> TourStep {
        guard let st = t.stages.last else {
            return TourStep(kind: .lastStage, title: "Last stage: not recorded", applies: false, facts: [],
                            sentences: ["This recording has no transformer stage."])
        }
        var facts: [String] = []
        if let prev = t.stages.first(where: { $0.level == st.level - 1 }) {
            facts.append("downsample: \(prev.channels) x \(prev.height) x \(prev.width) -> \(st.channels) x \(st.height) x \(st.width)")
        }
        facts.append(t.stageShape(st))
        let global = st.windowCount == 1
        facts.append(global
            ? "one window covers all \(st.height * st.width) tokens: plain global attention, \(st.tokensPerWindow) x \(st.tokensPerWindow) per head, \(st.heads) heads, \(TourFacts.plural(st.depth, "block"))"
            : "\(st.windowCount) windows of \(st.windowSize * st.windowSize) tokens" + (st.hasCarriers ? " with \(st.carrierCount) carriers" : ", no carriers"))
        var picture: ViewResult?
        if let s = t.querySelection(st), let maps = st.blocks[s.block].window {
            let g = st.geometry
            let win = g.window(row: s.queryRow, col: s.queryCol)
            let row = ViewStats.row(maps, group: win, head: nil, query: g.attentionRow(row: s.queryRow, col: s.queryCol))
            if let k = ViewStats.argmax(row) {
                facts.append("block \(s.block), query token r\(s.queryRow) c\(s.queryCol): its largest attention probability (mean of the \(maps.heads) heads) goes to \(g.keyName(window: win, key: k)): \(TourFacts.fmt(row[k]))")
            }
            picture = try? Views.compute(.local, recording: t.rec, selection: s)
            picture?.matrix = nil
        }
        return TourStep(
            kind: .lastStage, title: "Stage \(st.number): " + (global ? "one window, global attention" : "windowed attention"),
            facts: facts,
            sentences: global
                ? ["After one more downsampling the grid is so small that a single window covers it: every token attends to every other, no carriers needed.",
                   "The picture shows one query's attention over the whole image."]
                : ["This stage is still cut into windows at this input size; each window attends within itself"
                    + (st.hasCarriers ? ", with its carriers in front." : "."),
                   "The picture shows one query's attention inside its window."],
            explorer: [.reach(level: st.level, view: .local)], picture: picture)
    }

    static func prediction(_ t: TourFacts) -> TourStep {
        let r = t.rec
        let last = t.stages.last
        let ch = last?.channels ?? t.config.stageDim(3)
        let tokens = last.map { "all \($0.height * $0.width) tokens" } ?? "all tokens"
        var facts = ["BatchNorm, the average over \(tokens), then a linear head: \(ch) -> \(r.logits.count) classes",
                     "top \(min(5, r.logits.count)) (softmax of the class scores: probabilities that sum to 1 over all \(r.logits.count) classes):"]
        let top = r.topK(5)
        for (i, p) in top.enumerated() { facts.append("\(i + 1). \(t.className(p.index)): \(TourFacts.pct(p.probability))") }
        let first = top.first.map { t.className($0.index) } ?? "nothing"
        var explorer: [ExplorerHint] = [.note("the Prediction panel on the right lists the top \(min(5, r.logits.count)); after a change it shows before -> after"),
                                        .use([.ablateHead], "switch the current head off (again: on); the model runs again"),
                                        .use([.paintOcclusion], "paint occlusions over the image (the brush covers tokens with the mean colour)")]
        if t.hatStage != nil { explorer.append(.use([.cycleCarrierCut], "cut this stage's carriers, one way after another")) }
        return TourStep(
            kind: .prediction, title: "Prediction: \(first)", facts: facts,
            sentences: [
                "The last stage's tokens are normalised, averaged into one vector, and a linear layer gives one score per class; softmax turns the scores into the probabilities above.",
                "The attention maps of this tour show where information can flow in this run, not which of it the prediction depends on. That takes an intervention: change a part (\(t.hatStage == nil ? "a head, part of the image" : "a head, part of the image, the carriers")), run the model again and compare the prediction. The explorer does it live; every command that runs the model takes the same changes as options (--ablate-head, --occlude, --occlude-box\(t.hatStage == nil ? "" : ", --cut-carriers, --cut-global, --no-propagation")).",
            ],
            explorer: explorer)
    }

    static func statistics(_ t: TourFacts) -> TourStep {
        let stats = HeadStatistics.compute(t.rec)
        var facts: [String] = []
        func span(_ v: [Double]) -> String {
            guard let lo = v.min(), let hi = v.max() else { return "n/a" }
            return TourFacts.px(lo) == TourFacts.px(hi) ? "\(TourFacts.px(lo)) px" : "\(TourFacts.px(lo))-\(TourFacts.px(hi)) px"
        }
        for st in stats.stages {
            for kind in AttentionKind.allCases {
                let rows = stats.series(kind).filter { $0.level == st.level }
                guard !rows.isEmpty else { continue }
                let blocks = Set(rows.map(\.block)).count
                let d = span(rows.map(\.meanDistance))
                var line = "stage \(st.level + 1) \(kind.rawValue) attention: mean distance \(d) over \(TourFacts.plural(blocks, "block")) x \(st.heads) heads"
                let shares = rows.compactMap(\.carrierShare)
                if let a = shares.min(), let b = shares.max() { line += ", carrier share \(TourFacts.pct(Float(a)))-\(TourFacts.pct(Float(b)))" }
                facts.append(line)
            }
        }
        let all = stats.window + stats.carrier
        if let lo = all.min(by: { $0.meanDistance < $1.meanDistance }), let hi = all.max(by: { $0.meanDistance < $1.meanDistance }) {
            facts.append("most local head (smallest mean distance): stage \(lo.level + 1) block \(lo.block) head \(lo.head), \(lo.attention.rawValue) attention, \(TourFacts.px(lo.meanDistance)) px")
            facts.append("most global head (largest): stage \(hi.level + 1) block \(hi.block) head \(hi.head), \(hi.attention.rawValue) attention, \(TourFacts.px(hi.meanDistance)) px")
        }
        if !stats.missing.isEmpty { facts.append("\(TourFacts.plural(stats.missing.count, "map")) not recorded in this run") }
        facts.append("mean distance: for each query, the sum over its keys of attention probability x distance between the query's and the key's centres, in input pixels; averaged over the queries (" + (stats.carrier.isEmpty ? "the real tokens of every window)" : "a window's real tokens, or all carriers)"))
        if !stats.carrier.isEmpty {
            let cc = t.hatStage?.carriersPerWindow ?? 0
            facts.append("carrier share: for each window token, the attention it gives its window's \(cc) carrier tokens together; averaged over the tokens")
        }
        var sentences = [
            "Each dot is one head of one block at its mean distance"
                + (stats.carrier.isEmpty ? "; all attention here is window attention (one colour)." : "; window and carrier attention in two colours (see the legend)."),
        ]
        // What bounds the distances, from the geometry.
        var bounds: [String] = []
        for st in t.stages {
            let side = st.windowSize * st.stride
            bounds.append(st.windowCount == 1
                ? "stage \(st.number) is one \(st.windowSize) x \(st.windowSize) window over the whole \(st.height * st.stride) x \(st.width * st.stride) px grid"
                : "a stage-\(st.number) window is \(st.windowSize) x \(st.windowSize) tokens, \(side) x \(side) px, so its tokens are at most \(TourFacts.px(Double(side - st.stride) * 2.0.squareRoot())) px apart")
        }
        if !bounds.isEmpty { sentences.append("For scale: " + bounds.joined(separator: "; ") + ".") }
        if t.hatStage != nil {
            sentences.append("A carrier counts at the centre of its pooling box. That hides the global content it carries: a token reading its own window's carriers scores as local even when they bring news from the whole image.")
        }
        sentences.append("`hatscope stats --images DIR` averages these numbers over many images and writes CSV, JSON and PNG charts.")
        return TourStep(kind: .statistics, title: "Every head at once: how far each one looks", applies: !all.isEmpty,
                        facts: facts, sentences: sentences, statistics: stats)
    }
}
