// The one place views are computed: `Views.compute` turns a Recording and a Selection into a
// ViewResult that both the PNG figures and the terminal explorer draw. One file per view; this
// file holds the dispatch and the selection checks they share.
import HatRecording

public enum Views {
    /// Computes `kind` for `selection`. Throws `ViewError.invalidSelection` when the selection
    /// points outside the recording and `ViewError.notApplicable` (with the reason) when the view
    /// does not exist for this model / stage.
    /// A recording made with interventions says so in every title ("... | with --cut-global
    /// levels.2"), so no figure of a changed forward pass passes for the plain one.
    public static func compute(_ kind: ViewKind, recording: Recording, selection: Selection) throws -> ViewResult {
        var result: ViewResult
        switch kind {
        case .local: result = try LocalView.compute(recording, selection)
        case .carrier: result = try CarrierView.compute(recording, selection)
        case .propagation: result = try PropagationView.compute(recording, selection)
        case .reach: result = try ReachView.compute(recording, selection)
        case .rollout: result = try RolloutView.compute(recording, selection)
        case .matrix: result = try MatrixView.compute(recording, selection)
        case .energy: result = try EnergyView.compute(recording, selection)
        }
        let changes = recording.provenance.interventions
        if !changes.isEmpty { result.title += " | with " + changes.joined(separator: " ") }
        return result
    }

}

/// A transformer-stage selection checked against the recording: the stage, the query's window and
/// its row in that window's T x T attention.
struct StageQuery {
    let recording: Recording
    let stage: TransformerStageRecord
    let selection: Selection
    /// Row-major window index holding the query.
    let window: Int
    /// The query's row in the window attention: its carrier slot, or c*c + local token index.
    let row: Int
    /// Local token index (0 ..< w*w) of the grid query; nil when the query is a carrier slot.
    let localToken: Int?

    init(_ recording: Recording, _ sel: Selection) throws {
        self.recording = recording
        self.selection = sel
        guard let stage = recording.stages.first(where: { $0.level == sel.level }) else {
            if recording.convStages.contains(where: { $0.level == sel.level }) {
                throw ViewError.notApplicable(
                    "stage \(sel.level + 1) is convolutional: it has no attention (only the energy view applies)")
            }
            throw ViewError.invalidSelection("stage \(sel.level + 1) is not in this recording")
        }
        self.stage = stage
        guard sel.block >= 0 && sel.block < stage.blocks.count else {
            throw ViewError.invalidSelection("block \(sel.block) (stage \(sel.level + 1) has blocks 0-\(stage.blocks.count - 1))")
        }
        if let h = sel.head, h < 0 || h >= stage.heads {
            throw ViewError.invalidSelection("head \(h) (stage \(sel.level + 1) has heads 0-\(stage.heads - 1))")
        }
        guard sel.queryRow >= 0 && sel.queryRow < stage.paddedHeight && sel.queryCol >= 0
                && sel.queryCol < stage.paddedWidth else {
            throw ViewError.invalidSelection(
                "query (\(sel.queryRow),\(sel.queryCol)) is outside the \(stage.paddedHeight) x \(stage.paddedWidth) token grid of stage \(sel.level + 1)")
        }
        let g = stage.geometry
        window = g.window(row: sel.queryRow, col: sel.queryCol)
        if let slot = sel.carrierSlot {
            guard slot >= 0 && slot < stage.carriersPerWindow else {
                throw ViewError.invalidSelection(stage.carriersPerWindow == 0
                    ? "carrier slot \(slot): stage \(sel.level + 1) has no carrier tokens"
                    : "carrier slot \(slot) (windows hold slots 0-\(stage.carriersPerWindow - 1))")
            }
            row = slot
            localToken = nil
        } else {
            row = g.attentionRow(row: sel.queryRow, col: sel.queryCol)
            localToken = g.localToken(row: sel.queryRow, col: sel.queryCol)
        }
    }

    var block: BlockRecord { stage.blocks[selection.block] }
    var stageNumber: Int { stage.level + 1 }

    /// The block's window attention, or why it is missing.
    func windowMaps(block b: Int? = nil) throws -> AttentionMaps {
        let b = b ?? selection.block
        guard let maps = stage.blocks[b].window else {
            throw ViewError.notApplicable("block \(b) of stage \(stageNumber) was not recorded (see the recording's notes)")
        }
        return maps
    }

    /// The block's carrier attention, or why there is none.
    func carrierMaps() throws -> AttentionMaps {
        guard stage.hasCarriers else { throw ViewError.notApplicable(Self.noCarrierReason(recording, stage)) }
        guard let maps = block.carrier else {
            throw ViewError.notApplicable("carrier attention of block \(selection.block) of stage \(stageNumber) was not recorded")
        }
        return maps
    }

    /// Plain reason why a stage has no carrier tokens.
    static func noCarrierReason(_ rec: Recording, _ stage: TransformerStageRecord) -> String {
        let s = stage.level + 1
        let hat = stage.level < rec.config.hat.count ? rec.config.hat[stage.level] : false
        if !hat {
            return "stage \(s) of \(rec.config.name) has no carrier tokens: hierarchical attention is off there (hat = false"
                + (rec.config.hat.allSatisfy { !$0 } ? ", as in the 21k models)" : ")")
        }
        return "stage \(s) of \(rec.config.name) has no carrier tokens: it is one window, so its attention is already global"
    }

    /// "window 1 query r3 c5" or "window 1 query carrier slot 2 (r0c1)".
    var queryText: String {
        if let slot = selection.carrierSlot {
            let ct = stage.windowCarriers[window][slot]
            return "window \(window) | query carrier slot \(slot) (\(stage.geometry.carrierLabel(ct)))"
        }
        return "window \(window) | query r\(selection.queryRow) c\(selection.queryCol)"
    }

    var headText: String { selection.head.map { "head \($0)" } ?? "mean of heads" }

    /// The title line every transformer view uses.
    func title(_ view: String, block: String? = nil, head: String? = nil, query: Bool = true) -> String {
        var parts = [view, recording.config.name, "stage \(stageNumber)", block ?? "block \(selection.block)",
                     head ?? headText]
        if query { parts.append(queryText) }
        return parts.joined(separator: " | ")
    }

    /// The query's cell on the image: its token, or its carrier token's pooling box.
    var queryRect: PixelRect {
        if let slot = selection.carrierSlot {
            return stage.carriers[stage.windowCarriers[window][slot]].box
        }
        return stage.geometry.tokenRect(row: selection.queryRow, col: selection.queryCol)
    }

    /// Overlays shared by the window-based views: window grid, selected window, the query window's
    /// carrier boxes highlighted, the query. The other carriers' boxes are left out: they cut
    /// across windows (kernel > stride) and would read as a second grid.
    func windowOverlays() -> Overlays {
        var o = Overlays()
        o.windowRects = stage.windowRects
        o.selectedWindow = stage.geometry.windowRect(window)
        if stage.hasCarriers { o.highlightedBoxes = stage.windowCarriers[window].map { stage.carriers[$0].box } }
        o.query = queryRect
        return o
    }

    /// An empty (all-NaN) field over the padded token grid at the stage stride.
    func emptyField() -> Field {
        Field(rows: stage.paddedHeight, cols: stage.paddedWidth, cellSize: stage.stride,
              values: [Float](repeating: .nan, count: stage.paddedHeight * stage.paddedWidth))
    }

    /// Writes the w*w window-token part of a T-long row (carriers first) into `field` at their
    /// grid cells.
    func paintWindowTokens(_ row: [Float], into field: inout Field) {
        let cc = stage.carriersPerWindow
        for t in 0 ..< stage.windowSize * stage.windowSize {
            let p = stage.geometry.tokenPosition(window: window, local: t)
            field.values[p.row * field.cols + p.col] = row[cc + t]
        }
    }

    /// The 1 x c*c strip of the window's carrier slots, labelled with their grid positions.
    func carrierStrip(_ row: [Float]) -> MatrixField? {
        let cc = stage.carriersPerWindow
        guard cc > 0 else { return nil }
        return MatrixField(rows: 1, cols: cc, values: Array(row[0 ..< cc]), markedRows: 0, markedCols: cc,
                           rowLabels: ["query"],
                           colLabels: stage.windowCarriers[window].map(stage.geometry.carrierLabel))
    }

    /// Grid cells (padded grid, row-major indices) covered by a pixel box: those whose centre lies
    /// inside it.
    func cells(in box: PixelRect) -> [Int] {
        let s = stage.stride
        var out: [Int] = []
        for r in 0 ..< stage.paddedHeight {
            let cy = r * s + s / 2
            guard cy >= box.y0 && cy < box.y0 + box.height else { continue }
            for c in 0 ..< stage.paddedWidth {
                let cx = c * s + s / 2
                if cx >= box.x0 && cx < box.x0 + box.width { out.append(r * stage.paddedWidth + c) }
            }
        }
        return out
    }
}
