// Draws a ViewResult as a figure: the network input (un-normalised) with the view's token cells as
// crisp squares on top, window grid, carrier pooling boxes and the query outlined; the view's
// matrix beside it; a title line, a colorbar with its range and scale label, the view's numbers
// and its explanation underneath.
//
// Layout (canvas pixels, top to bottom): margin, title, body (image | matrix), colorbar, numbers,
// explanation, margin. The image is scaled by an integer factor with nearest-neighbour sampling,
// so pixels and token cells stay sharp.
import HatImaging
import HatRecording

public struct FigureOptions: Sendable, Equatable {
    public var colormap: Colormap
    /// Opacity of the token cells over the image: 0 = image only, 1 = colours only.
    public var opacity: Float
    /// Integer upscale of the input image (224 px inputs are small on a screen).
    public var scale: Int
    /// Draw the numbers and the explanation under the colorbar.
    public var showText: Bool
    /// Colour range to use instead of the view's own (montages with a shared scale).
    public var rangeOverride: ClosedRange<Float>?

    public init(colormap: Colormap = .default, opacity: Float = 0.7, scale: Int = 2, showText: Bool = true,
                rangeOverride: ClosedRange<Float>? = nil) {
        self.colormap = colormap; self.opacity = min(max(opacity, 0), 1); self.scale = min(max(scale, 1), 16)
        self.showText = showText; self.rangeOverride = rangeOverride
    }
}

public enum FigureRenderer {
    static let margin = 10
    static let colorbarHeight = 12

    /// The network input as an 8-bit picture: recording.input [1, 3, H, W] times the ImageNet std
    /// plus the mean, times 255, rounded and clamped. A recording without an input gives gray.
    public static func inputImage(_ rec: Recording) -> RGBImage {
        let w = rec.inputWidth, h = rec.inputHeight
        guard w > 0, h > 0, rec.input.count == 3 * w * h else {
            return RGBImage(width: max(w, 1), height: max(h, 1), fill: (128, 128, 128))
        }
        var px = [UInt8](repeating: 0, count: w * h * 3)  // (H, W, 3)
        let mean = ModelConfig.imagenetMean, std = ModelConfig.imagenetStd
        for c in 0 ..< 3 {
            let plane = c * w * h  // input: (1, 3, H, W)
            for i in 0 ..< w * h {
                let v = (rec.input[plane + i] * std[c] + mean[c]) * 255
                px[i * 3 + c] = UInt8(min(max(v.rounded(), 0), 255))
            }
        }
        return RGBImage(width: w, height: h, pixels: px)
    }

    /// The whole figure for one view.
    public static func render(_ view: ViewResult, recording: Recording, options: FigureOptions = .init()) -> RGBImage {
        render(view, input: inputImage(recording), options: options)
    }

    /// The whole figure for one view over an already un-normalised input image.
    public static func render(_ view: ViewResult, input: RGBImage, options: FigureOptions = .init()) -> RGBImage {
        let body = Body(view: view, input: input, options: options)
        let m = margin
        let contentWidth = max(body.width, 360)
        let lh = Canvas.lineHeight
        let titleLines = Canvas.wrap(view.title, maxWidth: contentWidth)
        let numberLines = options.showText
            ? Canvas.wrapItems(view.numbers.map { "\($0.0): \($0.1)" }, separator: "  |  ", maxWidth: contentWidth) : []
        let explanationLines = options.showText
            ? view.explanation.flatMap { Canvas.wrap($0, maxWidth: contentWidth) } : []

        var height = m + titleLines.count * lh + 4 + body.height + 8
        let barWidth = min(max(body.imageWidth, 200), contentWidth)
        let barHeight = colorbarBlockHeight(width: barWidth, range: body.range, label: view.scaleLabel)
        height += barHeight
        if !numberLines.isEmpty { height += 6 + numberLines.count * lh }
        if !explanationLines.isEmpty { height += 6 + explanationLines.count * lh }
        height += m

        var canvas = Canvas(width: contentWidth + 2 * m, height: height)
        var y = m
        for line in titleLines { canvas.text(line, x: m, y: y); y += lh }
        y += 4
        assert(y == bodyOrigin(view, input: input, options: options).y)
        body.draw(on: &canvas, x: m, y: y)
        y += body.height + 8
        drawColorbar(on: &canvas, x: m, y: y, width: barWidth, range: body.range, label: view.scaleLabel,
                     colormap: options.colormap)
        y += barHeight
        if !numberLines.isEmpty {
            y += 6
            for line in numberLines { canvas.text(line, x: m, y: y); y += lh }
        }
        if !explanationLines.isEmpty {
            y += 6
            for line in explanationLines { canvas.text(line, x: m, y: y, FigureStyle.mutedText); y += lh }
        }
        return canvas.image
    }

    /// Canvas pixel of the body's top-left corner in `render`'s figure: the input image's pixel
    /// (0, 0) lands there (scaled by options.scale), and the matrix starts `Body.gap` pixels right
    /// of the image. For callers that annotate figures, and for tests.
    public static func bodyOrigin(_ view: ViewResult, input: RGBImage, options: FigureOptions = .init()) -> (x: Int, y: Int) {
        let body = Body(view: view, input: input, options: options)
        let titleLines = Canvas.wrap(view.title, maxWidth: max(body.width, 360))
        return (margin, margin + titleLines.count * Canvas.lineHeight + 4)
    }

    /// Canvas pixel of matrix cell (row, col)'s top-left corner in `render`'s figure, and the
    /// cell's side in pixels; nil when the view has no matrix.
    public static func matrixCellOrigin(_ view: ViewResult, input: RGBImage, options: FigureOptions = .init(),
                                        row: Int, col: Int) -> (x: Int, y: Int, cell: Int)? {
        let body = Body(view: view, input: input, options: options)
        guard let m = body.matrix else { return nil }
        let o = bodyOrigin(view, input: input, options: options)
        let p = m.cellOrigin(x: o.x + body.imageWidth + Body.gap, y: o.y, row: row, col: col)
        return (p.x, p.y, m.cell)
    }

    /// Whether the scale label fits between the minimum and maximum under a bar `width` wide.
    static func labelFitsUnderBar(width: Int, range: (min: Float, max: Float), label: String) -> Bool {
        Canvas.textWidth(label) <= max(width, 16) - Canvas.textWidth(ViewStats.fmt(range.min))
            - Canvas.textWidth(ViewStats.fmt(range.max)) - 12
    }

    /// Height of the colour scale with its text lines.
    static func colorbarBlockHeight(width: Int, range: (min: Float, max: Float), label: String) -> Int {
        colorbarHeight + 2 + Canvas.lineHeight
            + (labelFitsUnderBar(width: width, range: range, label: label) ? 0 : Canvas.lineHeight)
    }

    /// A horizontal colour scale: the gradient, the minimum under its left end, the maximum under
    /// its right end and the scale label between them (or on the next line when there is no room).
    static func drawColorbar(on canvas: inout Canvas, x: Int, y: Int, width: Int, range: (min: Float, max: Float),
                             label: String, colormap: Colormap) {
        let w = max(width, 16)
        for i in 0 ..< w {
            let t = Float(i) / Float(max(w - 1, 1))
            canvas.fill(x: x + i, y: y, w: 1, h: colorbarHeight, colormap.rgb(t))
        }
        canvas.stroke(x: x - 1, y: y - 1, w: w + 2, h: colorbarHeight + 2, FigureStyle.frame)
        let ty = y + colorbarHeight + 2
        let lo = ViewStats.fmt(range.min), hi = ViewStats.fmt(range.max)
        canvas.text(lo, x: x, y: ty)
        let hiW = Canvas.textWidth(hi)
        canvas.text(hi, x: x + w - hiW, y: ty)
        let lw = Canvas.textWidth(label)
        if labelFitsUnderBar(width: w, range: range, label: label) {
            canvas.text(label, x: x + (w - lw) / 2, y: ty, FigureStyle.mutedText)
        } else {
            canvas.text(label, x: x, y: ty + Canvas.lineHeight, FigureStyle.mutedText)
        }
    }
}

/// The figure's body: the input image with the field and overlays, and the matrix beside it.
/// Also the unit a montage tiles.
struct Body {
    let view: ViewResult
    let input: RGBImage
    let options: FigureOptions
    let matrix: MatrixLayout?
    let range: (min: Float, max: Float)
    static let gap = 14

    init(view: ViewResult, input: RGBImage, options: FigureOptions) {
        self.view = view; self.input = input; self.options = options
        if let r = options.rangeOverride { range = (r.lowerBound, r.upperBound) } else {
            range = (view.rangeMin, view.rangeMax)
        }
        matrix = view.matrix.map { MatrixLayout($0, available: input.height * options.scale) }
    }

    var imageWidth: Int { input.width * options.scale }
    var imageHeight: Int { input.height * options.scale }
    var width: Int { imageWidth + (matrix.map { Body.gap + $0.width } ?? 0) }
    var height: Int { max(imageHeight, matrix?.height ?? 0) }

    /// Maps a value to [0, 1] on the colour scale.
    func unit(_ v: Float) -> Float {
        let span = range.max - range.min
        return span > 0 ? (v - range.min) / span : (v > range.min ? 1 : 0)
    }

    func draw(on canvas: inout Canvas, x: Int, y: Int) {
        let s = options.scale
        canvas.blit(input, x: x, y: y, factor: s)
        let clip = (x: x, y: y, w: imageWidth, h: imageHeight)
        if let f = view.field {
            let cell = f.cellSize * s
            for r in 0 ..< f.rows {
                for c in 0 ..< f.cols {
                    let v = f.values[r * f.cols + c]
                    guard !v.isNaN else { continue }
                    canvas.blend(x: x + c * cell, y: y + r * cell, w: cell, h: cell,
                                 options.colormap.rgb(unit(v)), alpha: options.opacity, clip: clip)
                }
            }
        }
        drawOverlays(on: &canvas, x: x, y: y, clip: clip)
        if let m = matrix {
            m.draw(on: &canvas, x: x + imageWidth + Body.gap, y: y, body: self)
        }
    }

    private func drawOverlays(on canvas: inout Canvas, x: Int, y: Int, clip: (x: Int, y: Int, w: Int, h: Int)) {
        let s = options.scale
        let o = view.overlays
        func rect(_ r: PixelRect, _ color: RGB, thickness: Int = 1, dash: Int = 0, alpha: Float = 1) {
            canvas.stroke(x: x + r.x0 * s, y: y + r.y0 * s, w: r.width * s, h: r.height * s, color,
                          thickness: thickness, dash: dash, alpha: alpha, clip: clip)
        }
        for r in o.windowRects { rect(r, FigureStyle.windowGrid, alpha: 0.55) }
        for r in o.carrierBoxes { rect(r, FigureStyle.carrierBox, dash: 3 * s, alpha: 0.6) }
        for r in o.highlightedBoxes { rect(r, FigureStyle.highlightedCarrierBox, thickness: s, dash: 4 * s) }
        if let r = o.selectedWindow { rect(r, FigureStyle.selectedWindow, thickness: 2 * s) }
        if let r = o.query {
            // A red outline with a thin white inner line: visible on any colormap colour.
            rect(r, FigureStyle.query, thickness: max(2, s + 1))
            let t = max(2, s + 1)
            canvas.stroke(x: x + r.x0 * s + t, y: y + r.y0 * s + t, w: r.width * s - 2 * t, h: r.height * s - 2 * t,
                          (255, 255, 255), clip: clip)
        }
    }
}
