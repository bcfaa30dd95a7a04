// The side panel: model and checkpoint, top-5 prediction (before -> after with the change of each
// probability once interventions are in play), the active interventions, the current selection,
// the view's numbers and its plain-words explanation, top to bottom, cut at the panel's height.
import HatRecording
import HatViews

enum Panel {
    static func draw(_ state: AppState, view: ViewResult?, context: ExplorerContext, live: LiveStatus? = nil,
                     rect: CellRect, theme: Theme, into buf: inout CellBuffer) {
        var y = rect.y
        let bottom = rect.y + rect.height
        let w = rect.width
        func line(_ text: String, _ color: CellColor, _ attrs: CellAttributes = []) {
            guard y < bottom else { return }
            buf.put(text, x: rect.x, y: y, fg: color, bg: theme.background, attributes: attrs, maxWidth: w)
            y += 1
        }
        func pair(_ label: String, _ value: String, labelWidth: Int = 9) {
            guard y < bottom else { return }
            let lw = labelWidth
            buf.put(label, x: rect.x, y: y, fg: theme.dimText, bg: theme.background, maxWidth: lw - 1)
            buf.put(value, x: rect.x + lw, y: y, fg: theme.text, bg: theme.background, maxWidth: w - lw)
            y += 1
        }
        func heading(_ text: String) {
            let bar = String(repeating: "\u{2500}", count: max(0, w - text.count - 4))
            line("\u{2500} " + text + " " + bar, theme.heading, .bold)
        }

        heading("Model")
        pair("model", context.modelName)
        pair("weights", context.checkpointLabel)
        if !context.imageLabel.isEmpty { pair("image", context.imageLabel) }
        if !state.display.isEmpty { pair("display", state.display) }

        if let live, live.after != nil || !live.wanted.isEmpty {
            // Before (the plain run) -> after (the run shown), in percent, and the change.
            heading("Prediction % before \u{2192} after")
            line("  was\u{2192}  now change class", theme.dimText)
            for (rank, r) in live.rows(5).enumerated() {
                guard y < bottom else { break }
                let change = (r.after - r.before) * 100
                let nums = String(format: "%5.1f\u{2192}%5.1f %+6.1f ", Double(r.before * 100), Double(r.after * 100),
                                  Double(change.isFinite ? change : 0))
                let n = buf.put(nums, x: rect.x, y: y, fg: rank == 0 ? theme.heading : theme.text, bg: theme.background,
                                attributes: rank == 0 ? .bold : [])
                buf.put(context.className(r.index), x: rect.x + n, y: y, fg: theme.text, bg: theme.background,
                        attributes: rank == 0 ? .bold : [], maxWidth: w - n)
                y += 1
            }
            heading("Interventions")
            if live.wanted.isEmpty {
                line("none: the plain run", theme.dimText)
            } else {
                for i in live.wanted { for l in Renderer.wrap(i, width: w) { line(l, theme.text) } }
            }
            if live.stale {
                line("running the model again\u{2026}", theme.statusError, .bold)
            } else if let f = live.failure {
                for l in Renderer.wrap("the run failed: " + f, width: w) { line(l, theme.statusError) }
            } else if let ms = live.forwardMs {
                line(String(format: "ran in %.0f ms", ms), theme.dimText)
            }
        } else {
            heading("Prediction")
            for (rank, t) in context.top.enumerated() {
                guard y < bottom else { break }
                let pct = Renderer.formatPercent(t.probability)
                buf.put(pct, x: rect.x, y: y, fg: rank == 0 ? theme.heading : theme.text, bg: theme.background,
                        attributes: rank == 0 ? .bold : [])
                buf.put(context.className(t.index), x: rect.x + 7, y: y, fg: theme.text, bg: theme.background,
                        attributes: rank == 0 ? .bold : [], maxWidth: w - 7)
                y += 1
            }
        }

        heading("Selection")
        let sel = state.selection
        if let st = state.stage {
            pair("view", state.view.rawValue)
            let kind = st.isConvolutional ? "conv" : "attention"
            pair("stage", "\(state.stageIndex + 1)/\(state.geometry.stages.count) \(kind) (levels.\(st.level))")
            if let g = st.attention {
                pair("block", "\(sel.block) of \(g.depth)")
                pair("head", sel.head.map { "\($0) of \(g.heads)" } ?? "mean of \(g.heads)")
                if let win = state.window {
                    let p = g.windowPosition(win)
                    pair("window", "\(win) of \(g.windowCount) (r\(p.row) c\(p.col))")
                }
                if let slot = sel.carrierSlot {
                    pair("query", "carrier slot \(slot) of the window")
                } else {
                    pair("query", "token r\(sel.queryRow) c\(sel.queryCol)")
                }
                if state.view == .carrier { pair("carrier", "\(sel.carrier) of \(g.carrierCount)") }
            } else {
                pair("grid", "\(st.gridRows) x \(st.gridCols), \(st.stride) px per cell")
            }
        }

        if let v = view, !v.numbers.isEmpty {
            heading("Numbers")
            let lw = min(w / 2 + 2, (v.numbers.map { $0.0.count }.max() ?? 8) + 1)
            for (k, val) in v.numbers { pair(k, val, labelWidth: lw) }
        }
        if let v = view, !v.explanation.isEmpty {
            heading("What it shows")
            for sentence in v.explanation {
                for l in Renderer.wrap(sentence, width: w) { line(l, theme.text) }
            }
        }
        if !context.recording.notes.isEmpty {
            heading("Notes")
            for n in context.recording.notes { for l in Renderer.wrap(n, width: w) { line(l, theme.dimText) } }
        }
    }
}

extension Renderer {
    /// "62.1%" right-aligned in 6 columns.
    static func formatPercent(_ p: Float) -> String {
        let s = String(format: "%.1f%%", Double(p * 100))
        return String(repeating: " ", count: max(0, 6 - s.count)) + s
    }
}
