// The statistics step of the tour, drawn in terminal cells: on top a scatter of mean attention
// distance per head over the transformer blocks (the ViT paper's figure; half-block pixels, window
// attention and carrier attention in two colours), below it a blocks x heads heatmap of the window
// attention's distance with its colour scale. The numbers come from HeadStatistics (HatViews),
// the same ones `hatscope stats` writes.
import Foundation
import HatViews

enum TourStatsDrawer {
    static func draw(_ stats: HeadStatistics, rect: CellRect, theme: Theme, colormap: String, into buf: inout CellBuffer) {
        guard rect.width >= 20, rect.height >= 8, stats.depthCount > 0 else {
            buf.put("no statistics to draw", x: rect.x, y: rect.y, fg: theme.dimText, bg: theme.background, maxWidth: rect.width)
            return
        }
        // Heatmap rows: one per block; scatter gets the rest (at least 8 rows).
        let heatRows = min(stats.depthCount, max(0, rect.height - 12))
        let scatterRows = rect.height - (heatRows > 0 ? heatRows + 3 : 0)
        scatter(stats, rect: CellRect(x: rect.x, y: rect.y, width: rect.width, height: scatterRows), theme: theme, into: &buf)
        if heatRows > 0 {
            heatmap(stats, rect: CellRect(x: rect.x, y: rect.y + scatterRows + 1, width: rect.width, height: heatRows + 2),
                    theme: theme, colormap: colormap, into: &buf)
        }
    }

    /// Scatter: y axis labels on the left, half-block plot, block numbers and stage names below.
    static func scatter(_ stats: HeadStatistics, rect: CellRect, theme: Theme, into buf: inout CellBuffer) {
        // Non-finite distances (a hostile recording) are left out.
        let all = (stats.window + stats.carrier).map(\.meanDistance).filter(\.isFinite)
        let hi = StatsCharts.niceCeiling(all.max() ?? 1)
        let label = String(format: "%.0f", hi)
        let left = label.count + 1
        let plotW = rect.width - left - 1, plotRows = rect.height - 3
        guard plotW >= 8, plotRows >= 3 else { return }
        buf.put("mean attention distance (px) per head", x: rect.x, y: rect.y, fg: theme.heading, bg: theme.background,
                attributes: .bold, maxWidth: rect.width)
        let top = rect.y + 1
        var canvas = PixelCanvas(width: plotW, height: plotRows * 2, fill: theme.background)
        let depth = stats.depthCount
        func px(_ d: Double) -> Int { Int(((d + 0.5) / Double(depth) * Double(plotW)).rounded(.down)) }
        func py(_ v: Double) -> Int { canvas.height - 1 - Int((min(max(v / hi, 0), 1) * Double(canvas.height - 1)).rounded()) }
        // Axis and stage separators.
        for y in 0 ..< canvas.height { canvas[0, y] = theme.dimText }
        for x in 0 ..< canvas.width { canvas[x, canvas.height - 1] = theme.dimText }
        for st in stats.stages where st.firstDepth > 0 {
            let x = Int((Double(st.firstDepth) / Double(depth) * Double(plotW)).rounded(.down))
            for y in stride(from: 0, to: canvas.height - 1, by: 2) { canvas[x, y] = theme.windowGrid.mixed(with: theme.background, 0.6) }
        }
        for s in stats.window where s.meanDistance.isFinite { canvas[px(Double(s.depth)), py(s.meanDistance)] = theme.heading }
        for s in stats.carrier where s.meanDistance.isFinite { canvas[min(plotW - 1, px(Double(s.depth)) + 1), py(s.meanDistance)] = theme.key }
        canvas.pack(into: &buf, at: CellRect(x: rect.x + left, y: top, width: plotW, height: plotRows), below: theme.background)
        buf.put(label, x: rect.x, y: top, fg: theme.dimText, bg: theme.background)
        buf.put("0", x: rect.x + left - 2, y: top + plotRows - 1, fg: theme.dimText, bg: theme.background)
        // Stage names under their blocks, then the legend.
        for st in stats.stages {
            let x0 = rect.x + left + Int((Double(st.firstDepth) / Double(depth) * Double(plotW)).rounded(.down))
            let w = Int((Double(st.blocks) / Double(depth) * Double(plotW)).rounded(.down))
            // The longest of these that fits under the stage's blocks (it was cut mid-word).
            let names = ["stage \(st.level + 1) (\(st.blocks) block\(st.blocks == 1 ? "" : "s"))", "stage \(st.level + 1)", "s\(st.level + 1)"]
            let name = names.first { $0.count <= w } ?? names[2]
            buf.put(name, x: x0 + max(0, (w - name.count) / 2), y: top + plotRows, fg: theme.dimText, bg: theme.background,
                    maxWidth: max(1, w))
        }
        // Kept inside the plot's width: the text panel beside it showed the legend through its gaps.
        var x = rect.x + left
        let end = rect.x + rect.width
        x += buf.put("\u{2580} window attention", x: x, y: top + plotRows + 1, fg: theme.heading, bg: theme.background,
                     maxWidth: max(0, end - x))
        if !stats.carrier.isEmpty && x < end {
            buf.put("   \u{2580} carrier attention", x: x, y: top + plotRows + 1, fg: theme.key, bg: theme.background,
                    maxWidth: max(0, end - x))
        }
    }

    /// Blocks x heads heatmap of the window attention's mean distance, 0 ... the largest value.
    static func heatmap(_ stats: HeadStatistics, rect: CellRect, theme: Theme, colormap: String, into buf: inout CellBuffer) {
        let heads = max(stats.maxHeads, 1)
        let labelW = 6
        let cellW = max(1, min(3, (rect.width - labelW) / heads))
        let values = stats.window.map { Float($0.meanDistance) }.filter(\.isFinite)
        let hi = Float(StatsCharts.niceCeiling(Double(values.max() ?? 1)))
        let cmap = HeatPalette(name: colormap, min: 0, max: hi)
        buf.put("window attention distance, blocks x heads (0-\(String(format: "%.0f", Double(hi))) px)", x: rect.x, y: rect.y, fg: theme.heading,
                bg: theme.background, attributes: .bold, maxWidth: rect.width)
        var byCell: [Int: Float] = [:]
        for s in stats.window where s.meanDistance.isFinite { byCell[s.depth * heads + s.head] = Float(s.meanDistance) }
        for d in 0 ..< min(stats.depthCount, rect.height - 2) {
            let y = rect.y + 1 + d
            buf.put(StatsCharts.rowLabel(stats, depth: d), x: rect.x, y: y, fg: theme.dimText, bg: theme.background, maxWidth: labelW)
            for h in 0 ..< heads {
                let x = rect.x + labelW + h * cellW
                guard x + cellW <= rect.x + rect.width else { break }
                let c = byCell[d * heads + h].flatMap { cmap.color($0) } ?? theme.pictureBackground
                // Picture cells: the monochrome tier turns them into shades (plain blanks showed nothing).
                buf.fill(x: x, y: y, width: cellW, height: 1, with: Cell(glyph: " ", fg: c, bg: c, attributes: .picture))
            }
        }
        // Its colour scale on the row below: 0, the colours, the largest value.
        let y = rect.y + 1 + min(stats.depthCount, rect.height - 2)
        let low = "0 ", high = " " + String(format: "%.0f", Double(hi)) + " px"
        let steps = min(24, rect.width - labelW - low.count - high.count)
        guard y < rect.y + rect.height, steps >= 4 else { return }
        var x = rect.x + labelW
        x += buf.put(low, x: x, y: y, fg: theme.dimText, bg: theme.background)
        for i in 0 ..< steps {
            let c = cmap.color(atFraction: Float(i) / Float(steps - 1))
            buf[x + i, y] = Cell(glyph: " ", fg: c, bg: c, attributes: .picture)
        }
        buf.put(high, x: x + steps, y: y, fg: theme.dimText, bg: theme.background)
    }
}
