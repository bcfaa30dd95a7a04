// The figure of an occlusion-sensitivity map (`hatscope occlude`), in the style of `export`: the
// network input with the drop of the class's probability painted over the stage's tokens (each
// patch's value on its tokens), the stage's window grid, a title line, a colour bar with its unit,
// the numbers and what the picture shows.
import Foundation
import HatImaging
import HatRecording

public struct SensitivityFigure {
    public var model: String
    public var stage: Int
    /// Pixels per token of the stage.
    public var stride: Int
    public var rows: Int, cols: Int
    /// Probability drop per token [rows, cols] (clean - occluded); NaN: not covered.
    public var drop: [Float]
    public var windowRects: [PixelRect]
    public var patchDescription: String
    public var className: String
    public var cleanProbability: Double

    public init(model: String, stage: Int, stride: Int, rows: Int, cols: Int, drop: [Float], windowRects: [PixelRect],
                patchDescription: String, className: String, cleanProbability: Double) {
        self.model = model; self.stage = stage; self.stride = stride; self.rows = rows; self.cols = cols; self.drop = drop
        self.windowRects = windowRects; self.patchDescription = patchDescription; self.className = className
        self.cleanProbability = cleanProbability
    }

    /// The view the figure renderer draws (the kind is not read by the renderer).
    public var view: ViewResult {
        let finite = drop.filter(\.isFinite)
        let lo = min(0, finite.min() ?? 0), hi = max(finite.max() ?? 0, lo + 1e-6)
        var overlays = Overlays()
        overlays.windowRects = windowRects
        var numbers: [(String, String)] = [
            ("clean probability", ViewStats.percent(Float(cleanProbability))),
            ("largest drop", String(format: "%+.2f points", Double(finite.max() ?? 0) * 100)),
            ("patch", patchDescription),
        ]
        if let i = drop.indices.filter({ drop[$0].isFinite }).max(by: { drop[$0] < drop[$1] }) {
            numbers.append(("most sensitive token", "r\(i / cols) c\(i % cols)"))
        }
        if lo < 0 { numbers.append(("largest rise", String(format: "%+.2f points", Double(-lo) * 100))) }
        return ViewResult(
            kind: .energy,
            title: "occlusion sensitivity | \(model) | stage \(stage) | class \(className)",
            explanation: [
                "Each patch of stage-\(stage) tokens (\(patchDescription)) was set to the mean colour (0 after normalisation) in its own copy of the image; colours show how much the probability of \"\(className)\" fell when that patch was hidden.",
                "Below 0: hiding the patch raised the probability. The white lines are the stage's attention windows.",
            ],
            field: Field(rows: rows, cols: cols, cellSize: stride, values: drop), matrix: nil, overlays: overlays,
            rangeMin: lo, rangeMax: hi, scaleLabel: "probability drop (clean - occluded)", numbers: numbers)
    }

    public func render(input: RGBImage, options: FigureOptions = .init()) -> RGBImage {
        FigureRenderer.render(view, input: input, options: options)
    }
}
