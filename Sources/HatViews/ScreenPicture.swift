// The figure's body (input image, field, window grid, carrier boxes, query, the matrix beside it)
// drawn by the figure code itself at a screen's pixel size: the terminal's pixel protocols and
// half blocks show exactly the colours the PNG figures have. Also where each part landed, so a
// click can be mapped back to a token or a matrix row.
import HatImaging

/// Where a matrix's entries are inside a ScreenPicture, in picture pixels.
public struct MatrixGrid: Equatable, Sendable {
    public var x: Int, y: Int
    /// Side of one entry in pixels.
    public var cell: Int
    public var rows: Int, cols: Int
    /// The carrier rows / columns come first, then a `separator`-pixel gap (0 without one).
    public var markedRows: Int, markedCols: Int
    public var separatorRows: Int, separatorCols: Int

    /// The (row, col) under picture pixel (px, py), nil on a gap or outside.
    public func entry(x px: Int, y py: Int) -> (row: Int, col: Int)? {
        func index(_ v: Int, _ marked: Int, _ sep: Int, _ n: Int) -> Int? {
            guard v >= 0 else { return nil }
            if v < marked * cell { return v / cell }
            let after = v - marked * cell - sep
            guard after >= 0 else { return nil }
            let i = marked + after / cell
            return i < n ? i : nil
        }
        guard let r = index(py - y, markedRows, separatorRows, rows),
              let c = index(px - x, markedCols, separatorCols, cols) else { return nil }
        return (r, c)
    }

    /// Pixel rows [top, bottom) of matrix row `r`.
    public func rowSpan(_ r: Int) -> (top: Int, bottom: Int) {
        let top = y + r * cell + (r >= markedRows ? separatorRows : 0)
        return (top, top + cell)
    }
}

public struct ScreenPicture: Sendable {
    /// The picture, background included: exactly the size asked for.
    public var image: RGBImage
    /// The input image's place: its top-left pixel and output pixels per input pixel (nil when
    /// the picture is a matrix alone).
    public var imageOrigin: (x: Int, y: Int)?
    public var imageSize: (width: Int, height: Int)
    public var scale: Double
    public var matrix: MatrixGrid?
    /// The drawn part (image and matrix) inside the picture; the rest is background.
    public var body: (x: Int, y: Int, width: Int, height: Int)

    /// Input-pixel coordinates of picture pixel (px, py), nil outside the input image.
    public func inputPoint(x px: Int, y py: Int) -> (x: Double, y: Double)? {
        guard let o = imageOrigin, scale > 0 else { return nil }
        let dx = px - o.x, dy = py - o.y
        guard dx >= 0, dy >= 0, dx < imageSize.width, dy < imageSize.height else { return nil }
        return ((Double(dx) + 0.5) / scale, (Double(dy) + 0.5) / scale)
    }
}

public enum ScreenPictureRenderer {
    /// Draws `view` (nil: the input image alone) into a `width` x `height` picture on
    /// `background`, centred and as large as fits. `matrixOnly`: the view's matrix alone (a matrix
    /// view). Scales of 1 or more that are within 15% of the largest fit are rounded down to a
    /// whole number, so input pixels stay equal squares; `scale` forces one (half blocks, whose
    /// cells must line up with the caller's own mapping). `textScale`: the font scale of the
    /// matrix's labels and caption (the screen's text size; figures keep 1).
    public static func render(_ view: ViewResult?, input: RGBImage, options: FigureOptions, width: Int, height: Int,
                              matrixOnly: Bool = false, scale: Double? = nil, textScale: Int = 1,
                              background: RGB) -> ScreenPicture {
        let w = max(1, width), h = max(1, height)
        var canvas = Canvas(width: w, height: h, fill: background)
        let empty = ViewResult(kind: .local, title: "", explanation: [], field: nil, matrix: nil, overlays: Overlays(),
                               rangeMin: 0, rangeMax: 1, scaleLabel: "", numbers: [])
        let v = view ?? empty
        let body: Body
        if matrixOnly, let m = v.matrix {
            body = Body(view: v, input: input, options: options, scale: 1, showImage: false,
                        matrixLayout: MatrixLayout(m, available: h, availableWidth: w, textScale: textScale))
        } else if let s = scale {
            body = Body(view: v, input: input, options: options, scale: s, textScale: textScale)
        } else {
            body = fit(v, input: input, options: options, w: w, h: h, textScale: textScale)
        }
        let x = max(0, (w - body.width) / 2), y = max(0, (h - body.height) / 2)
        body.draw(on: &canvas, x: x, y: y)
        var grid: MatrixGrid? = nil
        if let m = body.matrix {
            let o = m.cellOrigin(x: x + body.matrixX, y: y, row: 0, col: 0)
            grid = MatrixGrid(x: o.x, y: o.y, cell: m.cell, rows: m.matrix.rows, cols: m.matrix.cols,
                              markedRows: m.separatorRows > 0 ? m.matrix.markedRows : 0,
                              markedCols: m.separatorCols > 0 ? m.matrix.markedCols : 0,
                              separatorRows: m.separatorRows, separatorCols: m.separatorCols)
        }
        return ScreenPicture(image: canvas.image, imageOrigin: body.showImage ? (x, y) : nil,
                             imageSize: (body.imageWidth, body.imageHeight), scale: body.scale, matrix: grid,
                             body: (x, y, min(body.width, w - x), min(body.height, h - y)))
    }

    /// The largest body that fits w x h, its matrix's text at `textScale` or, where text that
    /// large (and the larger cells that keep one label per column) would cost the image more than
    /// a quarter of its scale, at the largest smaller scale that does not.
    static func fit(_ v: ViewResult, input: RGBImage, options: FigureOptions, w: Int, h: Int, textScale: Int = 1) -> Body {
        let plain = fit(v, input: input, options: options, w: w, h: h, fixedTextScale: 1)
        guard v.matrix != nil else { return plain }
        for ts in stride(from: textScale, to: 1, by: -1) {
            let body = fit(v, input: input, options: options, w: w, h: h, fixedTextScale: ts)
            if body.scale >= 0.75 * plain.scale { return body }
        }
        return plain
    }

    static func fit(_ v: ViewResult, input: RGBImage, options: FigureOptions, w: Int, h: Int, fixedTextScale textScale: Int) -> Body {
        var s = min(Double(w) / Double(max(1, input.width)), Double(h) / Double(max(1, input.height)))
        var body = Body(view: v, input: input, options: options, scale: s, textScale: textScale)
        // The matrix beside the image takes width: shrink until both fit (a few steps at most).
        var steps = 0
        while (body.width > w || body.height > h) && s > 0.05 && steps < 200 {
            s *= max(0.5, min(0.98, Double(w) / Double(max(1, body.width)), Double(h) / Double(max(1, body.height))))
            body = Body(view: v, input: input, options: options, scale: s, textScale: textScale)
            steps += 1
        }
        let whole = s.rounded(.down)
        if whole >= 1 && whole / s >= 0.85 && whole != s {
            body = Body(view: v, input: input, options: options, scale: whole, textScale: textScale)
        }
        return body
    }
}
