// Reach view: how far one query's attention reaches in a single block through the hierarchy.
//
// Let a be the query's window-attention row (T = c*c + w*w keys, carriers first), G the block's
// carrier attention (N x N, rows sum to 1) and B_k the token cells of carrier k's pooling box.
// The carrier tokens a window receives in block J were updated by block J's carrier attention
// before the window attended to them, so carrier j carries G[j, k] of its content from carrier k.
//   reach(cell) = a[token at cell]                                  (direct, inside the window)
//               + sum over slots s with carrier j = windowCarriers[window][s]
//                   of a[s] * sum over k with cell in B_k of G[j, k] / |B_k|
// i.e. the mass sent to a carrier is spread by that carrier's global attention over the regions
// the carriers summarise, uniformly within each box; overlapping boxes add. The total over all
// cells is 1 (the direct part plus all carrier mass). The residual path (a carrier keeping its own
// pooled content) is not modelled: this is the attention path only.
// The window part uses the selected head (or the head mean); the carrier part always uses the mean
// over the carrier attention's heads, because head h of one layer has nothing to do with head h of
// another.
import HatRecording

enum ReachView {
    static func compute(_ rec: Recording, _ sel: Selection) throws -> ViewResult {
        let q = try StageQuery(rec, sel)
        let stage = q.stage
        let maps = try q.windowMaps()
        let a = ViewStats.row(maps, group: q.window, head: sel.head, query: q.row)  // (T)
        let cc = stage.carriersPerWindow
        var field = q.emptyField()
        q.paintWindowTokens(a, into: &field)
        var direct: Float = 0
        for v in field.values where v.isFinite { direct += v }

        var viaCarriers: Float = 0
        var hasGlobal = false
        if cc > 0 {
            let g = try q.carrierMaps()
            hasGlobal = true
            let G = ViewStats.matrix(g, group: 0, head: nil)  // (N, N), head mean
            let n = g.keys
            var spread = [Float](repeating: 0, count: n)  // (N): mass arriving at each carrier k
            for (s, j) in stage.windowCarriers[q.window].enumerated() {
                viaCarriers += a[s]
                for k in 0 ..< n { spread[k] += a[s] * G[j * n + k] }
            }
            let indirect = CarrierView.paintBoxes(q, values: spread, combine: .sum)
            for i in 0 ..< field.values.count where indirect.values[i].isFinite {
                let d = field.values[i]
                field.values[i] = (d.isFinite ? d : 0) + indirect.values[i]
            }
        }
        let range = ViewStats.probabilityRange(field.values)
        let finite = field.values.filter(\.isFinite)
        var inside: Float = 0
        let w = stage.windowSize
        for t in 0 ..< w * w {
            let p = stage.geometry.tokenPosition(window: q.window, local: t)
            let v = field.values[p.row * field.cols + p.col]
            if v.isFinite { inside += v }
        }
        let numbers: [(String, String)] = [
            ("max", ViewStats.fmt(range.max)),
            ("direct (window tokens)", ViewStats.percent(direct)),
            ("via carrier tokens", cc > 0 ? ViewStats.percent(viaCarriers) : "n/a (no carriers)"),
            ("reach outside own window", ViewStats.percent(max(0, 1 - inside))),
            ("cells holding 90% of the mass", "\(ViewStats.count(holding: 0.9, of: finite)) of \(finite.count)"),
            ("entropy (normalised)", ViewStats.fmt(ViewStats.normalizedEntropy(finite))),
        ]
        var explanation = [
            "The query's direct attention to its window tokens, plus the attention it gives its carrier tokens spread by those carriers' global attention over the regions they summarise (uniformly within each pooling box; overlaps add).",
        ]
        if hasGlobal {
            explanation.append("Reach = a[token] + sum over carriers j of a[j] * G[j,k] / |box k| over each box k; the whole picture sums to 1. Carrier attention G is the mean of its heads.")
        } else {
            explanation.append("This stage has no carrier tokens, so in one block the query reaches only its own window.")
        }
        return ViewResult(kind: .reach, title: q.title("reach"), explanation: explanation, field: field,
                          matrix: nil, overlays: q.windowOverlays(), rangeMin: range.min, rangeMax: range.max,
                          scaleLabel: "attention mass per token", numbers: numbers)
    }
}
