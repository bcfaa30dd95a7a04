// Propagation view: where the carrier tokens' information is added back into the windows. In a
// hierarchical stage's last block, with propagation on, every token gets
// gamma1 * (its window's carrier tokens upsampled nearest from c x c to w x w); we show the L2 norm
// over channels of that added term per token.
import Foundation
import HatRecording

enum PropagationView {
    static func compute(_ rec: Recording, _ sel: Selection) throws -> ViewResult {
        let q = try StageQuery(rec, sel)
        let stage = q.stage
        guard let prop = stage.propagation else { throw ViewError.notApplicable(reasonOff(rec, stage)) }
        let cells = stage.paddedHeight * stage.paddedWidth
        let ch = stage.channels
        guard ch > 0, prop.count == cells * ch else {
            throw ViewError.notApplicable("the recorded propagation term has \(prop.count) values, expected \(cells) x \(ch)")
        }
        var field = q.emptyField()
        for i in 0 ..< cells {
            var s: Double = 0
            let o = i * ch
            for c in 0 ..< ch { let v = Double(prop[o + c]); s += v * v }  // prop: (cells, channels)
            field.values[i] = Float(s.squareRoot())
        }
        let range = ViewStats.range(field.values)
        var o = q.windowOverlays()
        o.query = nil
        o.selectedWindow = nil
        o.highlightedBoxes = []
        let last = stage.blocks.count - 1
        let mean = field.values.reduce(0, +) / Float(max(cells, 1))
        let numbers: [(String, String)] = [
            ("max |propagation|", ViewStats.fmt(range.max)),
            ("min |propagation|", ViewStats.fmt(range.min)),
            ("mean |propagation|", ViewStats.fmt(mean)),
            ("channels", "\(ch)"),
        ]
        let explanation = [
            "In the last block of stage \(q.stageNumber), each window's \(stage.carriersPerWindow) carrier tokens are upsampled to the window and added to its tokens; colours show the size (L2 norm over channels) of what was added.",
            "Each window shows \(stage.ctSize)x\(stage.ctSize) flat patches, one per carrier token: this is how global context flows back into local features.",
        ]
        return ViewResult(kind: .propagation,
                          title: q.title("propagation", block: "block \(last) (last)", head: "all heads", query: false),
                          explanation: explanation, field: field, matrix: nil, overlays: o,
                          rangeMin: range.min, rangeMax: range.max, scaleLabel: "|propagation| (L2 over channels)",
                          numbers: numbers)
    }

    static func reasonOff(_ rec: Recording, _ stage: TransformerStageRecord) -> String {
        let s = stage.level + 1
        if !rec.config.doPropagation {
            return "\(rec.config.name) does not propagate carrier tokens back into the windows (do_propagation = False)"
        }
        if !stage.hasCarriers {
            return "no propagation in stage \(s): " + StageQuery.noCarrierReason(rec, stage)
        }
        return "the propagation term of stage \(s) was not recorded"
    }
}
