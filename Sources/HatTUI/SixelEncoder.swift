// Sixel pictures: libsixel picks the palette (median cut, at most `colors` entries, the only use
// of CSixel), and this file maps the pixels to it and writes the sixel bands. libsixel's own
// encoding took a median 19 ms for the explorer's 858 x 689 pictures, this one 6 (README,
// Performance).
// No error diffusion: unchanged parts of a picture keep their exact pixels from frame to frame
// and flat heat colours stay flat.
//
// Format: DCS q, raster attributes "1;1;W;H (square pixels), the palette (#i;2;r;g;b in percent),
// then bands of 6 pixel rows: segments of one colour, #i and one character per column (63 + six
// bits, bit k = row k of the band), runs as !n<char>, several segments per pass, $ back to the
// band's start for the next pass, - between bands; ST.
import CSixel
import HatImaging

public struct SixelError: Error, CustomStringConvertible {
    public let description: String
}

public enum SixelEncoder {
    /// The sixel escape string (DCS ... ST) of `image` with at most `colors` (2...256) colours.
    public static func encode(_ image: RGBImage, colors: Int = 256) throws -> [UInt8] {
        let w = image.width, h = image.height
        guard w > 0, h > 0, image.pixels.count == w * h * 3 else { throw SixelError(description: "sixel: empty image") }
        var palette = [UInt8](repeating: 0, count: 256 * 3)      // (entries, 3)
        var pixels = image.pixels                                // libsixel takes a mutable pointer; (h, w, 3)
        let n = Int(pixels.withUnsafeMutableBufferPointer { p in
            palette.withUnsafeMutableBufferPointer { hs_sixel_palette(p.baseAddress, Int32(w), Int32(h),
                                                                      Int32(min(256, max(2, colors))), hs_sixel_quality_low(),
                                                                      $0.baseAddress) }
        })
        guard n >= 1 else { throw SixelError(description: "sixel: libsixel could not make a palette") }
        let index = map(image, palette: palette, count: n)
        return bands(index, width: w, height: h, palette: palette, count: n)
    }

    /// Each pixel's palette entry: the nearest (squared RGB distance) to the first pixel seen of
    /// its 6-bit-per-channel box, remembered per box. (h, w).
    static func map(_ image: RGBImage, palette: [UInt8], count n: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: image.width * image.height)
        var memo = [Int16](repeating: -1, count: 1 << 18)       // box (r>>2, g>>2, b>>2) -> entry
        image.pixels.withUnsafeBufferPointer { src in
            palette.withUnsafeBufferPointer { pal in
                memo.withUnsafeMutableBufferPointer { memo in
                    out.withUnsafeMutableBufferPointer { dst in
                        for i in 0 ..< dst.count {
                            let r = Int(src[3 * i]), g = Int(src[3 * i + 1]), b = Int(src[3 * i + 2])
                            let key = (r >> 2) << 12 | (g >> 2) << 6 | (b >> 2)
                            var e = Int(memo[key])
                            if e < 0 {
                                var best = Int.max
                                for k in 0 ..< n {
                                    let dr = r - Int(pal[3 * k]), dg = g - Int(pal[3 * k + 1]), db = b - Int(pal[3 * k + 2])
                                    let d = dr * dr + dg * dg + db * db
                                    if d < best { best = d; e = k }
                                }
                                memo[key] = Int16(e)
                            }
                            dst[i] = UInt8(e)
                        }
                    }
                }
            }
        }
        return out
    }

    /// The DCS string of an indexed picture (`index`: (height, width) entries of `palette`).
    static func bands(_ index: [UInt8], width w: Int, height h: Int, palette: [UInt8], count n: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(w * h / 2 + n * 20 + 64)
        func number(_ v: Int) {
            if v >= 10 { number(v / 10) }
            out.append(UInt8(48 + v % 10))
        }
        func run(_ char: UInt8, _ count: Int) {
            if count > 3 {
                out.append(UInt8(ascii: "!")); number(count); out.append(char)
            } else {
                for _ in 0 ..< count { out.append(char) }
            }
        }
        out += [0x1b, UInt8(ascii: "P"), UInt8(ascii: "q"), UInt8(ascii: "\""), UInt8(ascii: "1"), UInt8(ascii: ";"),
                UInt8(ascii: "1"), UInt8(ascii: ";")]
        number(w); out.append(UInt8(ascii: ";")); number(h)
        for k in 0 ..< n {
            out.append(UInt8(ascii: "#")); number(k)
            out += [UInt8(ascii: ";"), UInt8(ascii: "2")]
            for c in 0 ..< 3 { out.append(UInt8(ascii: ";")); number((Int(palette[3 * k + c]) * 100 + 127) / 255) }
        }
        // Per band: each used colour's six-bit column patterns over the columns it spans.
        var bits = [UInt8](repeating: 0, count: 256 * w)         // (entry, w)
        var first = [Int](repeating: Int.max, count: 256), last = [Int](repeating: -1, count: 256)
        var used = [Int](repeating: 0, count: 256)
        struct Segment { var start: Int, end: Int, color: Int }
        var segments: [Segment] = []
        let gap = 10
        index.withUnsafeBufferPointer { idx in
            bits.withUnsafeMutableBufferPointer { bits in
                for y0 in stride(from: 0, to: h, by: 6) {
                    if y0 > 0 { out.append(UInt8(ascii: "-")) }
                    var nUsed = 0
                    for r in 0 ..< min(6, h - y0) {
                        let row = (y0 + r) * w, bit = UInt8(1 << r)
                        for x in 0 ..< w {
                            let c = Int(idx[row + x])
                            if last[c] < 0 { used[nUsed] = c; nUsed += 1 }
                            bits[c * w + x] |= bit
                            if x < first[c] { first[c] = x }
                            if x > last[c] { last[c] = x }
                        }
                    }
                    // Each colour's row cut into segments at gaps wider than `gap` columns; the
                    // segments then go out in passes left to right, each pass taking every
                    // segment that starts after the previous one ended, of whatever colour (fewer
                    // skipped columns and passes than one pass per colour).
                    segments.removeAll(keepingCapacity: true)
                    for u in 0 ..< nUsed {
                        let c = used[u], x1 = last[c]
                        var x = first[c], start = x, end = x
                        while x <= x1 {
                            if bits[c * w + x] != 0 {
                                if x - end > gap { segments.append(Segment(start: start, end: end, color: c)); start = x }
                                end = x
                            }
                            x += 1
                        }
                        segments.append(Segment(start: start, end: end, color: c))
                        first[c] = Int.max; last[c] = -1
                    }
                    segments.sort { $0.start < $1.start }
                    var remaining = segments.count
                    var taken = [Bool](repeating: false, count: segments.count)
                    var from = 0                                  // segments before it are all taken
                    while remaining > 0 {
                        var pos = 0, color = -1
                        var i = from
                        while i < segments.count {
                            let g = segments[i]
                            if !taken[i] && g.start >= pos {
                                if g.color != color {
                                    out.append(UInt8(ascii: "#")); number(g.color); color = g.color
                                }
                                if g.start > pos { run(63, g.start - pos) }
                                var x = g.start
                                let row = g.color * w
                                while x <= g.end {
                                    let v = bits[row + x]
                                    var k = x + 1
                                    while k <= g.end && bits[row + k] == v { k += 1 }
                                    run(63 + v, k - x)
                                    x = k
                                }
                                for j in g.start ... g.end { bits[row + j] = 0 }
                                taken[i] = true
                                remaining -= 1
                                pos = g.end + 1
                            }
                            i += 1
                        }
                        while from < segments.count && taken[from] { from += 1 }
                        if remaining > 0 { out.append(UInt8(ascii: "$")) }
                    }
                }
            }
        }
        out += [0x1b, 0x5c]
        return out
    }
}
