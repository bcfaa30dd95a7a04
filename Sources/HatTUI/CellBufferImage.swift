// A cell buffer as a picture (`hatscope-dev frame --png`): each cell 6 x 12 pixels, half blocks
// as two colours, other glyphs in the bitmap font. For reviewing layouts and goldens by eye
// without a terminal.
import HatImaging

extension CellBuffer {
    public func image(cellWidth: Int = 6, cellHeight: Int = 12) -> RGBImage {
        var img = RGBImage(width: width * cellWidth, height: height * cellHeight)
        func fill(_ x0: Int, _ y0: Int, _ w: Int, _ h: Int, _ c: CellColor) {
            for y in y0..<(y0 + h) {
                for x in x0..<(x0 + w) {
                    let i = (y * img.width + x) * 3
                    img.pixels[i] = c.r; img.pixels[i + 1] = c.g; img.pixels[i + 2] = c.b
                }
            }
        }
        for cy in 0..<height {
            for cx in 0..<width {
                let c = self[cx, cy]
                let x0 = cx * cellWidth, y0 = cy * cellHeight
                var fg = c.fg, bg = c.bg
                if c.attributes.contains(.reverse) { swap(&fg, &bg) }
                if c.glyph == "\u{2580}" {
                    fill(x0, y0, cellWidth, cellHeight / 2, fg); fill(x0, y0 + cellHeight / 2, cellWidth, cellHeight - cellHeight / 2, bg)
                } else {
                    fill(x0, y0, cellWidth, cellHeight, bg)
                    if c.glyph.value >= 0x21 && c.glyph.value < 0x7f {
                        BitmapFont.draw(String(c.glyph), on: &img, x: x0, y: y0 + 2, color: (fg.r, fg.g, fg.b))
                    } else if c.glyph != " " {
                        // Box drawing, shades, arrows: a mid-size block in the glyph colour.
                        fill(x0 + 1, y0 + cellHeight / 2 - 1, cellWidth - 2, 2, fg)
                    }
                }
            }
        }
        return img
    }
}
