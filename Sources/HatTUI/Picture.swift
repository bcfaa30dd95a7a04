// The picture: the input image (area-averaged down to the screen), the view's field blended over
// it with the colour map, the window grid, carrier boxes and the query; or a matrix drawn as a
// grid. Everything is drawn on a pixel canvas first, then packed two pixels per cell into half
// blocks (upper half = foreground, lower half = background).
import HatImaging
import HatRecording
import HatViews

/// An RGB pixel canvas, [height][width] row-major.
struct PixelCanvas {
    let width: Int, height: Int
    var pixels: [CellColor]
    init(width: Int, height: Int, fill: CellColor) {
        self.width = width; self.height = height
        pixels = [CellColor](repeating: fill, count: width * height)
    }
    @inline(__always) subscript(x: Int, y: Int) -> CellColor {
        get { pixels[y * width + x] }
        set { if x >= 0, y >= 0, x < width, y < height { pixels[y * width + x] = newValue } }
    }

    /// Outline of the pixel box [x0, x1] x [y0, y1] (inclusive); `dash` > 0 draws every other run.
    mutating func outline(x0: Int, y0: Int, x1: Int, y1: Int, _ c: CellColor, dash: Int = 0) {
        func on(_ i: Int) -> Bool { dash == 0 || (i / dash) % 2 == 0 }
        for x in max(0, x0)...max(max(0, x0), min(width - 1, x1)) where on(x - x0) {
            if y0 >= 0 && y0 < height { self[x, y0] = c }
            if y1 >= 0 && y1 < height { self[x, y1] = c }
        }
        for y in max(0, y0)...max(max(0, y0), min(height - 1, y1)) where on(y - y0) {
            if x0 >= 0 && x0 < width { self[x0, y] = c }
            if x1 >= 0 && x1 < width { self[x1, y] = c }
        }
    }

    /// Packs the canvas into `rect` of `buffer` as half blocks.
    func pack(into buffer: inout CellBuffer, at rect: CellRect, below: CellColor) {
        for cy in 0..<rect.height {
            let top = 2 * cy, bottom = 2 * cy + 1
            for cx in 0..<min(rect.width, width) {
                let t = top < height ? self[cx, top] : below
                let b = bottom < height ? self[cx, bottom] : below
                buffer[rect.x + cx, rect.y + cy] = Cell(glyph: "\u{2580}", fg: t, bg: b, attributes: .picture)
            }
        }
    }
}

/// The un-normalised input image area-averaged to canvas sizes; cached per size because the
/// image never changes while the explorer runs.
final class ImageSampler: @unchecked Sendable {
    let width: Int, height: Int
    /// [height * width * 3] 8-bit RGB, the network input with the ImageNet normalisation undone.
    let rgb: [UInt8]
    private var cache: [Int: PixelCanvas] = [:]

    init(recording r: Recording) {
        width = r.inputWidth; height = r.inputHeight
        let plane = width * height
        var out = [UInt8](repeating: 0, count: plane * 3)
        if r.input.count >= plane * 3 {
            for c in 0..<3 {
                let m = ModelConfig.imagenetMean[c], s = ModelConfig.imagenetStd[c]
                for i in 0..<plane {
                    let v = (r.input[c * plane + i] * s + m) * 255
                    out[i * 3 + c] = UInt8(max(0, min(255, v.isNaN ? 0 : v.rounded())))
                }
            }
        }
        rgb = out
    }

    /// The image at `pw` x `ph` pixels; output pixel (x, y) averages the input pixels whose
    /// centres fall in its box (at least one).
    func canvas(width pw: Int, height ph: Int) -> PixelCanvas {
        let key = pw << 20 | ph
        if let c = cache[key] { return c }
        var c = PixelCanvas(width: pw, height: ph, fill: CellColor(0, 0, 0))
        func bounds(_ i: Int, _ out: Int, _ inp: Int) -> (Int, Int) {
            let a = (i * inp) / out, b = max(a + 1, ((i + 1) * inp) / out)
            return (min(a, inp - 1), min(b, inp))
        }
        guard width > 0, height > 0 else { return c }
        let cols = (0..<pw).map { bounds($0, pw, width) }
        for y in 0..<ph {
            let (y0, y1) = bounds(y, ph, height)
            for x in 0..<pw {
                let (x0, x1) = cols[x]
                var r = 0, g = 0, b = 0
                for yy in y0..<y1 {
                    var i = (yy * width + x0) * 3
                    for _ in x0..<x1 { r += Int(rgb[i]); g += Int(rgb[i + 1]); b += Int(rgb[i + 2]); i += 3 }
                }
                let n = max(1, (y1 - y0) * (x1 - x0))
                c[x, y] = CellColor(UInt8(r / n), UInt8(g / n), UInt8(b / n))
            }
        }
        if cache.count > 8 { cache.removeAll() }
        cache[key] = c
        return c
    }
}

/// Colours of a colour map quantised to `levels` steps: a frame uses at most that many heat
/// colours, which keeps colour pairs bounded on every terminal.
struct QuantisedColormap {
    static let levels = 64
    let lut: [CellColor]
    let lo: Float, span: Float
    init(name: String, min lo: Float, max hi: Float) {
        let map = Colormap(rawValue: name) ?? .default
        lut = (0..<QuantisedColormap.levels).map {
            CellColor(map.rgb((Float($0) + 0.5) / Float(QuantisedColormap.levels)))
        }
        self.lo = lo
        span = hi > lo ? hi - lo : 1
    }
    /// nil for NaN (no value: the image shows through).
    @inline(__always) func color(_ v: Float) -> CellColor? {
        guard !v.isNaN else { return nil }
        let t = (v - lo) / span
        let i = Int((min(max(t, 0), 1) * Float(QuantisedColormap.levels)).rounded(.down))
        return lut[min(i, QuantisedColormap.levels - 1)]
    }
    func color(atFraction t: Float) -> CellColor { color(lo + t * span) ?? lut[0] }
}

enum PictureDrawer {
    /// Draws the image with `view`'s field and overlays into `map.rect`.
    static func drawImage(_ view: ViewResult?, map: PictureMap, sampler: ImageSampler, colormap: String,
                          theme: Theme, into buffer: inout CellBuffer) {
        var canvas = sampler.canvas(width: map.pixelWidth, height: map.pixelHeight)
        let s = map.scale
        if let v = view, let f = v.field, f.cellSize > 0 {
            let cmap = QuantisedColormap(name: colormap, min: v.rangeMin, max: v.rangeMax)
            // Field cell of each pixel column / row, from the pixel centre in input pixels.
            let colCell = (0..<map.pixelWidth).map { Int((Double($0) + 0.5) / s) / f.cellSize }
            for y in 0..<map.pixelHeight {
                let fr = Int((Double(y) + 0.5) / s) / f.cellSize
                guard fr < f.rows else { continue }
                for x in 0..<map.pixelWidth {
                    let fc = colCell[x]
                    guard fc < f.cols, let c = cmap.color(f.values[fr * f.cols + fc]) else { continue }
                    canvas[x, y] = canvas[x, y].mixed(with: c, theme.fieldOpacity)
                }
            }
        }
        if let o = view?.overlays { drawOverlays(o, scale: s, theme: theme, on: &canvas) }
        canvas.pack(into: &buffer, at: map.rect, below: theme.background)
    }

    static func pixelBox(_ r: PixelRect, _ s: Double) -> (Int, Int, Int, Int) {
        let x0 = Int((Double(r.x0) * s).rounded(.down)), y0 = Int((Double(r.y0) * s).rounded(.down))
        let x1 = max(x0, Int((Double(r.x0 + r.width) * s).rounded(.up)) - 1)
        let y1 = max(y0, Int((Double(r.y0 + r.height) * s).rounded(.up)) - 1)
        return (x0, y0, x1, y1)
    }

    static func drawOverlays(_ o: Overlays, scale s: Double, theme: Theme, on canvas: inout PixelCanvas) {
        // Interior grid lines only (each window's top and left edge inside the image), so
        // neighbouring windows share one line and the image edge stays visible.
        for r in o.windowRects {
            let (x0, y0, x1, y1) = pixelBox(r, s)
            if r.x0 > 0 && x0 < canvas.width { for y in max(0, y0)...min(canvas.height - 1, max(y0, y1)) { canvas[x0, y] = theme.windowGrid } }
            if r.y0 > 0 && y0 < canvas.height { for x in max(0, x0)...min(canvas.width - 1, max(x0, x1)) { canvas[x, y0] = theme.windowGrid } }
        }
        // Carrier pooling boxes overlap and would hide the picture: only their corners.
        for r in o.carrierBoxes {
            let (x0, y0, x1, y1) = pixelBox(r, s)
            let t = max(1, min(3, (x1 - x0) / 6))
            for (cx, cy, dx, dy) in [(x0, y0, 1, 1), (x1, y0, -1, 1), (x0, y1, 1, -1), (x1, y1, -1, -1)] {
                for i in 0...t { canvas[cx + i * dx, cy] = theme.carrierToken; canvas[cx, cy + i * dy] = theme.carrierToken }
            }
        }
        if let r = o.selectedWindow {
            let (x0, y0, x1, y1) = pixelBox(r, s)
            canvas.outline(x0: x0, y0: y0, x1: min(x1, canvas.width - 1), y1: min(y1, canvas.height - 1), theme.selectedWindow)
        }
        for r in o.highlightedBoxes {
            let (x0, y0, x1, y1) = pixelBox(r, s)
            canvas.outline(x0: x0, y0: y0, x1: x1, y1: y1, theme.carrierTokenHighlight)
        }
        if let r = o.query {
            let (x0, y0, x1, y1) = pixelBox(r, s)
            if x1 - x0 < 3 || y1 - y0 < 3 {
                for y in max(0, y0)...max(0, y1) { for x in max(0, x0)...max(0, x1) { canvas[x, y] = theme.selection } }
            } else {
                canvas.outline(x0: x0, y0: y0, x1: x1, y1: y1, theme.selection)
            }
        }
    }

    /// The content size of a matrix, separators included.
    static func matrixContent(_ m: MatrixField) -> PictureMap.Content {
        .matrix(rows: m.rows, cols: m.cols,
                gapAfterRow: m.markedRows > 0 && m.markedRows < m.rows ? m.markedRows : nil,
                gapAfterCol: m.markedCols > 0 && m.markedCols < m.cols ? m.markedCols : nil)
    }

    /// A 1 x n strip as a list: label, colour swatch, value; one line per entry.
    static func drawStrip(_ m: MatrixField, view: ViewResult, at r: CellRect, colormap: String, theme: Theme,
                          into buf: inout CellBuffer) {
        let cmap = QuantisedColormap(name: colormap, min: view.rangeMin, max: view.rangeMax)
        buf.put("carriers", x: r.x, y: r.y, fg: theme.carrierToken, bg: theme.background, attributes: .bold, maxWidth: r.width)
        for i in 0..<min(m.cols, r.height - 1) {
            let v = m.values[i]
            let label = i < m.colLabels.count ? m.colLabels[i] : "ct\(i)"
            let y = r.y + 1 + i
            var x = r.x
            x += buf.put(label, x: x, y: y, fg: theme.dimText, bg: theme.background, maxWidth: 7)
            x = r.x + 7
            let c = cmap.color(v) ?? theme.pictureBackground
            buf.fill(x: x, y: y, width: 4, height: 1, with: Cell(glyph: " ", fg: c, bg: c, attributes: .picture))
            buf.put(" " + Renderer.formatValue(v), x: x + 4, y: y, fg: theme.text, bg: theme.background, maxWidth: r.x + r.width - x - 4)
        }
    }

    /// Content units of a matrix: its columns and rows plus one per separator.
    static func matrixUnits(_ m: MatrixField) -> (width: Int, height: Int) {
        guard case let .matrix(rows, cols, gr, gc) = matrixContent(m) else { return (m.cols, m.rows) }
        return (cols + (gc == nil ? 0 : 1), rows + (gr == nil ? 0 : 1))
    }

    /// Draws a matrix: each entry `scale` pixels square (area-averaged when the matrix is larger
    /// than the space), carrier rows / columns set apart by a separator line, the query row marked.
    static func drawMatrix(_ m: MatrixField, view: ViewResult, map: PictureMap, colormap: String,
                           theme: Theme, into buffer: inout CellBuffer) {
        guard case let .matrix(_, _, gr, gc) = map.content else { return }
        let cmap = QuantisedColormap(name: colormap, min: view.rangeMin, max: view.rangeMax)
        var canvas = PixelCanvas(width: map.pixelWidth, height: map.pixelHeight, fill: theme.pictureBackground)
        let s = map.scale
        // Content units covered by pixel i: [floor(i/s), floor((i+1)/s)) at least one.
        func span(_ i: Int, _ n: Int) -> (Int, Int) {
            let a = Int(Double(i) / s), b = max(a + 1, Int(Double(i + 1) / s))
            return (min(a, n - 1), min(b, n))
        }
        func entry(_ u: Int, _ gap: Int?) -> Int? {
            guard let g = gap else { return u }
            return u == g ? nil : (u > g ? u - 1 : u)
        }
        let cw = map.contentWidth, ch = map.contentHeight
        for y in 0..<map.pixelHeight {
            let (v0, v1) = span(y, ch)
            for x in 0..<map.pixelWidth {
                let (u0, u1) = span(x, cw)
                var sum: Float = 0, n = 0, separator = false
                for v in v0..<v1 {
                    guard let r = entry(v, gr) else { separator = true; continue }
                    for u in u0..<u1 {
                        guard let c = entry(u, gc) else { separator = true; continue }
                        let val = m.values[r * m.cols + c]
                        if !val.isNaN { sum += val; n += 1 }
                    }
                }
                if separator && (s >= 1 || n == 0) { canvas[x, y] = theme.matrixSeparator }
                else if n > 0, let c = cmap.color(sum / Float(n)) { canvas[x, y] = c }
            }
        }
        var marker: Int? = nil
        if let hr = m.highlightRow, hr >= 0, hr < m.rows {
            let u = hr + (gr != nil && hr >= gr! ? 1 : 0)
            let y0 = Int((Double(u) * s).rounded(.down)), y1 = max(y0, Int((Double(u + 1) * s).rounded(.up)) - 1)
            if y1 - y0 >= 2 { canvas.outline(x0: 0, y0: y0, x1: canvas.width - 1, y1: y1, theme.selection) }
            marker = y0 / 2
        }
        canvas.pack(into: &buffer, at: map.rect, below: theme.background)
        if let row = marker {
            let cy = map.rect.y + row
            buffer.put("\u{25B6}", x: map.rect.x - 1, y: cy, fg: theme.selection, bg: theme.background)
            buffer.put("\u{25C0}", x: map.rect.x + map.rect.width, y: cy, fg: theme.selection, bg: theme.background)
        }
    }
}
