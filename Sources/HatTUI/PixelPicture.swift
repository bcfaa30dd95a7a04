// The picture area in real pixels (kitty, sixel, iTerm2): the figure code draws the view at the
// terminal's pixel size (ScreenPictureRenderer), the result is cut to whole cells around what was
// drawn and placed in the cells ncurses leaves blank for it. Also the maps that turn a click on
// those cells back into a token or a matrix row.
import HatImaging
import HatViews

/// A picture to show in real pixels over `rect` (exactly rect.width x cellWidth by
/// rect.height x cellHeight pixels).
public struct FramePicture: Equatable, Sendable {
    public var rect: CellRect
    public var image: RGBImage
    public init(rect: CellRect, image: RGBImage) { self.rect = rect; self.image = image }
}

/// How the frame's picture area is drawn.
public enum PictureMode: Equatable, Sendable {
    /// Half blocks, two pixels per cell.
    case blocks
    /// Real pixels, cells of this size; the picture at most maxWidth x maxHeight pixels (what the
    /// terminal shows at all).
    case pixels(cellWidth: Int, cellHeight: Int, maxWidth: Int = .max, maxHeight: Int = .max)
}

enum PixelPicture {
    /// Draws `view` into `area` at `cell` pixels per cell. Returns the picture, the map of the
    /// image (or the matrix alone) and, when a matrix sits beside the image, the map of that matrix.
    static func render(_ view: ViewResult?, input: RGBImage, area whole: CellRect, cellWidth cw: Int, cellHeight ch: Int,
                       maxWidth: Int = .max, maxHeight: Int = .max,
                       options: FigureOptions, matrixOnly: Bool, background: CellColor)
        -> (picture: FramePicture, map: PictureMap, side: PictureMap?) {
        // Only as many cells as the terminal's largest picture covers (the rest stays blank).
        let area = CellRect(x: whole.x, y: whole.y, width: max(1, min(whole.width, maxWidth / max(1, cw))),
                            height: max(1, min(whole.height, maxHeight / max(1, ch))))
        let W = max(1, area.width * cw), H = max(1, area.height * ch)
        let pic = ScreenPictureRenderer.render(view, input: input, options: options, width: W, height: H,
                                               matrixOnly: matrixOnly, textScale: textScale(cellHeight: ch),
                                               background: (background.r, background.g, background.b))
        // Whole cells around the drawn part.
        let c0 = pic.body.x / cw, r0 = pic.body.y / ch
        let c1 = min(area.width, (pic.body.x + pic.body.width + cw - 1) / cw)
        let r1 = min(area.height, (pic.body.y + pic.body.height + ch - 1) / ch)
        let rect = CellRect(x: area.x + c0, y: area.y + r0, width: max(1, c1 - c0), height: max(1, r1 - r0))
        let image = crop(pic.image, x: c0 * cw, y: r0 * ch, width: rect.width * cw, height: rect.height * ch)
        let dx = c0 * cw, dy = r0 * ch
        var grid = pic.matrix
        grid?.x -= dx; grid?.y -= dy
        let origin = pic.imageOrigin.map { PixelMapping.Point(x: $0.x - dx, y: $0.y - dy) }
        let mapping = PixelMapping(cellWidth: cw, cellHeight: ch, imageOrigin: origin, scale: pic.scale,
                                   grid: matrixOnly ? grid : nil)
        let iw = input.width, ih = input.height
        var map = PictureMap(content: .image, rect: rect, pixelWidth: rect.width * cw, pixelHeight: rect.height * ch,
                             contentWidth: iw, contentHeight: ih, scale: pic.scale)
        if matrixOnly, let m = view?.matrix {
            map.content = PictureDrawer.matrixContent(m)
            map.contentWidth = m.cols; map.contentHeight = m.rows
        }
        map.pixels = mapping
        var side: PictureMap? = nil
        if !matrixOnly, let g = grid, let m = view?.matrix, m.rows > 1 {
            // The matrix's own cells, so a click there is a matrix click.
            let gw = g.cols * g.cell + g.separatorCols, gh = g.rows * g.cell + g.separatorRows
            let sc0 = g.x / cw, sr0 = g.y / ch
            let sc1 = (g.x + gw + cw - 1) / cw, sr1 = (g.y + gh + ch - 1) / ch
            var shifted = g
            shifted.x -= sc0 * cw; shifted.y -= sr0 * ch
            let srect = CellRect(x: rect.x + sc0, y: rect.y + sr0, width: max(1, sc1 - sc0), height: max(1, sr1 - sr0))
            var s = PictureMap(content: PictureDrawer.matrixContent(m), rect: srect, pixelWidth: srect.width * cw,
                               pixelHeight: srect.height * ch, contentWidth: m.cols, contentHeight: m.rows, scale: 1)
            s.pixels = PixelMapping(cellWidth: cw, cellHeight: ch, imageOrigin: nil, scale: 1, grid: shifted)
            side = s
        }
        return (FramePicture(rect: rect, image: image), map, side)
    }

    /// The font scale of the text inside the picture (matrix labels, caption): a line of the
    /// bitmap font as tall as a line of the terminal's own text, the nearest whole scale (1 up to
    /// 14-pixel cells, 2 from 15 to 24, 3 from 25 to 34, ...), so labels grow with the font.
    static func textScale(cellHeight ch: Int) -> Int {
        max(1, Int((Double(ch) / Double(BitmapFont.glyphHeight)).rounded()))
    }

    /// The width x height part of `image` starting at (x, y) (inside the image).
    static func crop(_ image: RGBImage, x: Int, y: Int, width: Int, height: Int) -> RGBImage {
        if x == 0 && y == 0 && width == image.width && height == image.height { return image }
        var out = [UInt8](repeating: 0, count: width * height * 3)  // (height, width, 3)
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for row in 0 ..< height where y + row < image.height {
                    let n = min(width, image.width - x) * 3
                    guard n > 0 else { continue }
                    let s = ((y + row) * image.width + x) * 3
                    UnsafeMutableRawPointer(dst.baseAddress! + row * width * 3)
                        .copyMemory(from: src.baseAddress! + s, byteCount: n)
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: out)
    }
}
