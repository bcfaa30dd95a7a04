// Moving tokens between an NCHW feature map and windowed token rows.
//
// Window layout (official window_partition): a padded map [C, Hp, Wp] is cut into (Hp/w) x (Wp/w)
// windows, row-major; inside a window the w*w tokens are row-major. Token rows are [tokens, C].
// Windows can hold `lead` extra rows in front (the carrier tokens), so a window occupies
// T = lead + w*w rows and token t of window k sits at row k*T + lead + t. Which carrier tokens go
// into the lead rows, in which order, is part of the stage geometry (HatRecording/StageGeometry.swift).

public enum Windows {
    /// x [C, h, w] -> y [C, hp, wp], zero padded right and bottom (a batch [images, C, ...] is
    /// images * C channel planes).
    public static func pad(_ x: UnsafePointer<Float>, channels: Int, height h: Int, width w: Int,
                           toHeight hp: Int, width wp: Int, into y: UnsafeMutablePointer<Float>) {
        Parallel.forRanges(channels, minPerChunk: 8) { chans in
            for c in chans {
                let src = x + c * h * w, dst = y + c * hp * wp
                for r in 0..<hp {
                    let d = dst + r * wp
                    if r < h {
                        d.update(from: src + r * w, count: w)
                        for q in w..<wp { d[q] = 0 }
                    } else {
                        for q in 0..<wp { d[q] = 0 }
                    }
                }
            }
        }
    }

    /// window_partition: x [images, C, hp, wp] (hp, wp multiples of `window`) -> rows
    /// [images * windows, lead + window^2, C], writing only the token rows (not the `lead` rows).
    public static func partition(_ x: UnsafePointer<Float>, images: Int = 1, channels: Int, height hp: Int, width wp: Int,
                                 window w: Int, lead: Int, into y: UnsafeMutablePointer<Float>) {
        let cols = wp / w, t = lead + w * w
        let windows = (hp / w) * cols
        // Strided gathers cost several times a copy: chunks of ~8k elements are worth a core.
        Parallel.forRanges(images * windows * w, minPerChunk: max(1, 8192 / max(1, w * channels))) { range in
            for iwr in range {
                let image = iwr / (windows * w), wr = iwr % (windows * w)
                let k = wr / w, p = wr % w
                let a = k / cols, b = k % cols
                let xi = x + image * channels * hp * wp
                for q in 0..<w {
                    let row = y + ((image * windows + k) * t + lead + p * w + q) * channels
                    let src = xi + (a * w + p) * wp + b * w + q
                    for c in 0..<channels { row[c] = src[c * hp * wp] }
                }
            }
        }
    }

    /// window_reverse followed by the any-res crop: rows [images * windows, lead + window^2, C] ->
    /// y [images, C, h, w], keeping the top-left h x w of each padded hp x wp map.
    public static func reverse(_ x: UnsafePointer<Float>, images: Int = 1, channels: Int, paddedHeight hp: Int,
                               paddedWidth wp: Int, window w: Int, lead: Int, height h: Int, width wd: Int,
                               into y: UnsafeMutablePointer<Float>) {
        let cols = wp / w, t = lead + w * w
        let windows = (hp / w) * cols
        Parallel.forRanges(images * h, minPerChunk: max(1, 8192 / max(1, wd * channels))) { rows in
            for ir in rows {
                let image = ir / h, r = ir % h
                let a = r / w, p = r % w
                for col in 0..<wd {
                    let b = col / w, q = col % w
                    let k = image * windows + a * cols + b
                    let src = x + (k * t + lead + p * w + q) * channels
                    let dst = y + image * channels * h * wd + r * wd + col
                    for c in 0..<channels { dst[c * h * wd] = src[c] }
                }
            }
        }
    }
}
