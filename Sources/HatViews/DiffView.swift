// The difference view: any view of the run after some interventions minus the same view of the
// run before them, value by value (field cells and matrix entries), drawn with the diverging colour
// map over a range symmetric about 0 (white = unchanged, red = more after, blue = less after). The
// two runs share their input size, so both views have the same cells.
import HatRecording

public enum DiffView {
    /// `kind` at `selection` in `after` minus the same in `before`. Throws what `Views.compute`
    /// throws for either run, and `ViewError.notApplicable` when the two views are not the same
    /// shape (recordings of different inputs).
    public static func compute(_ kind: ViewKind, before: Recording, after: Recording,
                               selection: Selection) throws -> ViewResult {
        let a = try Views.compute(kind, recording: after, selection: selection)
        let b = try Views.compute(kind, recording: before, selection: selection)
        guard a.field?.values.count == b.field?.values.count, a.matrix?.values.count == b.matrix?.values.count,
              a.field?.cellSize == b.field?.cellSize else {
            throw ViewError.notApplicable("the two runs do not have the same cells (different inputs), so they cannot be subtracted")
        }
        var out = a
        var changes: [Float] = []   // every finite difference, field and matrix
        func subtract(_ x: [Float], _ y: [Float]) -> [Float] {
            zip(x, y).map { p, q in
                guard !p.isNaN, !q.isNaN else { return .nan }
                let d = p - q
                if d.isFinite { changes.append(d) }
                return d
            }
        }
        if let fa = a.field, let fb = b.field { out.field?.values = subtract(fa.values, fb.values) }
        if let ma = a.matrix, let mb = b.matrix { out.matrix?.values = subtract(ma.values, mb.values) }
        let largest = changes.map(abs).max() ?? 0
        // Symmetric, so 0 is the middle of the scale; an unchanged view still gets a scale.
        let span = largest > 0 ? largest : 1
        out.rangeMin = -span
        out.rangeMax = span
        out.diverging = true
        out.title = "after - before: " + a.title
        out.scaleLabel = "after - before (\(a.scaleLabel))"
        let rise = changes.max() ?? 0, drop = changes.min() ?? 0
        let meanAbs = changes.isEmpty ? 0 : changes.reduce(0) { $0 + abs($1) } / Float(changes.count)
        out.numbers = [("largest rise", ViewStats.fmt(max(rise, 0))), ("largest drop", ViewStats.fmt(min(drop, 0))),
                       ("mean |change|", ViewStats.fmt(meanAbs))]
        out.explanation = [
            "The \(kind.rawValue) view after the interventions minus the same view before them: red where the value grew, blue where it shrank, white where it did not change.",
            "The scale is symmetric about 0 (largest change \(ViewStats.fmt(largest))).",
        ]
        return out
    }
}
