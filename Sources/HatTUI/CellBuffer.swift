// A plain grid of terminal cells that the renderer draws into and tests read: the only thing
// between the explorer's drawing code and ncurses. Colours are always full CellColor here; the terminal
// maps them to its colour tier when it flushes the buffer (see Terminal.swift, Palette.swift).

/// A 24-bit colour.
public struct CellColor: Hashable, Sendable, CustomStringConvertible {
    public var r: UInt8, g: UInt8, b: UInt8
    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) { self.r = r; self.g = g; self.b = b }
    public init(_ t: (UInt8, UInt8, UInt8)) { self.r = t.0; self.g = t.1; self.b = t.2 }
    public var description: String {
        let hex = Array("0123456789abcdef")
        return String([hex[Int(r >> 4)], hex[Int(r & 15)], hex[Int(g >> 4)], hex[Int(g & 15)],
                       hex[Int(b >> 4)], hex[Int(b & 15)]])
    }
    /// Rec. 601 luma in [0, 255]: used for monochrome shading and readable text on a colour.
    public var luma: Int { (299 * Int(r) + 587 * Int(g) + 114 * Int(b)) / 1000 }
    /// `self * (1 - a) + other * a`, a in [0, 1].
    public func mixed(with other: CellColor, _ a: Float) -> CellColor {
        func m(_ x: UInt8, _ y: UInt8) -> UInt8 {
            UInt8(max(0, min(255, (Float(x) * (1 - a) + Float(y) * a).rounded())))
        }
        return CellColor(m(r, other.r), m(g, other.g), m(b, other.b))
    }
}

/// Text attributes a cell may carry.
public struct CellAttributes: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let bold = CellAttributes(rawValue: 1)
    public static let reverse = CellAttributes(rawValue: 2)
    public static let underline = CellAttributes(rawValue: 4)
    public static let dim = CellAttributes(rawValue: 8)
    /// Not a terminal attribute: marks picture cells (image, heat colours, colorbar) so the
    /// monochrome tier can turn them into shade glyphs and leave text alone.
    public static let picture = CellAttributes(rawValue: 16)
    /// Not a terminal attribute: picture cells that show the photograph (half blocks), which
    /// the 256/16/8-colour tiers dither; heat swatches and text are snapped exactly.
    public static let photo = CellAttributes(rawValue: 32)
}

/// One character cell: a single-width glyph with foreground and background colour.
public struct Cell: Hashable, Sendable {
    public var glyph: Unicode.Scalar
    public var fg: CellColor
    public var bg: CellColor
    public var attributes: CellAttributes
    public init(glyph: Unicode.Scalar = " ", fg: CellColor, bg: CellColor, attributes: CellAttributes = []) {
        self.glyph = glyph; self.fg = fg; self.bg = bg; self.attributes = attributes
    }
}

/// A width x height grid of cells, row-major [height][width] flattened; (0, 0) is the top left.
public struct CellBuffer: Sendable, Equatable {
    public private(set) var width: Int
    public private(set) var height: Int
    /// [height * width] row-major.
    public private(set) var cells: [Cell]

    public init(width: Int, height: Int, fill: Cell) {
        self.width = max(0, width); self.height = max(0, height)
        cells = [Cell](repeating: fill, count: self.width * self.height)
    }

    public subscript(x: Int, y: Int) -> Cell {
        get { cells[y * width + x] }
        set { if x >= 0, y >= 0, x < width, y < height { cells[y * width + x] = newValue } }
    }

    public func contains(x: Int, y: Int) -> Bool { x >= 0 && y >= 0 && x < width && y < height }

    /// Fills a rectangle (clipped to the buffer).
    public mutating func fill(x: Int, y: Int, width w: Int, height h: Int, with cell: Cell) {
        let x0 = max(0, x), y0 = max(0, y), x1 = min(width, x + w), y1 = min(height, y + h)
        guard x0 < x1, y0 < y1 else { return }
        for yy in y0..<y1 { for xx in x0..<x1 { cells[yy * width + xx] = cell } }
    }

    /// Writes `text` from (x, y), one scalar per cell, clipped at `maxWidth` (and the buffer edge).
    /// Wide characters are replaced by "?" so the grid stays aligned with the terminal's.
    /// Returns the number of cells written.
    @discardableResult
    public mutating func put(_ text: String, x: Int, y: Int, fg: CellColor, bg: CellColor,
                             attributes: CellAttributes = [], maxWidth: Int = .max) -> Int {
        guard y >= 0, y < height else { return 0 }
        var cx = x, n = 0
        for s in text.unicodeScalars {
            if n >= maxWidth || cx >= width { break }
            if s.properties.generalCategory == .nonspacingMark { continue }
            let g: Unicode.Scalar = CellBuffer.isNarrow(s) ? s : "?"
            if cx >= 0 { cells[y * width + cx] = Cell(glyph: g, fg: fg, bg: bg, attributes: attributes) }
            cx += 1; n += 1
        }
        return n
    }

    /// East-Asian wide and emoji scalars take two terminal cells; the explorer never needs them.
    static func isNarrow(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if v < 0x1100 { return v >= 0x20 && v != 0x7f }
        if (0x1100...0x115F).contains(v) || (0x2E80...0xA4CF).contains(v) || (0xAC00...0xD7A3).contains(v)
            || (0xF900...0xFAFF).contains(v) || (0xFE30...0xFE4F).contains(v) || (0xFF00...0xFF60).contains(v)
            || (0xFFE0...0xFFE6).contains(v) || v >= 0x1F300 { return false }
        return true
    }

    // MARK: - Snapshots (tests)

    /// The glyphs, one line per row, trailing spaces kept so columns line up.
    public var text: String {
        var out = ""
        out.reserveCapacity((width + 1) * height)
        for y in 0..<height {
            for x in 0..<width { out.unicodeScalars.append(cells[y * width + x].glyph) }
            out += "\n"
        }
        return out
    }

    /// A stable colour summary: every distinct (fg, bg, attributes) triple with its cell count,
    /// most frequent first, at most `limit` lines, plus the number of distinct colours.
    public func colorSummary(limit: Int = 12) -> String {
        var counts: [String: Int] = [:]
        var colors = Set<CellColor>()
        for c in cells {
            let key = "fg \(c.fg) bg \(c.bg)" + (c.attributes.isEmpty ? "" : " attr \(c.attributes.rawValue)")
            counts[key, default: 0] += 1
            colors.insert(c.fg); colors.insert(c.bg)
        }
        let sorted = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        var out = "distinct colors: \(colors.count), distinct cell styles: \(counts.count)\n"
        for (k, v) in sorted.prefix(limit) { out += "\(v)\t\(k)\n" }
        return out
    }

    /// The row `y` as a string (tests).
    public func line(_ y: Int) -> String {
        guard y >= 0, y < height else { return "" }
        var s = ""
        for x in 0..<width { s.unicodeScalars.append(cells[y * width + x].glyph) }
        return s
    }
}
