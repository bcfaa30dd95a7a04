// Where everything goes on a screen of a given size: a pure function of the size, recomputed on
// every frame (so a resize re-lays out at once), and the mapping between screen cells and the
// picture's content that mouse clicks use.
import HatViews

/// A rectangle of cells.
public struct CellRect: Equatable, Sendable {
    public var x: Int, y: Int, width: Int, height: Int
    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x; self.y = y; self.width = width; self.height = height
    }
    public func contains(x px: Int, y py: Int) -> Bool {
        px >= x && py >= y && px < x + width && py < y + height
    }
}

/// The explorer's regions. Rows from the top: header (tabs), title, picture, colorbar; status
/// and footer at the bottom; the side panel on the right of the picture.
public struct Layout: Equatable, Sendable {
    public static let minWidth = 64
    public static let minHeight = 20

    public var width: Int, height: Int
    public var tooSmall: Bool
    public var header: CellRect
    public var title: CellRect
    public var pictureArea: CellRect
    public var colorbar: CellRect
    public var panel: CellRect
    public var status: CellRect
    public var footer: CellRect

    public static func compute(width: Int, height: Int) -> Layout {
        let small = width < minWidth || height < minHeight
        let panelWidth = width < 100 ? 30 : min(48, width / 3)
        let leftWidth = max(1, width - panelWidth - 1)
        let pictureTop = 2
        let pictureHeight = max(1, height - pictureTop - 3)
        return Layout(
            width: width, height: height, tooSmall: small,
            header: CellRect(x: 0, y: 0, width: width, height: 1),
            title: CellRect(x: 1, y: 1, width: width - 2, height: 1),
            pictureArea: CellRect(x: 1, y: pictureTop, width: max(1, leftWidth - 2), height: pictureHeight),
            colorbar: CellRect(x: 1, y: pictureTop + pictureHeight, width: max(1, leftWidth - 2), height: 1),
            panel: CellRect(x: leftWidth + 1, y: pictureTop, width: panelWidth - 1, height: pictureHeight + 1),
            status: CellRect(x: 0, y: height - 2, width: width, height: 1),
            footer: CellRect(x: 0, y: height - 1, width: width, height: 1))
    }
}

/// What the picture shows and where: content units (input pixels for images, matrix entries for
/// matrices) are drawn `scale` pixels each, two pixels per cell vertically (half blocks).
public struct PictureMap: Equatable, Sendable {
    public enum Content: Equatable, Sendable {
        /// The input image, contentWidth x contentHeight input pixels.
        case image
        /// A matrix; `gapAfterRow` / `gapAfterCol`: a one-entry separator follows that many
        /// leading rows / columns (carrier tokens), nil without one.
        case matrix(rows: Int, cols: Int, gapAfterRow: Int?, gapAfterCol: Int?)
    }
    public var content: Content
    /// Cells covered by the picture.
    public var rect: CellRect
    /// Canvas size in pixels (rect.width x rect.height * 2, the last row may be half used).
    public var pixelWidth: Int, pixelHeight: Int
    public var contentWidth: Int, contentHeight: Int
    /// Pixels per content unit.
    public var scale: Double
    /// Set when the picture is shown in real pixels (kitty, sixel, iTerm2): cells are then
    /// cellWidth x cellHeight pixels and the content sits where the figure code drew it.
    public var pixels: PixelMapping? = nil

    /// Fits content of `w` x `h` units into `area`, aspect kept, centred. Matrices get an integer
    /// scale when they fit at 1 or more so every entry is the same size.
    public static func fit(content: Content, width w: Int, height h: Int, in area: CellRect) -> PictureMap {
        let availW = Double(area.width), availH = Double(area.height * 2)
        var s = min(availW / Double(max(1, w)), availH / Double(max(1, h)))
        if case .matrix = content, s >= 1 { s = s.rounded(.down) }
        let pw = max(1, min(area.width, Int((Double(w) * s).rounded(.down))))
        let ph = max(1, min(area.height * 2, Int((Double(h) * s).rounded(.down))))
        let rows = (ph + 1) / 2
        let x = area.x + (area.width - pw) / 2
        let y = area.y + (area.height - rows) / 2
        return PictureMap(content: content, rect: CellRect(x: x, y: y, width: pw, height: rows),
                          pixelWidth: pw, pixelHeight: ph, contentWidth: w, contentHeight: h, scale: s)
    }

    /// Content coordinates (fractional units) of the centre of screen cell (cx, cy), or nil
    /// outside the picture.
    public func contentPoint(cellX cx: Int, cellY cy: Int) -> (x: Double, y: Double)? {
        guard rect.contains(x: cx, y: cy) else { return nil }
        if let p = pixels {
            let c = p.pixel(cellX: cx - rect.x, cellY: cy - rect.y)
            guard let o = p.imageOrigin, p.scale > 0 else { return nil }
            let u = (Double(c.x - o.x) + 0.5) / p.scale, v = (Double(c.y - o.y) + 0.5) / p.scale
            guard u >= 0, v >= 0, u < Double(contentWidth), v < Double(contentHeight) else { return nil }
            return (u, v)
        }
        let px = Double(cx - rect.x) + 0.5
        let py = Double((cy - rect.y) * 2) + 1.0
        guard py < Double(pixelHeight) + 1 else { return nil }
        let u = px / scale, v = py / scale
        guard u >= 0, v >= 0, u < Double(contentWidth), v < Double(contentHeight) else { return nil }
        return (u, v)
    }

    /// For matrices: the matrix (row, col) under a screen cell, skipping the separators.
    public func matrixEntry(cellX cx: Int, cellY cy: Int) -> (row: Int, col: Int)? {
        if let p = pixels, let grid = p.grid {
            guard rect.contains(x: cx, y: cy) else { return nil }
            let c = p.pixel(cellX: cx - rect.x, cellY: cy - rect.y)
            return grid.entry(x: c.x, y: c.y)
        }
        guard case let .matrix(rows, cols, gr, gc) = content,
              let p = contentPoint(cellX: cx, cellY: cy) else { return nil }
        func unit(_ v: Double, _ gap: Int?, _ n: Int) -> Int? {
            var i = Int(v.rounded(.down))
            if let g = gap { if i == g { return nil }; if i > g { i -= 1 } }
            return i < n ? i : nil
        }
        guard let r = unit(p.y, gr, rows), let c = unit(p.x, gc, cols) else { return nil }
        return (r, c)
    }
}

/// How a picture shown in real pixels maps back to content: picture pixel (0, 0) is the top-left
/// of the PictureMap's rect.
public struct PixelMapping: Equatable, Sendable {
    public var cellWidth: Int, cellHeight: Int
    /// Where the input image starts and its pixels per input pixel (nil: no image).
    public var imageOrigin: Point?
    public var scale: Double
    /// Where the matrix's entries are, if the picture has one.
    public var grid: MatrixGrid?

    public struct Point: Equatable, Sendable {
        public var x: Int, y: Int
        public init(x: Int, y: Int) { self.x = x; self.y = y }
    }

    /// The picture pixel at the centre of cell (cx, cy) of the rect.
    func pixel(cellX cx: Int, cellY cy: Int) -> Point {
        Point(x: cx * cellWidth + cellWidth / 2, y: cy * cellHeight + cellHeight / 2)
    }
}
