// Matrix view: the query window's raw T x T attention matrix, carriers first (their c*c rows and
// columns marked), the query's row highlighted. The image beside it shows which window it is.
import HatRecording

enum MatrixView {
    static func compute(_ rec: Recording, _ sel: Selection) throws -> ViewResult {
        let q = try StageQuery(rec, sel)
        let stage = q.stage
        let maps = try q.windowMaps()
        let t = maps.keys
        let values = ViewStats.matrix(maps, group: q.window, head: sel.head)  // (T, T)
        let cc = stage.carriersPerWindow
        let w = stage.windowSize
        // Carriers by their carrier-grid place ("ct r0c1"), window tokens by their place in the
        // stage's grid ("r3c5", as the title names the query).
        let labels = (0 ..< t).map { stage.geometry.keyLabel(window: q.window, key: $0) }
        let matrix = MatrixField(rows: t, cols: t, values: values, markedRows: cc, markedCols: cc,
                                 rowLabels: labels, colLabels: labels, highlightRow: q.row)
        let range = ViewStats.probabilityRange(values)
        var carrierMass: Float = 0
        for i in 0 ..< t { for j in 0 ..< cc { carrierMass += values[i * t + j] } }
        var rowEntropy: Float = 0
        for i in 0 ..< t { rowEntropy += ViewStats.normalizedEntropy(Array(values[i * t ..< (i + 1) * t])) }
        let numbers: [(String, String)] = [
            ("max", ViewStats.fmt(range.max)),
            ("size", "\(t) x \(t) (\(cc) carriers + \(w * w) tokens)"),
            ("mean share on carrier columns", cc > 0 ? ViewStats.percent(carrierMass / Float(t)) : "n/a (no carriers)"),
            ("mean row entropy (normalised)", ViewStats.fmt(rowEntropy / Float(t))),
            ("query row", "\(q.row)"),
        ]
        let explanation = [
            "The whole attention matrix of window \(q.window): row i is how query i spreads its attention over the \(t) keys (each row sums to 1).",
            cc > 0 ? "The first \(cc) rows and columns are the window's carrier tokens (set apart); the query's row is highlighted."
                : "This stage has no carrier tokens; the query's row is highlighted.",
        ]
        let o = q.windowOverlays()
        return ViewResult(kind: .matrix, title: q.title("matrix"), explanation: explanation, field: nil,
                          matrix: matrix, overlays: o, rangeMin: range.min, rangeMax: range.max,
                          scaleLabel: "attention probability", numbers: numbers)
    }
}
