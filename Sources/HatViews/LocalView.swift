// Local view: one query's window attention. Its w*w window tokens are painted on the image at the
// stage stride; its c*c carrier tokens go into a 1 x c*c strip beside the image (labelled with
// their carrier-grid positions), because their pooling boxes lie on top of the very window
// tokens being shown and painting both would hide one of them. The carrier boxes are still drawn
// as highlighted outlines so the reader sees where the carriers come from.
import HatRecording

enum LocalView {
    static func compute(_ rec: Recording, _ sel: Selection) throws -> ViewResult {
        let q = try StageQuery(rec, sel)
        let maps = try q.windowMaps()
        let row = ViewStats.row(maps, group: q.window, head: sel.head, query: q.row)  // (T)
        var field = q.emptyField()
        q.paintWindowTokens(row, into: &field)
        let cc = q.stage.carriersPerWindow
        let strip = q.carrierStrip(row)

        let carrierShare = row[0 ..< cc].reduce(0, +)
        let range = ViewStats.probabilityRange(row)
        var numbers: [(String, String)] = [
            ("max", ViewStats.fmt(range.max)),
            ("entropy (normalised)", ViewStats.fmt(ViewStats.normalizedEntropy(row))),
            ("share on carrier tokens", cc > 0 ? ViewStats.percent(carrierShare) : "n/a (no carriers)"),
            ("self attention", ViewStats.fmt(row[q.row])),
        ]
        if let a = ViewStats.argmax(row) { numbers.append(("strongest key", q.stage.geometry.keyName(window: q.window, key: a))) }
        numbers.append(("keys", "\(row.count)"))

        var explanation = [
            "Colours show how much attention the query (outlined) gives each token of its \(q.stage.windowSize)x\(q.stage.windowSize) window in this block; each row of attention sums to 1.",
        ]
        if cc > 0 {
            explanation.append("The strip on the right holds the \(cc) carrier tokens the window also attends to; together they took \(ViewStats.percent(carrierShare)) of the attention. Their pooling boxes are outlined.")
        } else {
            explanation.append("This stage has no carrier tokens, so the window is all the query can see in one block.")
        }
        explanation.append(sel.head == nil ? "Values are the mean over the \(q.stage.heads) heads." : "Values are one head's probabilities.")

        return ViewResult(kind: .local, title: q.title("local"), explanation: explanation, field: field,
                          matrix: strip, overlays: q.windowOverlays(), rangeMin: range.min, rangeMax: range.max,
                          scaleLabel: "attention probability", numbers: numbers)
    }
}
