// Tour step 7: how information crosses window borders. Window attention is local, and carrier
// attention only connects carriers; the crossing is a loop through both. In block b a token's
// window attention has the window's carriers as queries, so they take in what the token holds;
// the rewritten carriers go on to block b+1, whose carrier attention hands them to other carriers,
// and those carriers are read by the tokens of their own windows in the same block's window
// attention. One crossing per block. The step finds the strongest such route on this recording
// (largest product of the three mean-of-heads probabilities) and draws it.
import HatRecording

/// One route token -> carrier -> carrier -> token through blocks b and b + 1 of a stage.
struct CrossingPath {
    let block: Int
    /// The start token (padded grid) and its window.
    let tokenA: (row: Int, col: Int), windowA: Int
    /// The carrier (grid index, as handed to window A in block b) that reads token A, its slot in
    /// window A, and the probability it gives token A.
    let carrierA: Int, slotA: Int, pA: Float
    /// Where carrier A's content sits in block b + 1's carrier attention (official ct_dewindow:
    /// the same grid index unless the window grid is not square).
    let carrierANext: Int
    /// The carrier of another window that reads carrier A in block b + 1's carrier attention,
    /// with that probability, its window in block b + 1 and its slot there.
    let carrierB: Int, pCarriers: Float, windowB: Int, slotB: Int
    /// The token of window B that reads carrier B most in block b + 1, with that probability.
    let tokenB: (row: Int, col: Int), pB: Float

    /// The strongest route (largest product of its three mean-of-heads probabilities) from the
    /// token at (row, col) of `st` to a token of another window, through the first pair of
    /// consecutive blocks whose window and carrier attention were recorded; nil when there is none.
    static func find(_ st: TransformerStageRecord, row: Int, col: Int) -> CrossingPath? {
        let g = st.geometry, cc = st.carriersPerWindow, ww = st.windowSize * st.windowSize
        guard st.hasCarriers, st.windowCount > 1 else { return nil }
        guard let b = st.blocks.indices.dropLast().first(where: {
            st.blocks[$0].window != nil && st.blocks[$0 + 1].window != nil && st.blocks[$0 + 1].carrier != nil
        }), let winA = st.blocks[b].window, let car = st.blocks[b + 1].carrier, let winB = st.blocks[b + 1].window
        else { return nil }
        let wA = g.window(row: row, col: col), localA = g.localToken(row: row, col: col)
        let n = st.carrierCount
        // Block b: how much each of window A's carriers, as a query, reads token A.
        let reads = (0 ..< cc).map { ViewStats.row(winA, group: wA, head: nil, query: $0)[cc + localA] }
        // Block b + 1: which window (and slot) receives each carrier, and the real token of that
        // window that reads it most.
        var owner = [(window: Int, slot: Int)](repeating: (0, 0), count: n)
        for w in 0 ..< g.windowCount { for (slot, ct) in g.windowCarriers[w].enumerated() { owner[ct] = (w, slot) } }
        let reader: [(t: Int, v: Float)?] = (0 ..< n).map { q in
            let o = owner[q]
            var best: (t: Int, v: Float)?
            for t in 0 ..< ww {
                let p = g.tokenPosition(window: o.window, local: t)
                guard g.isReal(row: p.row, col: p.col) else { continue }
                let v = ViewStats.row(winB, group: o.window, head: nil, query: cc + t)[o.slot]
                if best == nil || v > best!.v { best = (t, v) }
            }
            return best
        }
        let mean = ViewStats.matrix(car, group: 0, head: nil)  // (N, N), block b + 1
        // The strongest route: the largest product of the three probabilities.
        var best: (sA: Int, q: Int, score: Float)?
        for sA in 0 ..< cc {
            let next = g.carrierGridIndex(window: wA, slot: sA)
            for q in 0 ..< n where owner[q].window != wA {
                guard let r = reader[q] else { continue }
                let score = reads[sA] * mean[q * n + next] * r.v
                if best == nil || score > best!.score { best = (sA, q, score) }
            }
        }
        guard let route = best, let tb = reader[route.q] else { return nil }
        let next = g.carrierGridIndex(window: wA, slot: route.sA), ob = owner[route.q]
        return CrossingPath(block: b, tokenA: (row, col), windowA: wA, carrierA: g.windowCarriers[wA][route.sA],
                            slotA: route.sA, pA: reads[route.sA], carrierANext: next, carrierB: route.q,
                            pCarriers: mean[route.q * n + next], windowB: ob.window, slotB: ob.slot,
                            tokenB: g.tokenPosition(window: ob.window, local: tb.t), pB: tb.v)
    }
}

extension TourSteps {
    static func crossingWindows(_ t: TourFacts) -> TourStep {
        let title = "Across windows: one block per crossing"
        guard let st = t.hatStage else {
            let why = t.stages.map { st in
                st.windowCount == 1
                    ? "stage \(st.number) is one window: every token reads every other in each block, nothing to cross"
                    : "stage \(st.number)'s \(st.windowCount) windows exchange nothing inside the stage (no carriers: \(t.noCarrierReason(st))); only the next downsampling mixes them"
            }
            return TourStep(kind: .crossingWindows, title: "Across windows: not in this model", applies: false,
                            facts: why, sentences: ["Does not apply to \(t.name): without carrier tokens there is no route between windows inside a stage."],
                            picture: t.windowPicture(t.firstStage))
        }
        let g = st.geometry
        let depth = st.blocks.count
        let general = [
            "Window borders are crossed only through the carriers, in a loop: in block b the window's carriers, as queries of window attention, read a token; in block b+1 carrier attention hands that on to other carriers, and window attention lets the tokens of their windows read it.",
            "So each crossing takes one block. With \(TourFacts.plural(depth, "block")) in stage \(st.number) the loop can run \(max(depth - 1, 0)) time\(depth - 1 == 1 ? "" : "s"); the stage input itself reaches every window already in block 0, through the pooled carriers.",
        ]
        guard let s = t.querySelection(st), let p = CrossingPath.find(st, row: s.queryRow, col: s.queryCol) else {
            return TourStep(kind: .crossingWindows, title: title, facts: [t.stageShape(st),
                            depth < 2 ? "stage \(st.number) has one block: there is no next block to cross into"
                                      : "no two consecutive blocks of stage \(st.number) were recorded with their attention"],
                            sentences: general, picture: t.windowPicture(st))
        }
        func tok(_ x: (row: Int, col: Int)) -> String { "token r\(x.row) c\(x.col)" }
        let a = g.carrierLabel(p.carrierA), aNext = g.carrierLabel(p.carrierANext), bl = g.carrierLabel(p.carrierB)
        let b = p.block
        var facts = [
            "route: \(tok(p.tokenA)) (window \(p.windowA)) -> carrier \(a) -> carrier \(bl) -> \(tok(p.tokenB)) (window \(p.windowB)), blocks \(b)-\(b + 1)",
            "block \(b), window attention of window \(p.windowA): carrier \(a) (the window's slot \(p.slotA)) is a query there and gives \(tok(p.tokenA)) probability \(TourFacts.fmt(p.pA)): it takes in what the token holds",
            "block \(b + 1), carrier attention: carrier \(bl) gives carrier \(aNext) probability \(TourFacts.fmt(p.pCarriers)): the jump across the image",
            "block \(b + 1), window attention of window \(p.windowB): \(tok(p.tokenB)) gives carrier \(bl) (the window's slot \(p.slotB)) probability \(TourFacts.fmt(p.pB)): it reads the carrier",
            "probabilities are means over the \(st.heads) heads; this route has the largest product of the three among every carrier of window \(p.windowA) and every carrier and token of the other windows",
        ]
        if p.carrierANext != p.carrierA {
            facts.append("official quirk (\(st.windowRows) x \(st.windowCols) windows, not square): carrier \(a)'s content sits at \(aNext) in block \(b + 1)")
        }
        var o = Overlays()
        o.windowRects = st.windowRects
        o.selectedWindow = g.windowRect(p.windowA)
        o.query = g.tokenRect(row: p.tokenA.row, col: p.tokenA.col)
        o.path = [g.tokenRect(row: p.tokenA.row, col: p.tokenA.col), st.carriers[p.carrierA].box,
                  st.carriers[p.carrierB].box, g.tokenRect(row: p.tokenB.row, col: p.tokenB.col)]
        let picture = ViewResult(kind: .carrier, title: "across windows | \(t.name) | stage \(st.number) | blocks \(b)-\(b + 1)",
                                 explanation: [], field: nil, matrix: nil, overlays: o, rangeMin: 0, rangeMax: 1,
                                 scaleLabel: "", numbers: [])
        return TourStep(
            kind: .crossingWindows, title: title, facts: facts,
            sentences: general + ["The picture draws one such route on this image: from the outlined token in the outlined window, through the two carriers' boxes, to a token of window \(p.windowB)."],
            explorer: [.reach(level: st.level, view: .local),
                       .use([.nextCarrier, .previousCarrier], "make a carrier the query: its row shows which tokens it reads"),
                       .reach(level: st.level, view: .reach, "one query's direct and carrier-borne reach in one block")],
            picture: picture)
    }
}
