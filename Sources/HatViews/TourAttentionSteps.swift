// Tour steps 4-6: carrier attention (with its position embedding, MLP and layer scales), window
// attention with the carriers in front (and as queries), and one HAT block in the exact order of
// the official HAT.forward, on the loaded model's shapes.
import HatRecording

extension TourSteps {
    static func carrierAttention(_ t: TourFacts) -> TourStep {
        guard let st = t.hatStage else {
            return TourStep(kind: .carrierAttention, title: "Carrier attention: not in this model", applies: false,
                            facts: t.noCarrierFacts, sentences: [t.noCarrierSentence])
        }
        let n = st.carrierCount, g = st.geometry, hidden = Int(Float(st.channels) * t.config.mlpRatio)
        var facts = [
            t.stageShape(st),
            "carrier attention: all \(n) carriers attend to each other, \(n) x \(n) per head, \(st.heads) heads (global: any region to any region)",
            st.squareCarrierGrid
                ? "before it, hat_pos_embed adds to each carrier a learned vector: an MLP (2 -> 512 -> \(st.channels)) of its position in the \(st.carrierRows) x \(st.carrierCols) carrier grid"
                : "hat_pos_embed is skipped here: an official quirk when the window grid (\(st.windowRows) x \(st.windowCols)) is not square",
            "ct += gamma1 * hat_attn(hat_norm1(ct)), then the carrier MLP: ct += gamma2 * hat_mlp(hat_norm2(ct)), \(st.channels) -> \(hidden) -> \(st.channels) channels with GELU",
            t.gammaFact,
        ]
        var picture: ViewResult?
        var shown: Int?  // the carrier whose attention the picture shows
        if let b = st.blocks.firstIndex(where: { $0.carrier != nil }), let maps = st.blocks[b].carrier {
            let mean = ViewStats.matrix(maps, group: 0, head: nil)  // (N, N)
            var best = (q: 0, k: 0, v: -Float.infinity)
            for q in 0 ..< n { for k in 0 ..< n where k != q && mean[q * n + k] > best.v { best = (q, k, mean[q * n + k]) } }
            if best.v.isFinite {
                facts.append("block \(b): the strongest link between two carriers is \(g.carrierLabel(best.q)) -> \(g.carrierLabel(best.k)), attention probability \(TourFacts.fmt(best.v)) (the share of \(g.carrierLabel(best.q))'s attention on \(g.carrierLabel(best.k)), mean of the \(maps.heads) heads)")
            }
            shown = best.v.isFinite ? best.q : 0
            picture = try? Views.compute(.carrier, recording: t.rec,
                                         selection: Selection(level: st.level, block: b, head: nil, carrier: shown ?? 0))
            picture?.matrix = nil
        } else {
            facts.append("the carrier attention of stage \(st.number) was not recorded in this run")
        }
        facts.append(t.pairsFact(st))
        return TourStep(
            kind: .carrierAttention, title: "Carrier attention: the regions talk to each other", facts: facts,
            sentences: [
                "In every block of stage \(st.number) the carrier tokens first attend to each other, all \(n) at once: the only attention of the block that spans the whole image, and cheap because there are few carriers.",
                "Carrier attention alone does not move information between the windows' tokens: the window attention that follows both writes into the carriers and reads from them (next steps).",
                shown.map { "The picture: what carrier \(g.carrierLabel($0)) (bright box) takes from each carrier, painted over the region that carrier summarises." }
                    ?? "There is no picture: the carrier attention was not recorded.",
            ],
            explorer: [.reach(level: st.level, view: .carrier, "with the whole \(n) x \(n) matrix beside the picture"),
                       .use([.nextCarrier, .previousCarrier], "pick the carrier whose attention is shown"),
                       .use([.nextBlock, .previousBlock], "other blocks"),
                       .use([.nextHead, .previousHead], "one head, or the mean of heads")],
            picture: picture)
    }

    static func windowAttention(_ t: TourFacts) -> TourStep {
        guard let st = t.firstStage else {
            return TourStep(kind: .windowAttention, title: "Window attention: not recorded", applies: false, facts: [],
                            sentences: ["This recording has no transformer stage."])
        }
        let w = st.windowSize, cc = st.carriersPerWindow, T = st.tokensPerWindow, g = st.geometry
        var facts = [t.stageShape(st)]
        facts.append(cc > 0
            ? "each window: \(cc) carriers in front + \(w * w) tokens = \(T) tokens; attention \(T) x \(T) per head, \(st.heads) heads, \(st.windowCount) windows"
            : "each window: \(w * w) tokens, no carriers; attention \(T) x \(T) per head, \(st.heads) heads, \(TourFacts.plural(st.windowCount, "window"))")
        if cc > 0 {
            facts.append("rows 0-\(cc - 1) of each matrix are the carriers as queries: window attention rewrites every carrier from its window's tokens (and carriers), and the rewritten carriers go on to the next block")
        }
        var picture: ViewResult?
        if let s = t.querySelection(st), let maps = st.blocks[s.block].window {
            let win = g.window(row: s.queryRow, col: s.queryCol)
            let row = ViewStats.row(maps, group: win, head: nil, query: g.attentionRow(row: s.queryRow, col: s.queryCol))
            if let k = ViewStats.argmax(row) {
                facts.append("block \(s.block), query token r\(s.queryRow) c\(s.queryCol) (window \(win)): its largest attention probability (mean of the \(maps.heads) heads) goes to \(g.keyName(window: win, key: k)): \(TourFacts.fmt(row[k]))")
            }
            if cc > 0 {
                facts.append("its \(cc) carriers together receive \(TourFacts.pct(row[0 ..< cc].reduce(0, +))) of its attention (carrier share)")
                let carrierRow = ViewStats.row(maps, group: win, head: nil, query: 0)
                let toTokens = carrierRow[cc...].reduce(0, +)
                facts.append("carrier \(g.carrierLabel(st.windowCarriers[win][0])) (slot 0 of window \(win)) as a query gives \(TourFacts.pct(toTokens)) of its attention to the window's \(w * w) tokens")
            }
            picture = try? Views.compute(.local, recording: t.rec, selection: s)
            picture?.matrix = nil
        } else {
            facts.append("no window attention of stage \(st.number) was recorded")
        }
        var sentences: [String]
        if cc > 0 {
            sentences = [
                "Then each \(w) x \(w) window runs ordinary self-attention over \(T) tokens: its \(cc) carriers, which just attended globally, placed in front of its \(w * w) tokens.",
                "So a token reads a summary of the whole image in the same step in which it looks at its neighbours; and the carriers, as queries, read the window's tokens: what they gather goes on to other windows in the next block.",
            ]
        } else {
            sentences = ["Each \(w) x \(w) window runs ordinary self-attention over its \(w * w) tokens: every token weighs every token of its window."
                + (st.windowCount == 1 ? " Here one window covers the whole grid, so this attention is already global." : ""),
                         "This stage has no carrier tokens: " + t.noCarrierReason(st) + "."]
        }
        sentences.append("The picture: one query token (outlined) and where its attention goes"
            + (cc > 0 ? "; the outlined boxes are its window's carriers." : "."))
        var explorer: [ExplorerHint] = [
            .reach(level: st.level, view: .local),
            .use([.queryLeft, .queryDown, .queryUp, .queryRight], "move the query token"),
            .use([.nextHead, .previousHead], "one head, or the mean of heads"),
            .use([.nextBlock, .previousBlock], "other blocks"),
        ]
        if st.windowCount > 1 { explorer.append(.use([.nextWindow, .previousWindow], "the same spot in other windows")) }
        if cc > 0 { explorer.append(.use([.nextCarrier, .previousCarrier], "make one of the window's carriers the query")) }
        explorer.append(.reach(level: st.level, view: .matrix, "the raw \(T) x \(T) matrix of the query's window"))
        return TourStep(
            kind: .windowAttention,
            title: cc > 0 ? "Window attention: local, with the carriers in front"
                : (st.windowCount == 1 ? "Stage \(st.number) attention: one window covers the grid" : "Window attention: local only"),
            facts: facts, sentences: sentences, explorer: explorer, picture: picture)
    }

    static func hatBlock(_ t: TourFacts) -> TourStep {
        guard let st = t.hatStage ?? t.firstStage else {
            return TourStep(kind: .hatBlock, title: "One block, in order: not recorded", applies: false, facts: [],
                            sentences: ["This recording has no transformer stage."])
        }
        let C = st.channels, hidden = Int(Float(C) * t.config.mlpRatio), w = st.windowSize, cc = st.carriersPerWindow
        let T = st.tokensPerWindow, n = st.carrierCount, W = st.windowCount, last = st.depth - 1
        let windows = TourFacts.plural(W, "window")
        var facts = ["1. x += pos_embed(position in the \(w) x \(w) window), an MLP 2 -> 512 -> \(C): x is [\(windows), \(w * w), \(C)]"]
        if st.hasCarriers {
            facts += [
                st.squareCarrierGrid
                    ? "2. ct += hat_pos_embed(position in the \(st.carrierRows) x \(st.carrierCols) carrier grid): ct is [\(n), \(C)]"
                    : "2. ct is [\(n), \(C)]; hat_pos_embed is skipped (official quirk: \(st.windowRows) x \(st.windowCols) windows, not square)",
                "3. ct += gamma1 * hat_attn(hat_norm1(ct)): \(st.heads) heads of \(n) x \(n), all carriers",
                "4. ct += gamma2 * hat_mlp(hat_norm2(ct)): \(C) -> \(hidden) -> \(C)",
                "5. each window's \(cc) carriers go in front of its \(w * w) tokens"
                    + (st.squareCarrierGrid ? "" : " (in the official swapped order)") + ": x is [\(windows), \(T), \(C)]",
                "6. x += gamma3 * attn(norm1(x)): \(st.heads) heads of \(T) x \(T) per window; the \(cc) carrier rows are queries too",
                "7. x += gamma4 * mlp(norm2(x)): \(C) -> \(hidden) -> \(C), on all \(T) tokens",
                "8. split: the \(n) carriers go on to the next block",
                t.config.doPropagation
                    ? "9. last block (\(last)) only: x += gamma1 * upsample(the window's \(st.ctSize) x \(st.ctSize) carriers to \(w) x \(w))"
                    : "9. no propagation (do_propagation = False): after the last block (\(last)) the carriers are dropped",
            ]
        } else {
            facts += [
                "2. x += gamma3 * attn(norm1(x)): \(st.heads) heads of \(T) x \(T) per window",
                "3. x += gamma4 * mlp(norm2(x)): \(C) -> \(hidden) -> \(C)",
                "no carrier steps: " + t.noCarrierReason(st),
            ]
        }
        facts.append(t.gammaFact)
        if !st.hasCarriers { facts.append(t.pairsFact(st)) }
        if let other = t.stages.first(where: { $0.level != st.level }), !other.hasCarriers, st.hasCarriers {
            facts.append("stage \(other.number): steps 1, 6 and 7 only (no carriers there)")
        }
        var picture: ViewResult?
        if let b = st.blocks.firstIndex(where: { $0.window != nil }) {
            let s = Selection(level: st.level, block: b, head: nil, queryRow: min(w / 2, st.height - 1),
                              queryCol: min(w / 2, st.width - 1))
            picture = try? Views.compute(.matrix, recording: t.rec, selection: s)
            picture?.matrix?.highlightRow = nil
        }
        let norms = st.hasCarriers ? "norm1, norm2, hat_norm1, hat_norm2" : "norm1, norm2"
        var sentences = ["The official block, in order, on this model's shapes (x: the windows' tokens" + (st.hasCarriers ? ", ct: the carriers" : "")
            + "). Each LayerNorm (\(norms)) comes right before its attention or MLP; each result is added to its input, scaled by its gamma."]
        if picture != nil {
            sentences.append(cc > 0
                ? "The picture: window 0's \(T) x \(T) attention (mean of heads). Top \(cc) rows: its carriers as queries; left \(cc) columns: as keys."
                : "The picture: window 0's \(T) x \(T) attention in this block (mean of heads), one row per query token.")
        }
        return TourStep(kind: .hatBlock, title: "One block of stage \(st.number), in order", facts: facts, sentences: sentences,
                        explorer: [.reach(level: st.level, view: .matrix),
                                   .use([.nextBlock, .previousBlock], "other blocks")],
                        picture: picture)
    }
}
