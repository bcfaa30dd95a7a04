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
    /// A stepped palette instead of the smooth colour map (terminals with few colours): value
    /// fraction t takes steps[floor(t * count)]. Figures leave it nil.
    public var steps: [RGB]?

    public init(colormap: Colormap = .default, opacity: Float = 0.7, scale: Int = 2, showText: Bool = true,
                rangeOverride: ClosedRange<Float>? = nil, steps: [RGB]? = nil) {
        self.colormap = colormap; self.opacity = min(max(opacity, 0), 1); self.scale = min(max(scale, 1), 16)
        self.showText = showText; self.rangeOverride = rangeOverride; self.steps = steps
    }

    /// The colour map `view` is drawn with: the diverging one for a difference (whatever map was
    /// chosen), else the chosen one.
    public func colormap(for view: ViewResult) -> Colormap { view.diverging ? .diverging : colormap }

    public static func == (a: FigureOptions, b: FigureOptions) -> Bool {
        a.colormap == b.colormap && a.opacity == b.opacity && a.scale == b.scale && a.showText == b.showText
            && a.rangeOverride == b.rangeOverride
            && a.steps?.map { [$0.0, $0.1, $0.2] } == b.steps?.map { [$0.0, $0.1, $0.2] }
    }
}

public enum FigureRenderer {
    static let margin = 10
    static let colorbarHeight = 12

    /// The network input as an 8-bit picture: recording.input [1, 3, H, W] times the ImageNet std
    /// plus the mean, times 255, rounded and clamped. A recording without an input gives gray.
    public static func inputImage(_ rec: Recording) -> RGBImage {
        inputImage(rec.input, height: rec.inputHeight, width: rec.inputWidth)
    }

    /// The same for a network input [1, 3, height, width].
    public static func inputImage(_ input: [Float], height h: Int, width w: Int) -> RGBImage {
        guard w > 0, h > 0, input.count == 3 * w * h else {
            return RGBImage(width: max(w, 1), height: max(h, 1), fill: (128, 128, 128))
        }
        var px = [UInt8](repeating: 0, count: w * h * 3)  // (H, W, 3)
        let mean = ModelConfig.imagenetMean, std = ModelConfig.imagenetStd
        for c in 0 ..< 3 {
            let plane = c * w * h  // input: (1, 3, H, W)
            for i in 0 ..< w * h {
                let v = (input[plane + i] * std[c] + mean[c]) * 255
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
                     colormap: options.colormap(for: view), markZero: view.diverging)
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
    /// its right end and the scale label between them (or on the next line when there is no room);
    /// `markZero` (a difference, symmetric range): a tick at 0 in the middle.
    static func drawColorbar(on canvas: inout Canvas, x: Int, y: Int, width: Int, range: (min: Float, max: Float),
                             label: String, colormap: Colormap, markZero: Bool = false) {
        let w = max(width, 16)
        for i in 0 ..< w {
            let t = Float(i) / Float(max(w - 1, 1))
            canvas.fill(x: x + i, y: y, w: 1, h: colorbarHeight, colormap.rgb(t))
        }
        canvas.stroke(x: x - 1, y: y - 1, w: w + 2, h: colorbarHeight + 2, FigureStyle.frame)
        if markZero && range.min < 0 && range.max > 0 {
            let zx = x + Int((Float(w - 1) * (-range.min / (range.max - range.min))).rounded())
            canvas.fill(x: zx, y: y - 3, w: 1, h: colorbarHeight + 6, FigureStyle.frame)
        }
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
/// Also the unit a montage tiles, and (at any pixel size, `ScreenPicture`) the terminal's picture.
struct Body {
    let view: ViewResult
    let input: RGBImage
    let options: FigureOptions
    let matrix: MatrixLayout?
    let range: (min: Float, max: Float)
    /// Output pixels per input pixel: options.scale for figures, any positive value on a screen.
    let scale: Double
    /// False: the matrix alone (a matrix view on a screen), no image.
    let showImage: Bool
    static let gap = 14

    init(view: ViewResult, input: RGBImage, options: FigureOptions) {
        self.init(view: view, input: input, options: options, scale: Double(options.scale))
    }

    /// `matrixLayout`: how to lay out the matrix (default: as tall as the image, its text at
    /// `textScale`).
    init(view: ViewResult, input: RGBImage, options: FigureOptions, scale: Double, showImage: Bool = true,
         matrixLayout: MatrixLayout? = nil, textScale: Int = 1) {
        self.view = view; self.input = input; self.options = options
        self.scale = scale; self.showImage = showImage
        if let r = options.rangeOverride { range = (r.lowerBound, r.upperBound) } else {
            range = (view.rangeMin, view.rangeMax)
        }
        let imageH = showImage ? Int((Double(input.height) * scale).rounded(.down)) : 0
        matrix = matrixLayout ?? view.matrix.map { MatrixLayout($0, available: imageH, textScale: textScale) }
    }

    var imageWidth: Int { showImage ? Int((Double(input.width) * scale).rounded(.down)) : 0 }
    var imageHeight: Int { showImage ? Int((Double(input.height) * scale).rounded(.down)) : 0 }
    /// Left edge of the matrix inside the body.
    var matrixX: Int { showImage ? imageWidth + Body.gap : 0 }
    var width: Int { matrix.map { matrixX + $0.width } ?? imageWidth }
    var height: Int { max(imageHeight, matrix?.height ?? 0) }

    /// Maps a value to [0, 1] on the colour scale.
    func unit(_ v: Float) -> Float {
        let span = range.max - range.min
        return span > 0 ? (v - range.min) / span : (v > range.min ? 1 : 0)
    }

    /// The colour of a value: the colour map, or its stepped palette when the options give one.
    func color(_ v: Float) -> RGB {
        guard let steps = options.steps, !steps.isEmpty else { return options.colormap(for: view).rgb(unit(v)) }
        let i = Int((min(max(unit(v), 0), 1) * Float(steps.count)).rounded(.down))
        return steps[min(i, steps.count - 1)]
    }

    /// Input pixel edge `v` (or a token edge in input pixels) in body pixels.
    @inline(__always) func px(_ v: Int) -> Int { Int((Double(v) * scale).rounded(.down)) }

    func draw(on canvas: inout Canvas, x: Int, y: Int) {
        if showImage { drawImage(on: &canvas, x: x, y: y) }
        if let m = matrix {
            m.draw(on: &canvas, x: x + matrixX, y: y, body: self)
        }
    }

    private func drawImage(on canvas: inout Canvas, x: Int, y: Int) {
        let whole = scale.rounded(.down)
        if scale >= 1 && scale == whole {
            canvas.blit(input, x: x, y: y, factor: Int(whole))
        } else {
            canvas.blit(Resample.toSize(input, width: imageWidth, height: imageHeight), x: x, y: y)
        }
        let clip = (x: x, y: y, w: imageWidth, h: imageHeight)
        if let f = view.field {
            for r in 0 ..< f.rows {
                let y0 = px(r * f.cellSize), y1 = px((r + 1) * f.cellSize)
                for c in 0 ..< f.cols {
                    let v = f.values[r * f.cols + c]
                    guard !v.isNaN else { continue }
                    let x0 = px(c * f.cellSize), x1 = px((c + 1) * f.cellSize)
                    canvas.blend(x: x + x0, y: y + y0, w: x1 - x0, h: y1 - y0, color(v), alpha: options.opacity, clip: clip)
                }
            }
        }
        drawOverlays(on: &canvas, x: x, y: y, clip: clip)
    }

    private func drawOverlays(on canvas: inout Canvas, x: Int, y: Int, clip: (x: Int, y: Int, w: Int, h: Int)) {
        // Line widths and dashes follow the scale (at least one pixel, so they survive small screens).
        let s = max(1, Int(scale.rounded()))
        let o = view.overlays
        func rect(_ r: PixelRect, _ color: RGB, thickness: Int = 1, dash: Int = 0, alpha: Float = 1) {
            let x0 = px(r.x0), y0 = px(r.y0)
            canvas.stroke(x: x + x0, y: y + y0, w: px(r.x0 + r.width) - x0, h: px(r.y0 + r.height) - y0, color,
                          thickness: thickness, dash: dash, alpha: alpha, clip: clip)
        }
        for r in o.windowRects { rect(r, FigureStyle.windowGrid, alpha: 0.55) }
        // Occluded boxes: the mean colour over them (what the network is fed there), outlined.
        for r in o.occluded {
            let x0 = px(r.x0), y0 = px(r.y0)
            canvas.blend(x: x + x0, y: y + y0, w: px(r.x0 + r.width) - x0, h: px(r.y0 + r.height) - y0,
                         FigureStyle.occluded, alpha: 0.75, clip: clip)
            rect(r, FigureStyle.occludedOutline, dash: max(2, 2 * s), alpha: 0.8)
        }
        for r in o.carrierBoxes { rect(r, FigureStyle.carrierBox, dash: 3 * s, alpha: 0.6) }
        // Below one pixel per input pixel (half blocks) lines stay one pixel wide and dashes short.
        let small = scale < 1
        for r in o.highlightedBoxes {
            rect(r, FigureStyle.highlightedCarrierBox, thickness: s, dash: small ? 2 : 4 * s)
        }
        if let r = o.selectedWindow { rect(r, FigureStyle.selectedWindow, thickness: small ? 1 : 2 * s) }
        // The route (the tour's path between windows): each stop outlined, a line between
        // consecutive stops' centres.
        for r in o.path { rect(r, FigureStyle.path, thickness: small ? 1 : s) }
        for (a, b) in zip(o.path, o.path.dropFirst()) {
            canvas.line(x0: x + Int(a.centerX * scale), y0: y + Int(a.centerY * scale),
                        x1: x + Int(b.centerX * scale), y1: y + Int(b.centerY * scale),
                        FigureStyle.path, thickness: small ? 1 : max(2, s), clip: clip)
        }
        if let r = o.brush { rect(r, FigureStyle.brush, thickness: small ? 1 : max(2, s)) }
        if let r = o.query {
            // A red outline with a thin white inner line: visible on any colormap colour.
            let t = small ? 1 : max(2, s + 1)
            rect(r, FigureStyle.query, thickness: t)
            let x0 = px(r.x0), y0 = px(r.y0), w = px(r.x0 + r.width) - x0, h = px(r.y0 + r.height) - y0
            if !small || (w - 2 * t >= 3 && h - 2 * t >= 3) {
                canvas.stroke(x: x + x0 + t, y: y + y0 + t, w: w - 2 * t, h: h - 2 * t, (255, 255, 255), clip: clip)
            }
        }
    }
}
