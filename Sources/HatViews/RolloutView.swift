// Rollout view: attention rollout (Abnar & Zuidema 2020) through the blocks of one stage, inside
// the query's window.
//
// For blocks b = 0 ... B (B = the selected block), with A_b the window's T x T attention (the
// selected head, or the head mean):
//   Â_b = rownormalise(0.5 * I + 0.5 * A_b)        (the residual path counted as half the flow)
//   R   = Â_B · Â_(B-1) · ... · Â_0
// and the picture is the query's row of R: how much of the query's representation after block B
// traces back to each token of the window at the stage's input.
// Carrier tokens are re-derived in every block (pooled once, then updated by each block's carrier
// attention and handed back), so inside a window the rollout treats the c*c carrier slots as
// ordinary tokens of the window: slot s in block b is chained to slot s in block b-1. Their share
// is shown in the strip beside the image; flow between windows through the carriers is what the
// reach view shows for one block.
import HatRecording

enum RolloutView {
    static func compute(_ rec: Recording, _ sel: Selection) throws -> ViewResult {
        let q = try StageQuery(rec, sel)
        let stage = q.stage
        let t = stage.tokensPerWindow
        // v = e_q^T Â_B ... Â_0, evaluated right to left as repeated row-vector products.
        var v = [Float](repeating: 0, count: t)  // (T)
        v[q.row] = 1
        for b in stride(from: sel.block, through: 0, by: -1) {
            let maps = try q.windowMaps(block: b)
            let a = ViewStats.matrix(maps, group: q.window, head: sel.head)  // (T, T)
            v = multiply(v, augmented(a, t))
        }
        var field = q.emptyField()
        q.paintWindowTokens(v, into: &field)
        let cc = stage.carriersPerWindow
        let range = ViewStats.probabilityRange(v)
        let carrierShare = v[0 ..< cc].reduce(0, +)
        var numbers: [(String, String)] = [
            ("max", ViewStats.fmt(range.max)),
            ("self (query's own token)", ViewStats.fmt(v[q.row])),
            ("entropy (normalised)", ViewStats.fmt(ViewStats.normalizedEntropy(v))),
            ("share on carrier slots", cc > 0 ? ViewStats.percent(carrierShare) : "n/a (no carriers)"),
            ("blocks rolled out", "0-\(sel.block)"),
        ]
        if let m = ViewStats.argmax(v) { numbers.append(("strongest source", q.stage.geometry.keyName(window: q.window, key: m))) }
        let explanation = [
            "Attention rollout: each block's attention is mixed half and half with the identity (the residual path), rows renormalised, and multiplied through blocks 0 to \(sel.block) of stage \(q.stageNumber).",
            "Colours show how much of the query's representation after block \(sel.block) flows from each token of its window at the stage's input. Carrier slots are treated as tokens of the window (they are re-derived every block); their share is in the strip.",
        ]
        return ViewResult(kind: .rollout, title: q.title("rollout", block: "blocks 0-\(sel.block)"),
                          explanation: explanation, field: field, matrix: q.carrierStrip(v),
                          overlays: q.windowOverlays(), rangeMin: range.min, rangeMax: range.max,
                          scaleLabel: "rollout weight", numbers: numbers)
    }

    /// Â = rownormalise(0.5 I + 0.5 A) for a T x T row-major matrix.
    static func augmented(_ a: [Float], _ t: Int) -> [Float] {
        var m = a  // (T, T)
        for i in 0 ..< t {
            var s: Float = 0
            for j in 0 ..< t {
                m[i * t + j] = 0.5 * a[i * t + j] + (i == j ? 0.5 : 0)
                s += m[i * t + j]
            }
            if s > 0 { for j in 0 ..< t { m[i * t + j] /= s } }
        }
        return m
    }

    /// Row vector (T) times matrix (T, T).
    static func multiply(_ v: [Float], _ m: [Float]) -> [Float] {
        let t = v.count
        var out = [Float](repeating: 0, count: t)  // (T)
        for i in 0 ..< t where v[i] != 0 {
            let vi = v[i], o = i * t
            for j in 0 ..< t { out[j] += vi * m[o + j] }
        }
        return out
    }
}
