// Facts about a recording that several tour steps share: which stage has carrier tokens, the
// one-line stage shape, the pooling box size and spacing read off the recorded boxes, why a model
// has no carriers, the query a step shows, and the plain window-grid picture.
import HatRecording
import HatViews

/// Facts about a recording that several steps share.
struct Facts {
    let rec: Recording
    init(_ rec: Recording) { self.rec = rec }

    /// The first transformer stage (level 2), if recorded.
    var firstStage: TransformerStageRecord? { rec.stages.min { $0.level < $1.level } }
    /// The first stage with carrier tokens, if any.
    var hatStage: TransformerStageRecord? { rec.stages.filter(\.hasCarriers).min { $0.level < $1.level } }

    /// "stage 3: 14 x 14 tokens of 256 channels, 2 x 2 windows of 7 x 7"
    func stageShape(_ st: TransformerStageRecord) -> String { "stage \(st.number): " + st.gridSummary }

    /// Pooling box side and spacing in tokens (along a row of carriers, else a column).
    func pooling(_ st: TransformerStageRecord) -> (kernel: Int, step: Int)? {
        guard st.hasCarriers else { return nil }
        return (st.poolKernelW, st.carrierCols > 1 ? st.poolStrideW : (st.carrierRows > 1 ? st.poolStrideH : st.poolKernelW))
    }

    /// Why there are no carriers, with the real stage shapes.
    var noCarrierFacts: [String] {
        var out = rec.stages.map { stageShape($0) + ", no carrier tokens" }
        let hat = rec.config.hat
        out.append("hierarchical attention per stage (hat): " + hat.map { $0 ? "on" : "off" }.joined(separator: ", ")
                   + (hat.allSatisfy { !$0 } ? " (as in the 21k models)" : ""))
        return out
    }

    /// A selection at the middle of window 0's real tokens in the first recorded block of `st`.
    func querySelection(_ st: TransformerStageRecord?) -> Selection? {
        guard let st, let b = st.blocks.firstIndex(where: { $0.window != nil }) else { return nil }
        let half = st.windowSize / 2
        return Selection(level: st.level, block: b, head: nil, queryRow: min(half, max(st.height - 1, 0)),
                         queryCol: min(half, max(st.width - 1, 0)))
    }

    /// The window grid of `st` with window 0 emphasised (steps that do not apply still show it).
    func windowPicture(_ st: TransformerStageRecord?) -> ViewResult? {
        guard let st else { return nil }
        var o = Overlays()
        o.windowRects = st.windowRects
        o.selectedWindow = st.geometry.windowRect(0)
        return ViewResult(kind: .local, title: "windows | \(rec.config.name) | stage \(st.level + 1)", explanation: [],
                          field: nil, matrix: nil, overlays: o, rangeMin: 0, rangeMax: 1, scaleLabel: "", numbers: [])
    }
}
