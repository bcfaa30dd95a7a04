// Resizing an RGBImage to an exact size for screens: area averaging when shrinking (every source
// pixel counts, so thin lines fade instead of vanishing at random), nearest neighbour when
// growing (input pixels stay crisp squares, as in the figures).

public enum Resample {
    /// `image` at `width` x `height`. Per axis: output pixel i covers source pixels
    /// [floor(i * n / out), max(that + 1, floor((i + 1) * n / out))), averaged; when growing that
    /// is exactly one source pixel.
    public static func toSize(_ image: RGBImage, width: Int, height: Int) -> RGBImage {
        let w = max(1, width), h = max(1, height)
        if w == image.width && h == image.height { return image }
        guard image.width > 0, image.height > 0 else { return RGBImage(width: w, height: h) }
        func spans(_ out: Int, _ n: Int) -> [(Int, Int)] {
            (0 ..< out).map { i in
                let a = min(n - 1, (i * n) / out)
                return (a, min(n, max(a + 1, ((i + 1) * n) / out)))
            }
        }
        let cols = spans(w, image.width), rows = spans(h, image.height)
        var out = [UInt8](repeating: 0, count: w * h * 3)   // (h, w, 3)
        let sw = image.width
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                var o = 0
                for (y0, y1) in rows {
                    for (x0, x1) in cols {
                        if y1 - y0 == 1 && x1 - x0 == 1 {
                            let i = (y0 * sw + x0) * 3
                            dst[o] = src[i]; dst[o + 1] = src[i + 1]; dst[o + 2] = src[i + 2]
                        } else {
                            var r = 0, g = 0, b = 0
                            for yy in y0 ..< y1 {
                                var i = (yy * sw + x0) * 3
                                for _ in x0 ..< x1 { r += Int(src[i]); g += Int(src[i + 1]); b += Int(src[i + 2]); i += 3 }
                            }
                            let n = (y1 - y0) * (x1 - x0)
                            dst[o] = UInt8((r + n / 2) / n); dst[o + 1] = UInt8((g + n / 2) / n); dst[o + 2] = UInt8((b + n / 2) / n)
                        }
                        o += 3
                    }
                }
            }
        }
        return RGBImage(width: w, height: h, pixels: out)
    }
}
