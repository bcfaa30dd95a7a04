// A frame for a terminal whose locale is not UTF-8 (LANG=C, POSIX, a Latin-1 locale): ncurses
// cannot send box drawing, arrows, bullets or half blocks there and leaves blanks instead (the
// half-block picture lost every other pixel row, the footer its arrow keys). Each such glyph
// becomes one ASCII character of the same width, so the layout stays; a half-block picture cell
// becomes a blank in the mean colour of its two pixels (half the vertical resolution, every
// pixel still counted).

public enum ASCIICells {
    /// `buffer` with every glyph in ASCII. `mono`: the terminal shows no colours (a colour cell
    /// would be blank), so picture shades become a character ramp.
    public static func convert(_ buffer: CellBuffer, mono: Bool) -> CellBuffer {
        var out = buffer
        for y in 0 ..< out.height {
            for x in 0 ..< out.width {
                let c = out[x, y]
                guard c.glyph.value >= 0x80 else { continue }
                var cell = c
                switch c.glyph {
                case "\u{2580}" where !mono:                       // upper half block: top pixel fg, bottom bg
                    cell.glyph = " "
                    cell.bg = c.attributes.contains(.picture) ? c.fg.mixed(with: c.bg, 0.5) : c.fg
                case "\u{2588}" where !mono:                       // full block
                    cell.glyph = " "
                    cell.bg = c.fg
                default:
                    cell.glyph = glyph(c.glyph)
                }
                out[x, y] = cell
            }
        }
        return out
    }

    /// The ASCII stand-in of one glyph ("?" for anything without one).
    public static func glyph(_ g: Unicode.Scalar) -> Unicode.Scalar {
        if g.value < 0x80 { return g }
        switch g.value {
        case 0x2190, 0x25C0: return "<"
        case 0x2192, 0x25B6: return ">"
        case 0x2191: return "^"
        case 0x2193: return "v"
        case 0x2500, 0x2014, 0x2013: return "-"
        case 0x2502: return "|"
        case 0x250C, 0x2510, 0x2514, 0x2518: return "+"
        case 0x2022, 0x25CF: return "*"
        case 0x25CB: return "o"
        case 0x2026: return "."
        case 0x00D7: return "x"
        // Shades from light to dark (monochrome pictures), and blocks in monochrome.
        case 0x2591: return "."
        case 0x2592: return ":"
        case 0x2593: return "#"
        case 0x2588: return "@"
        case 0x2580: return "#"
        default: return "?"
        }
    }
}
