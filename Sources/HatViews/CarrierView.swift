// Carrier view: one carrier token's global (carrier-to-carrier) attention, painted over the image
// regions the carriers summarise, plus the full N x N carrier matrix.
//
// Overlaps: a carrier's pooling box is `kernel` tokens wide and boxes start `stride` tokens apart;
// when kernel > stride (e.g. 14 x 14 tokens, 4 x 4 carriers: kernel 5, stride 3) neighbouring
// boxes share tokens. A token cell covered by several boxes shows the MEAN of their values: a
// uniform attention row then paints a uniform picture, and a cell covered by one box shows exactly
// that carrier's probability. (The reach view, which spreads mass, adds instead.)
import HatRecording

enum CarrierView {
    static func compute(_ rec: Recording, _ sel: Selection) throws -> ViewResult {
        let q = try StageQuery(rec, sel)
        let maps = try q.carrierMaps()
        let stage = q.stage
        let n = maps.keys
        guard sel.carrier >= 0 && sel.carrier < n else {
            throw ViewError.invalidSelection("carrier \(sel.carrier) (stage \(q.stageNumber) has carriers 0-\(n - 1))")
        }
        let row = ViewStats.row(maps, group: 0, head: sel.head, query: sel.carrier)  // (N)
        let field = paintBoxes(q, values: row, combine: .mean)

        let labels = (0 ..< n).map(stage.geometry.carrierLabel)
        let full = ViewStats.matrix(maps, group: 0, head: sel.head)  // (N, N)
        let matrix = MatrixField(rows: n, cols: n, values: full, markedRows: n, markedCols: n,
                                 rowLabels: labels, colLabels: labels, highlightRow: sel.carrier)

        var o = Overlays()
        o.windowRects = stage.windowRects
        o.carrierBoxes = stage.carriers.map(\.box)
        o.highlightedBoxes = [stage.carriers[sel.carrier].box]

        let range = ViewStats.probabilityRange(full)
        let me = stage.geometry.carrierLabel(sel.carrier)
        var numbers: [(String, String)] = [
            ("max of row", ViewStats.fmt(row.max() ?? 0)),
            ("entropy (normalised)", ViewStats.fmt(ViewStats.normalizedEntropy(row))),
            ("self attention", ViewStats.fmt(row[sel.carrier])),
        ]
        if let a = ViewStats.argmax(row) { numbers.append(("strongest carrier", labels[a])) }
        numbers.append(("carriers", "\(n) (\(stage.carrierRows)x\(stage.carrierCols))"))
        numbers.append(("pooled from window", "\(stage.carriers[sel.carrier].window)"))

        let explanation = [
            "Carrier token \(me) (highlighted box) summarises its pooling box; colours show how much of its global attention goes to each carrier, painted over the region that carrier summarises.",
            "Where pooling boxes overlap, a cell shows the mean of the carriers covering it. The matrix on the right is every carrier's row (the selected one highlighted).",
            sel.head == nil ? "Values are the mean over the \(stage.heads) heads." : "Values are one head's probabilities.",
        ]
        let title = q.title("carrier", query: false) + " | carrier \(sel.carrier) (\(me))"
        return ViewResult(kind: .carrier, title: title, explanation: explanation, field: field, matrix: matrix,
                          overlays: o, rangeMin: range.min, rangeMax: range.max,
                          scaleLabel: "carrier attention probability", numbers: numbers)
    }

    enum Combine { case mean, sum }

    /// Paints one value per carrier over its pooling box on the padded token grid. `.mean`: a cell
    /// covered by several boxes gets their mean; `.sum`: each box spreads its value uniformly
    /// over its cells (value / cell count) and overlapping contributions add, so the field's
    /// total equals the values' total. Cells no box covers stay NaN.
    static func paintBoxes(_ q: StageQuery, values: [Float], combine: Combine) -> Field {
        var field = q.emptyField()
        var acc = [Float](repeating: 0, count: field.values.count)  // (paddedHeight * paddedWidth)
        var hits = [Int](repeating: 0, count: field.values.count)
        for (k, ct) in q.stage.carriers.enumerated() where k < values.count {
            let cells = q.cells(in: ct.box)
            guard !cells.isEmpty else { continue }
            let v = combine == .mean ? values[k] : values[k] / Float(cells.count)
            for c in cells { acc[c] += v; hits[c] += 1 }
        }
        for i in 0 ..< acc.count where hits[i] > 0 {
            field.values[i] = combine == .mean ? acc[i] / Float(hits[i]) : acc[i]
        }
        return field
    }
}
