// A line chart on the figure canvas: framed plot, grid and ticks on both axes (numbers, or a name
// per category on x), axis labels, one polyline per series with a marker at every point, an
// optional dashed reference line, and a legend under the plot. The faithfulness figures
// (curves.png, sanity.png) are made of these.
import Foundation
import HatImaging

struct LineChart {
    struct Series {
        var label: String
        var color: RGB
        var points: [(x: Double, y: Double)]
    }

    var title: String
    var xLabel: String
    var yLabel: String
    var x: ClosedRange<Double>
    var y: ClosedRange<Double>
    /// Names of the x positions 0, 1, 2, ... instead of numeric ticks.
    var categories: [String] = []
    var series: [Series]
    /// A horizontal dashed line at this y (named in the legend by the caller).
    var reference: Double?

    static let plotWidth = 300, plotHeight = 200

    /// Size of the chart drawn by `draw` (title, plot, axis labels; the legend is separate).
    var size: (width: Int, height: Int) {
        let lh = Canvas.lineHeight
        let left = leftMargin
        return (left + Self.plotWidth + 16, lh + 6 + lh + Self.plotHeight + 6 + lh * (categories.isEmpty ? 2 : 3) + 4)
    }

    private var yTicks: [Double] { StatsCharts.niceTicks(y.lowerBound, y.upperBound, target: 5) }
    private var leftMargin: Int { (yTicks.map { Canvas.textWidth(StatsCharts.tickText($0)) }.max() ?? 0) + 10 }

    func draw(on c: inout Canvas, x ox: Int, y oy: Int) {
        let lh = Canvas.lineHeight
        c.text(title, x: ox, y: oy)
        c.text(yLabel, x: ox, y: oy + lh + 4, FigureStyle.mutedText)
        let left = ox + leftMargin, top = oy + 2 * lh + 6
        let w = Self.plotWidth, h = Self.plotHeight
        func px(_ v: Double) -> Int { left + Int(((v - x.lowerBound) / max(x.upperBound - x.lowerBound, 1e-12) * Double(w - 1)).rounded()) }
        func py(_ v: Double) -> Int {
            let t = (v - y.lowerBound) / max(y.upperBound - y.lowerBound, 1e-12)
            return top + h - 1 - Int((min(max(t, 0), 1) * Double(h - 1)).rounded())
        }
        for t in yTicks {
            let yy = py(t)
            c.fill(x: left, y: yy, w: w, h: 1, StatsCharts.Style.grid)
            c.fill(x: left - 4, y: yy, w: 4, h: 1, StatsCharts.Style.axis)
            let s = StatsCharts.tickText(t)
            c.text(s, x: left - 6 - Canvas.textWidth(s), y: yy - 4)
        }
        if categories.isEmpty {
            for t in StatsCharts.niceTicks(x.lowerBound, x.upperBound, target: 6) {
                let xx = px(t)
                c.fill(x: xx, y: top, w: 1, h: h, StatsCharts.Style.grid)
                c.fill(x: xx, y: top + h, w: 1, h: 4, StatsCharts.Style.axis)
                let s = StatsCharts.tickText(t)
                c.text(s, x: xx - Canvas.textWidth(s) / 2, y: top + h + 6)
            }
        } else {
            for (i, name) in categories.enumerated() {
                let xx = px(Double(i))
                c.fill(x: xx, y: top, w: 1, h: h, StatsCharts.Style.grid)
                c.fill(x: xx, y: top + h, w: 1, h: 4, StatsCharts.Style.axis)
                // Alternate rows so neighbouring names do not touch.
                let row = i % 2
                c.text(name, x: min(max(xx - Canvas.textWidth(name) / 2, left - 8), left + w + 8 - Canvas.textWidth(name)),
                       y: top + h + 6 + row * lh)
            }
        }
        if let r = reference {
            let yy = py(r)
            var xx = left
            while xx < left + w { c.fill(x: xx, y: yy, w: min(4, left + w - xx), h: 1, StatsCharts.Style.stageRule); xx += 8 }
        }
        c.stroke(x: left - 1, y: top - 1, w: w + 2, h: h + 2, StatsCharts.Style.axis)
        let clip = (x: left, y: top, w: w, h: h)
        for s in series {
            let pts = s.points.filter { $0.y.isFinite }.map { (px($0.x), py($0.y)) }
            for (a, b) in zip(pts, pts.dropFirst()) {
                c.line(x0: a.0, y0: a.1, x1: b.0, y1: b.1, s.color, thickness: 2, clip: clip)
            }
            for p in pts { c.fill(x: p.0 - 2, y: p.1 - 2, w: 5, h: 5, s.color) }
        }
        let xl = xLabel
        c.text(xl, x: left + (w - Canvas.textWidth(xl)) / 2, y: top + h + 6 + lh * (categories.isEmpty ? 1 : 2), FigureStyle.mutedText)
    }

    /// Where each legend entry (a colour swatch and its label) goes, wrapped to `width`, and the
    /// legend's height.
    static func legendLayout(_ labels: [String], width: Int) -> (positions: [(x: Int, y: Int)], height: Int) {
        var lx = 0, ly = 0
        var out: [(Int, Int)] = []
        for label in labels {
            let w = 16 + Canvas.textWidth(label) + 16
            if lx + w > width && lx > 0 { lx = 0; ly += Canvas.lineHeight + 2 }
            out.append((lx, ly))
            lx += w
        }
        return (out.map { (x: $0.0, y: $0.1) }, ly + Canvas.lineHeight)
    }

    static func drawLegend(_ entries: [(String, RGB)], on c: inout Canvas, x: Int, y: Int, width: Int) {
        let layout = legendLayout(entries.map(\.0), width: width)
        for ((label, color), p) in zip(entries, layout.positions) {
            c.fill(x: x + p.x, y: y + p.y + 3, w: 12, h: 3, color)
            c.text(label, x: x + p.x + 16, y: y + p.y)
        }
    }
}
