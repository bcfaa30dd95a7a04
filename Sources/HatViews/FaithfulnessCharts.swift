// The figures of `hatscope faithfulness`: curves.png (deletion and insertion curves per saliency
// source, mean over images, with each source's mean AUC in the legend) and sanity.png (the mean
// Spearman correlation between the trained model's map and the map after each step of cascading
// randomisation, per source; flagged sources named).
import Foundation
import HatImaging

public enum FaithfulnessCharts {
    /// A colour per source (Okabe-Ito, readable with colour-blindness; random in gray).
    static func color(_ s: SaliencySource) -> RGB {
        switch s {
        case .occlusion: return (213, 94, 0)
        case .rollout: return (0, 114, 178)
        case .carrier: return (230, 159, 0)
        case .lastBlockStage3: return (0, 158, 115)
        case .lastBlockStage4: return (204, 121, 167)
        case .random: return (128, 128, 128)
        }
    }

    /// The x position of every curve point: the fraction of stage-3 tokens removed or revealed.
    static func fractions(_ summary: FaithfulnessSummary, tokens: Int) -> [Double] {
        FaithfulnessMetrics.counts(tokens: tokens, steps: summary.steps).map { Double($0) / Double(max(tokens, 1)) }
    }

    static func fmt(_ v: Double?) -> String { v.map { String(format: "%.3f", $0) } ?? "n/a" }

    /// Header lines (title, subtitle, wrapped notes) drawn at the top; returns the y below them.
    static func header(_ c: inout Canvas, _ title: String, _ sub: String, _ notes: [String], width: Int) -> Int {
        c.text(title, x: 10, y: 10)
        c.text(sub, x: 10, y: 10 + Canvas.lineHeight, FigureStyle.mutedText)
        var y = 10 + 2 * Canvas.lineHeight + 4
        for n in notes {
            for l in Canvas.wrap(n, maxWidth: width - 20) { c.text(l, x: 10, y: y, FigureStyle.mutedText); y += Canvas.lineHeight }
        }
        return y + 6
    }

    static func headerHeight(_ notes: [String], width: Int) -> Int {
        10 + 2 * Canvas.lineHeight + 4 + notes.reduce(0) { $0 + Canvas.wrap($1, maxWidth: width - 20).count } * Canvas.lineHeight + 6
    }

    /// Deletion (left) and insertion (right) curves, mean over images, one line per source.
    public static func curves(_ summary: FaithfulnessSummary, model: String, tokens: Int, scale: Int = 2) -> RGBImage {
        let x = fractions(summary, tokens: tokens)
        func chart(_ deletion: Bool) -> LineChart {
            let series = summary.sourceOrder.compactMap { s -> LineChart.Series? in
                guard let sums = summary.sources[s.rawValue] else { return nil }
                let curve = deletion ? sums.deletionCurve : sums.insertionCurve
                return LineChart.Series(label: s.rawValue, color: color(s),
                                        points: zip(x, curve).map { ($0, $1.mean ?? .nan) })
            }
            return LineChart(title: deletion ? "deletion (lower area = better)" : "insertion (higher area = better)",
                             xLabel: deletion ? "fraction of stage-3 tokens removed, most salient first"
                                              : "fraction of stage-3 tokens revealed, most salient first",
                             yLabel: "probability of the clean top-1 class", x: 0 ... 1, y: 0 ... 1, series: series)
        }
        let left = chart(true), right = chart(false)
        let width = 10 + left.size.width + 20 + right.size.width + 10
        let notes = [
            "Removed tokens: their input pixels set to 0 after normalisation (the mean colour); insertion starts from every token removed. \(summary.steps) steps over \(tokens) tokens.",
        ]
        let entries = summary.sourceOrder.map { s -> (String, RGB) in
            let sums = summary.sources[s.rawValue]
            return ("\(s.rawValue): deletion AUC \(fmt(sums?.deletionAUC.mean)), insertion AUC \(fmt(sums?.insertionAUC.mean))", color(s))
        }
        let legendH = LineChart.legendLayout(entries.map(\.0), width: width - 20).height
        let top = headerHeight(notes, width: width)
        let height = top + max(left.size.height, right.size.height) + 8 + legendH + 10
        var c = Canvas(width: width, height: height)
        _ = header(&c, "Deletion and insertion curves, mean over \(summary.images) image(s)",
                   "\(model); class = the clean image's top-1", notes, width: width)
        left.draw(on: &c, x: 10, y: top)
        right.draw(on: &c, x: 10 + left.size.width + 20, y: top)
        LineChart.drawLegend(entries, on: &c, x: 10, y: top + max(left.size.height, right.size.height) + 8, width: width - 20)
        return StatsCharts.enlarge(c.image, scale)
    }

    /// Mean Spearman correlation with the trained model's map after each randomisation step.
    public static func sanity(_ summary: FaithfulnessSummary, model: String, scale: Int = 2) -> RGBImage {
        let steps = ["trained"] + summary.sanitySteps.map { "+" + $0 }
        let flagged = Set(summary.flagged)
        let series = summary.sourceOrder.compactMap { s -> LineChart.Series? in
            guard let sums = summary.sources[s.rawValue], sums.sanity.contains(where: { $0.count > 0 }) else { return nil }
            return LineChart.Series(label: s.rawValue, color: color(s),
                                    points: [(0, 1)] + sums.sanity.enumerated().map { (Double($0.offset + 1), $0.element.mean ?? .nan) })
        }
        let counts = summary.sources.values.compactMap { $0.sanity.first?.count }.max() ?? 0
        let chart = LineChart(title: "Spearman rank correlation with the trained model's map",
                              xLabel: "weights randomised from the head down (cumulative)", yLabel: "mean over images",
                              x: 0 ... Double(max(steps.count - 1, 1)), y: -0.5 ... 1, categories: steps, series: series,
                              reference: FaithfulnessSummary.unchangedCorrelation)
        let width = max(10 + chart.size.width + 10, 520)
        let notes = [
            "Cascading randomisation (Adebayo et al. 2018): each step replaces the weights of one more part of the model, from the classification head down, with seeded Gaussian values of the trained tensor's mean and standard deviation; a faithful map changes (correlation falls).",
            "Flagged (map does not change): mean correlation >= \(FaithfulnessSummary.unchangedCorrelation) with every part randomised: "
                + (flagged.isEmpty ? "none." : summary.sourceOrder.filter { flagged.contains($0) }.map(\.rawValue).joined(separator: ", ") + "."),
        ]
        let entries = series.map { s -> (String, RGB) in
            (s.label + (flagged.contains(SaliencySource(rawValue: s.label) ?? .random) ? " (flagged)" : ""), s.color)
        } + [("dashed: flag threshold \(FaithfulnessSummary.unchangedCorrelation)", StatsCharts.Style.stageRule)]
        let legendH = LineChart.legendLayout(entries.map(\.0), width: width - 20).height
        let top = headerHeight(notes, width: width)
        var c = Canvas(width: width, height: top + chart.size.height + 8 + legendH + 10)
        _ = header(&c, "Sanity check: cascading weight randomisation, \(counts) image(s)", model, notes, width: width)
        chart.draw(on: &c, x: 10, y: top)
        LineChart.drawLegend(entries, on: &c, x: 10, y: top + chart.size.height + 8, width: width - 20)
        return StatsCharts.enlarge(c.image, scale)
    }
}
