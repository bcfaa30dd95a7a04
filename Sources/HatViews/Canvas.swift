// Pixel drawing on an RGBImage for the figures: filled and blended rectangles, outlines (solid and
// dashed), nearest-neighbour blits and text through the imaging module's bitmap font. Everything
// clips to the canvas, so callers can draw boxes that reach past a padded stage's edge.
import HatImaging

public typealias RGB = (UInt8, UInt8, UInt8)

/// Colours named by meaning, chosen in one place (white page for papers and slides). The
/// terminal's theme takes its picture colours from here too: one palette for screen and file.
public enum FigureStyle {
    public static let background: RGB = (255, 255, 255)
    public static let text: RGB = (25, 25, 25)
    public static let mutedText: RGB = (95, 95, 95)
    public static let panelBackground: RGB = (235, 235, 235)
    public static let windowGrid: RGB = (255, 255, 255)
    public static let selectedWindow: RGB = (255, 176, 0)
    public static let carrierBox: RGB = (0, 200, 230)
    public static let highlightedCarrierBox: RGB = (0, 255, 255)
    public static let query: RGB = (230, 20, 40)
    /// The tour's route between windows (Overlays.path).
    public static let path: RGB = (255, 60, 200)
    /// Occluded boxes (shaded with the dataset mean colour, what occlusion puts there) and the
    /// explorer's occlusion brush.
    public static let occluded: RGB = (124, 116, 104)
    public static let occludedOutline: RGB = (255, 255, 255)
    public static let brush: RGB = (255, 230, 0)
    public static let matrixSeparator: RGB = (255, 255, 255)
    public static let highlightRow: RGB = (230, 20, 40)
    public static let frame: RGB = (60, 60, 60)
}

struct Canvas {
    var image: RGBImage
    var width: Int { image.width }
    var height: Int { image.height }

    init(width: Int, height: Int, fill: RGB = FigureStyle.background) {
        image = RGBImage(width: max(width, 1), height: max(height, 1), fill: fill)
    }

    /// Clips [x0, x0+w) x [y0, y0+h) to the canvas (and to `clip` when given, in canvas pixels).
    private func clipped(_ x0: Int, _ y0: Int, _ w: Int, _ h: Int,
                         _ clip: (x: Int, y: Int, w: Int, h: Int)?) -> (Int, Int, Int, Int)? {
        var ax = max(x0, 0), ay = max(y0, 0)
        var bx = min(x0 + w, width), by = min(y0 + h, height)
        if let c = clip { ax = max(ax, c.x); ay = max(ay, c.y); bx = min(bx, c.x + c.w); by = min(by, c.y + c.h) }
        return ax < bx && ay < by ? (ax, ay, bx, by) : nil
    }

    mutating func fill(x: Int, y: Int, w: Int, h: Int, _ color: RGB,
                       clip: (x: Int, y: Int, w: Int, h: Int)? = nil) {
        guard let (ax, ay, bx, by) = clipped(x, y, w, h, clip) else { return }
        let width = self.width
        image.pixels.withUnsafeMutableBufferPointer { p in
            for yy in ay ..< by {
                var i = (yy * width + ax) * 3
                for _ in ax ..< bx { p[i] = color.0; p[i + 1] = color.1; p[i + 2] = color.2; i += 3 }
            }
        }
    }

    /// out = (1 - alpha) * pixel + alpha * color, with alpha in [0, 1].
    mutating func blend(x: Int, y: Int, w: Int, h: Int, _ color: RGB, alpha: Float,
                        clip: (x: Int, y: Int, w: Int, h: Int)? = nil) {
        if alpha >= 1 { fill(x: x, y: y, w: w, h: h, color, clip: clip); return }
        guard alpha > 0, let (ax, ay, bx, by) = clipped(x, y, w, h, clip) else { return }
        let a = Int((alpha * 256).rounded()), b = 256 - a
        let c0 = Int(color.0) * a, c1 = Int(color.1) * a, c2 = Int(color.2) * a
        let width = self.width
        image.pixels.withUnsafeMutableBufferPointer { p in
            for yy in ay ..< by {
                var i = (yy * width + ax) * 3
                for _ in ax ..< bx {
                    p[i] = UInt8((Int(p[i]) * b + c0 + 128) >> 8)
                    p[i + 1] = UInt8((Int(p[i + 1]) * b + c1 + 128) >> 8)
                    p[i + 2] = UInt8((Int(p[i + 2]) * b + c2 + 128) >> 8)
                    i += 3
                }
            }
        }
    }

    /// Rectangle outline `thickness` pixels wide, drawn inside [x, x+w) x [y, y+h). Dashed lines
    /// alternate `dash` pixels on and off, so overlapping boxes stay distinguishable.
    mutating func stroke(x: Int, y: Int, w: Int, h: Int, _ color: RGB, thickness: Int = 1, dash: Int = 0,
                         alpha: Float = 1, clip: (x: Int, y: Int, w: Int, h: Int)? = nil) {
        guard w > 0, h > 0 else { return }
        let t = min(thickness, min(w, h))
        if dash <= 0 {
            blend(x: x, y: y, w: w, h: t, color, alpha: alpha, clip: clip)
            blend(x: x, y: y + h - t, w: w, h: t, color, alpha: alpha, clip: clip)
            blend(x: x, y: y + t, w: t, h: h - 2 * t, color, alpha: alpha, clip: clip)
            blend(x: x + w - t, y: y + t, w: t, h: h - 2 * t, color, alpha: alpha, clip: clip)
            return
        }
        var s = 0
        while s < w {
            let len = min(dash, w - s)
            blend(x: x + s, y: y, w: len, h: t, color, alpha: alpha, clip: clip)
            blend(x: x + s, y: y + h - t, w: len, h: t, color, alpha: alpha, clip: clip)
            s += 2 * dash
        }
        s = 0
        while s < h {
            let len = min(dash, h - s)
            blend(x: x, y: y + s, w: t, h: len, color, alpha: alpha, clip: clip)
            blend(x: x + w - t, y: y + s, w: t, h: len, color, alpha: alpha, clip: clip)
            s += 2 * dash
        }
    }

    /// A straight line from (x0, y0) to (x1, y1): `thickness` x `thickness` squares stamped at
    /// every step of the longer axis.
    mutating func line(x0: Int, y0: Int, x1: Int, y1: Int, _ color: RGB, thickness: Int = 1,
                       clip: (x: Int, y: Int, w: Int, h: Int)? = nil) {
        let n = max(abs(x1 - x0), abs(y1 - y0), 1), t = max(thickness, 1)
        for i in 0 ... n {
            let x = x0 + (x1 - x0) * i / n, y = y0 + (y1 - y0) * i / n
            fill(x: x - t / 2, y: y - t / 2, w: t, h: t, color, clip: clip)
        }
    }

    /// Copies `src` scaled up by an integer `factor` (nearest neighbour: crisp pixels) with its
    /// top-left corner at (x, y). Each source row is widened once, then copied `factor` times.
    mutating func blit(_ src: RGBImage, x: Int, y: Int, factor: Int = 1) {
        let f = max(factor, 1)
        let width = self.width, height = self.height
        // The destination columns that land on the canvas, as a source-pixel range.
        let firstX = max(0, x), lastX = min(width, x + src.width * f)  // [firstX, lastX)
        guard firstX < lastX else { return }
        var row = [UInt8](repeating: 0, count: (lastX - firstX) * 3)  // one widened row (RGB)
        image.pixels.withUnsafeMutableBufferPointer { p in
            src.pixels.withUnsafeBufferPointer { s in
                row.withUnsafeMutableBufferPointer { r in
                    guard let pb = p.baseAddress, let rb = r.baseAddress else { return }
                    for sy in 0 ..< src.height {
                        let y0 = y + sy * f
                        guard y0 + f > 0 && y0 < height else { continue }
                        for xx in firstX ..< lastX {
                            let si = (sy * src.width + (xx - x) / f) * 3, ri = (xx - firstX) * 3
                            r[ri] = s[si]; r[ri + 1] = s[si + 1]; r[ri + 2] = s[si + 2]
                        }
                        for yy in max(y0, 0) ..< min(y0 + f, height) {
                            let di = (yy * width + firstX) * 3
                            UnsafeMutableRawPointer(pb + di).copyMemory(from: rb, byteCount: r.count)
                        }
                    }
                }
            }
        }
    }

    // MARK: text

    static var lineHeight: Int { lineHeight(scale: 1) }

    /// A line of text at font `scale`: the glyphs' line and 3 pixels of space, both scaled.
    static func lineHeight(scale: Int) -> Int { (BitmapFont.glyphHeight + 3) * max(scale, 1) }

    static func textWidth(_ s: String, scale: Int = 1) -> Int { BitmapFont.width(of: s, scale: scale) }

    mutating func text(_ s: String, x: Int, y: Int, _ color: RGB = FigureStyle.text, scale: Int = 1) {
        BitmapFont.draw(s, on: &image, x: x, y: y, color: color, scale: scale)
    }

    /// Joins `items` with `separator` into lines no wider than `maxWidth`, never splitting an
    /// item unless it alone is too wide.
    static func wrapItems(_ items: [String], separator: String, maxWidth: Int, scale: Int = 1) -> [String] {
        var lines: [String] = []
        var current = ""
        for item in items {
            let candidate = current.isEmpty ? item : current + separator + item
            if textWidth(candidate, scale: scale) <= maxWidth || current.isEmpty {
                current = candidate
            } else {
                lines.append(current)
                current = item
            }
        }
        if !current.isEmpty { lines.append(current) }
        return lines.flatMap { textWidth($0, scale: scale) > maxWidth ? wrap($0, maxWidth: maxWidth, scale: scale) : [$0] }
    }

    /// Splits `s` into lines no wider than `maxWidth` pixels, breaking at spaces (a single word
    /// longer than the line is cut).
    static func wrap(_ s: String, maxWidth: Int, scale: Int = 1) -> [String] {
        var lines: [String] = []
        var current = ""
        for word in s.split(separator: " ", omittingEmptySubsequences: true).map(String.init) {
            let candidate = current.isEmpty ? word : current + " " + word
            if textWidth(candidate, scale: scale) <= maxWidth || current.isEmpty && textWidth(word, scale: scale) <= maxWidth {
                current = candidate
                continue
            }
            if !current.isEmpty { lines.append(current) }
            var w = word
            while textWidth(w, scale: scale) > maxWidth && w.count > 1 {
                var cut = w.count - 1
                while cut > 1 && textWidth(String(w.prefix(cut)), scale: scale) > maxWidth { cut -= 1 }
                lines.append(String(w.prefix(cut)))
                w = String(w.dropFirst(cut))
            }
            current = w
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }
}
