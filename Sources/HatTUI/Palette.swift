// Colour tiers: the renderer draws full CellColor, and one function here brings a frame down to what
// the terminal can show (the 256-colour palette, 16 or 8 colours, or monochrome shade glyphs).
// The terminal maps the already-snapped colours to indices with the same functions, so a snapshot
// of the adapted buffer is what the person sees.

/// What the terminal can show, best first.
public enum ColorTier: String, CaseIterable, Sendable {
    case truecolor, palette256 = "256", ansi16 = "16", ansi8 = "8", mono
}

public enum Palette {
    /// xterm's default CellColor for the 16 ANSI colours (terminals differ; these are the usual ones).
    public static let ansi: [CellColor] = [
        CellColor(0, 0, 0), CellColor(205, 0, 0), CellColor(0, 205, 0), CellColor(205, 205, 0),
        CellColor(0, 0, 238), CellColor(205, 0, 205), CellColor(0, 205, 205), CellColor(229, 229, 229),
        CellColor(127, 127, 127), CellColor(255, 0, 0), CellColor(0, 255, 0), CellColor(255, 255, 0),
        CellColor(92, 92, 255), CellColor(255, 0, 255), CellColor(0, 255, 255), CellColor(255, 255, 255),
    ]
    static let cubeLevels: [Int] = [0, 95, 135, 175, 215, 255]

    @inline(__always) static func dist2(_ a: CellColor, _ r: Int, _ g: Int, _ b: Int) -> Int {
        let dr = Int(a.r) - r, dg = Int(a.g) - g, db = Int(a.b) - b
        return dr * dr + dg * dg + db * db
    }

    @inline(__always) static func nearestCubeLevel(_ v: UInt8) -> Int {
        // Midpoints between the levels 0,95,135,175,215,255.
        let x = Int(v)
        if x < 48 { return 0 }
        if x < 115 { return 1 }
        return min(5, (x - 115) / 40 + 2)
    }

    /// Nearest entry of the 256-colour palette among 16...255 (the 6x6x6 cube and the 24 greys;
    /// 0...15 differ between terminals): whichever of the nearest cube colour and grey is closer.
    public static func index256(_ c: CellColor) -> Int {
        let ri = nearestCubeLevel(c.r), gi = nearestCubeLevel(c.g), bi = nearestCubeLevel(c.b)
        let cube = 16 + 36 * ri + 6 * gi + bi
        let dc = dist2(c, cubeLevels[ri], cubeLevels[gi], cubeLevels[bi])
        let mean = (Int(c.r) + Int(c.g) + Int(c.b)) / 3
        let k = max(0, min(23, (mean - 3) / 10))       // grey 8 + 10k
        let gv = 8 + 10 * k
        let dg = dist2(c, gv, gv, gv)
        return dg < dc ? 232 + k : cube
    }

    /// The CellColor of palette entry 16...255.
    public static func rgb256(_ i: Int) -> CellColor {
        if i >= 232 { let v = UInt8(8 + 10 * (i - 232)); return CellColor(v, v, v) }
        let n = i - 16
        return CellColor(UInt8(cubeLevels[n / 36]), UInt8(cubeLevels[(n / 6) % 6]), UInt8(cubeLevels[n % 6]))
    }

    /// Nearest of the first `count` ANSI colours (16 or 8). A grey stays grey: it is matched
    /// against black, white (and bright black / bright white) only, never a saturated colour
    /// that happens to be nearer in RGB (mid grey would otherwise become magenta).
    public static func indexANSI(_ c: CellColor, count: Int) -> Int {
        var best = 0, bestD = Int.max
        let grey = max(c.r, c.g, c.b) - min(c.r, c.g, c.b) < 24
        for i in 0..<min(count, ansi.count) where !grey || [0, 7, 8, 15].contains(i) {
            let a = ansi[i]
            let d = dist2(c, Int(a.r), Int(a.g), Int(a.b))
            if d < bestD { bestD = d; best = i }
        }
        return best
    }

    /// `c` snapped to the colour the tier will show.
    public static func snap(_ c: CellColor, _ tier: ColorTier) -> CellColor {
        switch tier {
        case .truecolor, .mono: return c
        case .palette256: return rgb256(index256(c))
        case .ansi16: return ansi[indexANSI(c, count: 16)]
        case .ansi8: return ansi[indexANSI(c, count: 8)]
        }
    }

    /// Shade glyphs from dark to light for monochrome pictures.
    public static let shades: [Unicode.Scalar] = [" ", "\u{2591}", "\u{2592}", "\u{2593}", "\u{2588}"]

    static func shade(_ luma: Int) -> Unicode.Scalar {
        shades[max(0, min(shades.count - 1, (luma * shades.count) / 256))]
    }

    /// Brings a frame down to the tier: photograph cells dithered (Dither), everything else
    /// snapped to the nearest colour the tier has. Monochrome turns picture cells (half blocks, coloured
    /// blanks) into shade glyphs and shows emphasis (a background lighter than the text) in reverse
    /// video; the terminal then draws everything in its default colours.
    public static func adapt(_ buffer: inout CellBuffer, to tier: ColorTier, background: CellColor) {
        if tier == .truecolor { return }
        if tier != .mono {
            var cache: [CellColor: CellColor] = [:]
            func s(_ c: CellColor) -> CellColor {
                if let v = cache[c] { return v }
                let v = snap(c, tier); cache[c] = v; return v
            }
            for y in 0..<buffer.height {
                for x in 0..<buffer.width {
                    var cell = buffer[x, y]
                    if cell.attributes.contains(.photo) {
                        // A half block's two pixels: (x, 2y) on top, (x, 2y + 1) below.
                        cell.fg = Dither.apply(cell.fg, x: x, y: 2 * y, tier: tier)
                        cell.bg = Dither.apply(cell.bg, x: x, y: 2 * y + 1, tier: tier)
                    } else {
                        cell.fg = s(cell.fg); cell.bg = s(cell.bg)
                    }
                    buffer[x, y] = cell
                }
            }
            return
        }
        let white = CellColor(255, 255, 255), black = CellColor(0, 0, 0)
        for y in 0..<buffer.height {
            for x in 0..<buffer.width {
                var cell = buffer[x, y]
                if cell.attributes.contains(.picture) {
                    let luma = cell.glyph == " " ? cell.bg.luma : (cell.fg.luma + cell.bg.luma) / 2
                    cell = Cell(glyph: shade(luma), fg: white, bg: black)
                } else {
                    var attrs = cell.attributes
                    if cell.bg != background && cell.bg.luma > cell.fg.luma { attrs.insert(.reverse) }
                    cell = Cell(glyph: cell.glyph, fg: white, bg: black, attributes: attrs)
                }
                buffer[x, y] = cell
            }
        }
    }
}
