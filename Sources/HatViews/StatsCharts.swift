// Charts of `HeadStatistics` as PNG-ready images: a blocks x heads heatmap with a colorbar per
// number, and a per-head scatter over depth like the ViT paper's "mean attention distance" figure
// (x = transformer block, y = the number, one dot per head). Drawn at 1 font pixel = 1 pixel and
// then enlarged by an integer factor with nearest-neighbour sampling, so text and cells stay crisp.
import Foundation
import HatImaging
import HatRecording

/// A number the charts can show.
public enum StatsMetric: String, CaseIterable, Sendable {
    case meanDistance = "distance", normalizedEntropy = "entropy", carrierShare = "carrier_share"

    public var label: String {
        switch self {
        case .meanDistance: return "mean attention distance (input px)"
        case .normalizedEntropy: return "normalized entropy"
        case .carrierShare: return "share of attention on carrier tokens"
        }
    }

    /// How the number is computed, one sentence under each chart's title (the full text:
    /// HeadStatistics.swift, stats.json).
    public var definition: String {
        switch self {
        case .meanDistance:
            return "Per query: sum over keys of probability x distance between their centres in input pixels (a carrier at its pooling box's centre), averaged over queries."
        case .normalizedEntropy:
            return "Per query: -sum p ln p / ln(number of keys), 0 = one key, 1 = uniform; averaged over queries."
        case .carrierShare:
            return "Per window token: its attention on the window's carrier tokens, summed; averaged over tokens."
        }
    }

    func value(_ s: HeadStat) -> Double? {
        switch self {
        case .meanDistance: return s.meanDistance
        case .normalizedEntropy: return s.normalizedEntropy
        case .carrierShare: return s.carrierShare
        }
    }
}

public enum StatsCharts {
    enum Style {
        static let axis: RGB = (40, 40, 40)
        static let grid: RGB = (225, 225, 225)
        static let missing: RGB = (235, 235, 235)
        static let stageRule: RGB = (150, 150, 150)
        /// Window attention dots (blue) and carrier attention dots (orange): distinguishable in
        /// colour-blind palettes (Okabe-Ito).
        static let windowDot: RGB = (0, 114, 178)
        static let carrierDot: RGB = (230, 159, 0)
    }

    /// Every chart for `stats`, with the file name it is exported under: the distance and entropy
    /// scatters and one heatmap per (attention, number) that exists.
    public static func all(_ stats: HeadStatistics, colormap: Colormap = .default, scale: Int = 2) -> [(name: String, image: RGBImage)] {
        var out: [(String, RGBImage)] = [
            ("scatter_distance.png", scatter(stats, metric: .meanDistance, scale: scale)),
            ("scatter_entropy.png", scatter(stats, metric: .normalizedEntropy, scale: scale)),
        ]
        for kind in AttentionKind.allCases where !stats.series(kind).isEmpty {
            for m in StatsMetric.allCases where stats.series(kind).contains(where: { m.value($0) != nil }) {
                out.append(("heatmap_\(kind.rawValue)_\(m.rawValue).png",
                            heatmap(stats, metric: m, attention: kind, colormap: colormap, scale: scale)))
            }
        }
        return out
    }

    // MARK: - Heatmap

    /// Rows = transformer blocks (stage by stage), columns = heads; stages with fewer heads leave
    /// the remaining cells gray. Entropy uses the fixed range [0, 1]; distance and share 0...max.
    public static func heatmap(_ stats: HeadStatistics, metric: StatsMetric, attention: AttentionKind,
                               colormap: Colormap = .default, scale: Int = 2) -> RGBImage {
        let rows = stats.depthCount, cols = max(stats.maxHeads, 1)
        let series = stats.series(attention)
        var values = [Double?](repeating: nil, count: max(rows, 1) * cols)  // [depth, head]
        // Non-finite numbers (from a hostile recording) draw as missing cells.
        for s in series where s.depth < rows && s.head < cols { values[s.depth * cols + s.head] = metric.value(s).flatMap { $0.isFinite ? $0 : nil } }
        // Entropy is always on [0, 1]; distance and carrier share up to a round number above
        // their largest value (a carrier share of 0.0003 would be invisible on [0, 1]).
        let hi = metric == .normalizedEntropy ? 1 : niceCeiling(values.compactMap { $0 }.max() ?? 1)
        let cellW = cols > 16 ? 14 : 22, cellH = 12
        let rowLabels = (0 ..< rows).map { rowLabel(stats, depth: $0) }
        let labelW = (rowLabels.map { Canvas.textWidth($0) }.max() ?? 0) + 6
        let title = "\(metric.label): \(attention.rawValue) attention"
        let sub = "\(stats.model), \(stats.inputHeight) x \(stats.inputWidth) input, \(stats.recordings) image(s)"
        let gridW = cols * cellW, gridH = max(rows, 1) * cellH
        let left = 10 + 12 + labelW
        let barX = left + gridW + 16, barH = max(gridH, 120)
        let ticks = niceTicks(0, hi, target: 5)
        let tickW = ticks.map { Canvas.textWidth(tickText($0)) }.max() ?? 0
        let width = max(barX + 14 + 6 + tickW + 10, left + Canvas.textWidth(title) + 10, Canvas.textWidth(sub) + 20)
        let definition = Canvas.wrap(metric.definition, maxWidth: width - 20)
        let top = 10 + (2 + definition.count) * Canvas.lineHeight + 6
        let height = top + max(gridH, barH) + 14 + Canvas.lineHeight + 10
        var c = Canvas(width: width, height: height)
        c.text(title, x: 10, y: 10)
        c.text(sub, x: 10, y: 10 + Canvas.lineHeight, FigureStyle.mutedText)
        for (i, l) in definition.enumerated() { c.text(l, x: 10, y: 10 + (2 + i) * Canvas.lineHeight, FigureStyle.mutedText) }
        // Cells.
        for r in 0 ..< rows {
            for h in 0 ..< cols {
                let x = left + h * cellW, y = top + r * cellH
                if let v = values[r * cols + h] {
                    c.fill(x: x, y: y, w: cellW, h: cellH, colormap.rgb(Float(v / hi)))
                } else {
                    c.fill(x: x, y: y, w: cellW, h: cellH, Style.missing)
                }
            }
            c.text(rowLabels[r], x: left - 4 - Canvas.textWidth(rowLabels[r]), y: top + r * cellH + 1)
        }
        // Stage boundaries: a white rule between stages.
        for st in stats.stages where st.firstDepth > 0 && st.firstDepth < rows {
            c.fill(x: left - 2, y: top + st.firstDepth * cellH - 1, w: gridW + 2, h: 2, FigureStyle.windowGrid)
        }
        c.stroke(x: left - 1, y: top - 1, w: gridW + 2, h: gridH + 2, FigureStyle.frame)
        // Head ticks under the grid, every k-th so labels do not touch.
        let step = max(1, Int(ceil(Double(Canvas.textWidth(String(cols - 1)) + 4) / Double(cellW))))
        for h in stride(from: 0, to: cols, by: step) {
            let t = String(h)
            c.text(t, x: left + h * cellW + (cellW - Canvas.textWidth(t)) / 2, y: top + gridH + 3)
        }
        let headLabel = "head"
        c.text(headLabel, x: left + (gridW - Canvas.textWidth(headLabel)) / 2, y: top + gridH + 3 + Canvas.lineHeight,
               FigureStyle.mutedText)
        // Colorbar, vertical, with ticks.
        for i in 0 ..< barH {
            let t = 1 - Float(i) / Float(max(barH - 1, 1))
            c.fill(x: barX, y: top + i, w: 14, h: 1, colormap.rgb(t))
        }
        c.stroke(x: barX - 1, y: top - 1, w: 16, h: barH + 2, FigureStyle.frame)
        for t in ticks {
            let y = top + Int(((1 - t / hi) * Double(barH - 1)).rounded())
            c.fill(x: barX + 14, y: y, w: 4, h: 1, Style.axis)
            c.text(tickText(t), x: barX + 20, y: y - 4)
        }
        return enlarge(c.image, scale)
    }

    // MARK: - Scatter

    /// x = transformer block (depth), y = the metric, one dot per head: window attention in blue,
    /// carrier attention in orange (shifted right a little so both stay visible). Stages are
    /// separated by dashed rules and named under the axis.
    public static func scatter(_ stats: HeadStatistics, metric: StatsMetric, scale: Int = 2) -> RGBImage {
        let depth = max(stats.depthCount, 1)
        let all = (stats.window + stats.carrier).compactMap { metric.value($0) }.filter(\.isFinite)
        let hi = metric == .normalizedEntropy ? 1 : niceCeiling(all.max() ?? 1)
        let ticks = niceTicks(0, hi, target: 6)
        let tickW = ticks.map { Canvas.textWidth(tickText($0)) }.max() ?? 0
        let slot = max(22, min(40, 560 / depth))
        let plotW = depth * slot, plotH = 260
        let title = "\(metric.label) per head"
        let sub = "\(stats.model), \(stats.inputHeight) x \(stats.inputWidth) input, \(stats.recordings) image(s)"
        let left = 10 + Canvas.lineHeight + tickW + 8
        let width = max(left + plotW + 20, Canvas.textWidth(title) + 20, Canvas.textWidth(sub) + 20)
        let definition = Canvas.wrap(metric.definition, maxWidth: width - 20)
        let top = 10 + (4 + definition.count) * Canvas.lineHeight + 4
        let height = top + plotH + 3 * Canvas.lineHeight + 16
        var c = Canvas(width: width, height: height)
        c.text(title, x: 10, y: 10)
        c.text(sub, x: 10, y: 10 + Canvas.lineHeight, FigureStyle.mutedText)
        for (i, l) in definition.enumerated() { c.text(l, x: 10, y: 10 + (2 + i) * Canvas.lineHeight, FigureStyle.mutedText) }
        // Legend.
        var lx = 10
        let ly = 10 + (2 + definition.count) * Canvas.lineHeight
        for (label, color, present) in [("window attention", Style.windowDot, !stats.window.isEmpty),
                                        ("carrier attention", Style.carrierDot, !stats.carrier.isEmpty)] where present {
            dot(&c, x: lx + 3, y: ly + 4, color)
            c.text(label, x: lx + 10, y: ly)
            lx += 10 + Canvas.textWidth(label) + 16
        }
        func py(_ v: Double) -> Int { top + plotH - 1 - Int((min(max(v / hi, 0), 1) * Double(plotH - 1)).rounded()) }
        func px(_ d: Double) -> Int { left + Int(((d + 0.5) * Double(slot)).rounded()) }
        // Grid and y ticks.
        for t in ticks {
            let y = py(t)
            c.fill(x: left, y: y, w: plotW, h: 1, Style.grid)
            c.fill(x: left - 4, y: y, w: 4, h: 1, Style.axis)
            let s = tickText(t)
            c.text(s, x: left - 6 - Canvas.textWidth(s), y: y - 4)
        }
        // Stage rules and names.
        for st in stats.stages {
            if st.firstDepth > 0 {
                let x = left + st.firstDepth * slot
                var y = top
                while y < top + plotH { c.fill(x: x, y: y, w: 1, h: min(3, top + plotH - y), Style.stageRule); y += 6 }
            }
            let name = "stage \(st.level + 1)"
            let cx = left + st.firstDepth * slot + st.blocks * slot / 2
            c.text(name, x: cx - Canvas.textWidth(name) / 2, y: top + plotH + 4 + Canvas.lineHeight, FigureStyle.mutedText)
        }
        // Axes.
        c.fill(x: left - 1, y: top, w: 1, h: plotH, Style.axis)
        c.fill(x: left - 1, y: top + plotH, w: plotW + 1, h: 1, Style.axis)
        // x ticks: block index within its stage.
        for st in stats.stages {
            for b in 0 ..< st.blocks {
                let x = px(Double(st.firstDepth + b))
                c.fill(x: x, y: top + plotH, w: 1, h: 4, Style.axis)
                let s = String(b)
                c.text(s, x: x - Canvas.textWidth(s) / 2 + 1, y: top + plotH + 5)
            }
        }
        let xl = "transformer block (index within its stage)"
        c.text(xl, x: left + (plotW - Canvas.textWidth(xl)) / 2, y: top + plotH + 4 + 2 * Canvas.lineHeight,
               FigureStyle.mutedText)
        // Unit of the vertical axis above it (the font cannot be rotated).
        let yl = metric == .meanDistance ? "distance (px)" : (metric == .normalizedEntropy ? "entropy / ln(keys)" : "share")
        c.text(yl, x: 10, y: top - Canvas.lineHeight, FigureStyle.mutedText)
        // Dots.
        let offset = stats.carrier.isEmpty ? 0.0 : 0.15
        for s in stats.window { if let v = metric.value(s), v.isFinite { dot(&c, x: px(Double(s.depth) - offset), y: py(v), Style.windowDot) } }
        for s in stats.carrier { if let v = metric.value(s), v.isFinite { dot(&c, x: px(Double(s.depth) + offset), y: py(v), Style.carrierDot) } }
        return enlarge(c.image, scale)
    }

    // MARK: - Helpers

    /// "s3 b0": stage and block of a depth.
    public static func rowLabel(_ stats: HeadStatistics, depth: Int) -> String {
        for st in stats.stages where depth >= st.firstDepth && depth < st.firstDepth + st.blocks {
            return "s\(st.level + 1) b\(depth - st.firstDepth)"
        }
        return "d\(depth)"
    }

    /// A filled disc of radius 3 with a darker rim, so overlapping dots stay countable.
    static func dot(_ c: inout Canvas, x: Int, y: Int, _ color: RGB) {
        let rim: RGB = (UInt8(Int(color.0) * 3 / 5), UInt8(Int(color.1) * 3 / 5), UInt8(Int(color.2) * 3 / 5))
        for dy in -3 ... 3 {
            for dx in -3 ... 3 {
                let d2 = dx * dx + dy * dy
                if d2 <= 6 { c.blend(x: x + dx, y: y + dy, w: 1, h: 1, color, alpha: 0.8) }
                else if d2 <= 10 { c.blend(x: x + dx, y: y + dy, w: 1, h: 1, rim, alpha: 0.8) }
            }
        }
    }

    /// The smallest 1, 2, 2.5 or 5 times a power of ten that is >= v (1 for v <= 0).
    public static func niceCeiling(_ v: Double) -> Double {
        guard v > 0, v.isFinite else { return 1 }
        let p = pow(10, floor(log10(v)))
        for m in [1.0, 2, 2.5, 5, 10] where m * p >= v * (1 - 1e-9) { return m * p }
        return 10 * p
    }

    /// Ticks at a 1-2-5 step from lo to hi inclusive, about `target` of them.
    static func niceTicks(_ lo: Double, _ hi: Double, target: Int) -> [Double] {
        guard hi > lo else { return [lo] }
        let raw = (hi - lo) / Double(max(target - 1, 1))
        let p = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * p }.first { $0 >= raw } ?? 10 * p
        // k * step rather than a running sum, so ticks do not drift (0.30000000000000004).
        var out: [Double] = []
        var k = (lo / step).rounded(.up)
        while k * step <= hi + step * 1e-9 { out.append(k * step); k += 1 }
        return out
    }

    static func tickText(_ v: Double) -> String {
        if v == v.rounded() && abs(v) < 1e6 { return String(Int(v)) }
        if abs(v) < 0.01 { return String(format: "%.1e", v) }
        return String(format: abs(v) < 1 ? "%.3g" : "%.1f", v)
    }

    /// Nearest-neighbour enlargement by an integer factor (1 = unchanged).
    static func enlarge(_ img: RGBImage, _ scale: Int) -> RGBImage {
        let f = min(max(scale, 1), 8)
        guard f > 1 else { return img }
        var c = Canvas(width: img.width * f, height: img.height * f)
        c.blit(img, x: 0, y: 0, factor: f)
        return c.image
    }
}
