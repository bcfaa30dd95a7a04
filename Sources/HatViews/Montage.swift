// Montage: one view for every head of a block, plus their mean, tiled in a labelled grid (heads in
// order, the mean last), under one title. Colours use either one scale shared by all panels (so
// panels compare directly) or each panel's own scale (so weak heads still show their pattern).
import Foundation
import HatImaging
import HatRecording

public enum Montage {
    /// The view for each head of the selected block and then their mean, with panel labels.
    public static func views(_ kind: ViewKind, recording: Recording, selection: Selection) throws
        -> [(label: String, view: ViewResult)] {
        guard kind != .propagation && kind != .energy else {
            throw ViewError.notApplicable("the \(kind.rawValue) view does not depend on heads, so it has no montage")
        }
        guard let stage = recording.stages.first(where: { $0.level == selection.level }) else {
            // Let compute explain (convolutional or missing stage).
            _ = try Views.compute(kind, recording: recording, selection: selection)
            throw ViewError.invalidSelection("stage \(selection.level + 1) is not in this recording")
        }
        var out: [(label: String, view: ViewResult)] = []
        for h in 0 ..< stage.heads {
            var s = selection
            s.head = h
            out.append(("head \(h)", try Views.compute(kind, recording: recording, selection: s)))
        }
        var s = selection
        s.head = nil
        out.append(("mean", try Views.compute(kind, recording: recording, selection: s)))
        return out
    }

    /// The colour range covering every panel.
    public static func sharedRange(_ panels: [(label: String, view: ViewResult)]) -> ClosedRange<Float> {
        let lo = panels.map(\.view.rangeMin).min() ?? 0
        let hi = panels.map(\.view.rangeMax).max() ?? 1
        return lo < hi ? lo ... hi : lo ... lo + 1
    }

    /// Grid shape for n panels: columns = ceil(sqrt(n)), rows as needed.
    public static func grid(_ n: Int) -> (rows: Int, cols: Int) {
        var cols = 1
        while cols * cols < n { cols += 1 }
        return ((n + cols - 1) / cols, cols)
    }

    /// Where panel i's body sits in a montage image (for tests and for callers that annotate).
    public struct Layout: Sendable, Equatable {
        public var rows: Int, cols: Int
        public var tileWidth: Int, tileHeight: Int
        /// Canvas pixel of each panel body's top-left corner, panel order.
        public var bodyOrigins: [[Int]]
        public var width: Int, height: Int
    }

    /// Renders the panels into one image. Returns the image and its layout.
    public static func render(_ panels: [(label: String, view: ViewResult)], input: RGBImage,
                              options: FigureOptions = .init(), sharedScale: Bool) -> (image: RGBImage, layout: Layout) {
        let m = FigureRenderer.margin
        let lh = Canvas.lineHeight
        let shared = sharedRange(panels)
        let bodies = panels.map { p -> Body in
            var o = options
            o.rangeOverride = sharedScale ? shared : nil
            return Body(view: p.view, input: input, options: o)
        }
        let (rows, cols) = grid(panels.count)
        let bodyW = bodies.map(\.width).max() ?? 1, bodyH = bodies.map(\.height).max() ?? 1
        let miniBar = sharedScale ? 0 : 8 + 2 + lh  // per-panel colorbar and its labels
        let tileW = bodyW + 2 * m, tileH = lh + 2 + bodyH + miniBar + m
        let gridW = cols * tileW
        let contentW = max(gridW, 360)
        let title = montageTitle(panels)
        let titleLines = Canvas.wrap(title, maxWidth: contentW)
        let note = (sharedScale ? "One colour scale shared by all panels. "
                    : "Each panel has its own colour scale (\(panels.first?.view.scaleLabel ?? "value")). ")
            + (panels.last?.view.explanation.first ?? "")
        let noteLines = options.showText ? Canvas.wrap(note, maxWidth: contentW) : []
        var height = m + titleLines.count * lh + 6 + rows * tileH
        let barWidth = min(max(bodyW, 200), contentW)
        let scaleLabel = panels.first?.view.scaleLabel ?? ""
        let barBlock = FigureRenderer.colorbarBlockHeight(width: barWidth, range: (shared.lowerBound, shared.upperBound),
                                                          label: scaleLabel) + 6
        if sharedScale { height += barBlock }
        if !noteLines.isEmpty { height += noteLines.count * lh + 6 }
        height += m

        var canvas = Canvas(width: contentW + 2 * m, height: height)
        var y = m
        for line in titleLines { canvas.text(line, x: m, y: y); y += lh }
        y += 6
        var origins: [[Int]] = []
        for (i, p) in panels.enumerated() {
            let tx = m + (i % cols) * tileW + m, ty = y + (i / cols) * tileH
            let first = p.view.numbers.first.map { "  (\($0.0): \($0.1))" } ?? ""
            canvas.text(p.label + first, x: tx, y: ty)
            let by = ty + lh + 2
            bodies[i].draw(on: &canvas, x: tx, y: by)
            origins.append([tx, by])
            if !sharedScale {
                let b = bodies[i]
                let barW = min(max(b.imageWidth, 80), bodyW)
                for k in 0 ..< barW {
                    canvas.fill(x: tx + k, y: by + bodyH + 4, w: 1, h: 8,
                                options.colormap.rgb(Float(k) / Float(max(barW - 1, 1))))
                }
                let lo = ViewStats.fmt(b.range.min), hi = ViewStats.fmt(b.range.max)
                canvas.text(lo, x: tx, y: by + bodyH + 14)
                canvas.text(hi, x: tx + barW - Canvas.textWidth(hi), y: by + bodyH + 14)
            }
        }
        y += rows * tileH
        if sharedScale {
            FigureRenderer.drawColorbar(on: &canvas, x: m, y: y, width: barWidth,
                                        range: (shared.lowerBound, shared.upperBound), label: scaleLabel,
                                        colormap: options.colormap)
            y += barBlock
        }
        for line in noteLines { canvas.text(line, x: m, y: y, FigureStyle.mutedText); y += lh }
        let layout = Layout(rows: rows, cols: cols, tileWidth: tileW, tileHeight: tileH, bodyOrigins: origins,
                            width: canvas.width, height: canvas.height)
        return (canvas.image, layout)
    }

    /// The mean panel's title with its head part replaced by the set of heads shown.
    static func montageTitle(_ panels: [(label: String, view: ViewResult)]) -> String {
        guard let mean = panels.last?.view else { return "montage" }
        let heads = panels.count - 1
        return "montage of " + mean.title.replacingOccurrences(
            of: "mean of heads", with: "heads 0-\(heads - 1) and their mean")
    }
}
