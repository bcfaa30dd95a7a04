// Ordered dithering of photograph pixels into the 256-, 16- and 8-colour tiers: a fixed 8 x 8
// Bayer threshold per screen pixel decides between the two palette levels around each value, so
// smooth shading becomes a fine, stable pattern instead of flat blotches, and a pixel that did
// not change keeps its colour from frame to frame (unlike error diffusion).

enum Dither {
    /// Bayer 8 x 8 thresholds, (2i + 1) / 128 in [0, 1), row-major.
    static let bayer: [Float] = {
        let m: [Int] = [0, 32, 8, 40, 2, 34, 10, 42, 48, 16, 56, 24, 50, 18, 58, 26,
                        12, 44, 4, 36, 14, 46, 6, 38, 60, 28, 52, 20, 62, 30, 54, 22,
                        3, 35, 11, 43, 1, 33, 9, 41, 51, 19, 59, 27, 49, 17, 57, 25,
                        15, 47, 7, 39, 13, 45, 5, 37, 63, 31, 55, 23, 61, 29, 53, 21]
        return m.map { (Float($0) * 2 + 1) / 128 }
    }()

    @inline(__always) static func threshold(_ x: Int, _ y: Int) -> Float { bayer[(y & 7) * 8 + (x & 7)] }

    /// Levels of the 256-colour cube per channel, and every grey the palette has (cube greys and
    /// the 24-step ramp), sorted.
    static let cube: [Int] = Palette.cubeLevels
    static let greys: [Int] = (Palette.cubeLevels + (0 ..< 24).map { 8 + 10 * $0 }).sorted()

    /// The palette value of `v` at threshold t among sorted `levels`: the lower neighbour unless
    /// v is more than t of the way to the upper one.
    @inline(__always) static func pick(_ v: Int, _ levels: [Int], _ t: Float) -> Int {
        if v <= levels[0] { return levels[0] }
        for i in 1 ..< levels.count where v <= levels[i] {
            let lo = levels[i - 1], hi = levels[i]
            return Float(v - lo) / Float(hi - lo) > t ? hi : lo
        }
        return levels[levels.count - 1]
    }

    /// The ANSI colour at the cube corner each channel dithers to (0 or 205), bright or not.
    static func ansiCorner(_ c: CellColor, _ t: Float, bright: Bool) -> CellColor {
        let bits = (pick(Int(c.r), [0, 205], t) > 0 ? 1 : 0) | (pick(Int(c.g), [0, 205], t) > 0 ? 2 : 0)
            | (pick(Int(c.b), [0, 205], t) > 0 ? 4 : 0)
        return Palette.ansi[bits + (bright && bits != 0 ? 8 : 0)]
    }

    /// `c` at screen pixel (x, y), dithered to a colour the tier shows exactly.
    static func apply(_ c: CellColor, x: Int, y: Int, tier: ColorTier) -> CellColor {
        let t = threshold(x, y)
        switch tier {
        case .truecolor, .mono:
            return c
        case .palette256:
            let r = Int(c.r), g = Int(c.g), b = Int(c.b)
            if max(r, g, b) - min(r, g, b) < 10 {
                // Nearly grey: the grey ramp is four times finer than the cube.
                let v = pick((r + g + b) / 3, greys, t)
                return Palette.snap(CellColor(UInt8(v), UInt8(v), UInt8(v)), .palette256)
            }
            return CellColor(UInt8(pick(r, cube, t)), UInt8(pick(g, cube, t)), UInt8(pick(b, cube, t)))
        case .ansi8:
            // The 8 colours are the corners of a cube (0 or 205 per channel): each channel on its own.
            return ansiCorner(c, t, bright: false)
        case .ansi16:
            let r = Int(c.r), g = Int(c.g), b = Int(c.b)
            if max(r, g, b) - min(r, g, b) < 24 {
                // Greys: black, bright black, white, bright white.
                let v = pick((r + g + b) / 3, [0, 127, 229, 255], t)
                return Palette.ansi[[0: 0, 127: 8, 229: 7, 255: 15][v] ?? 0]
            }
            // A corner of the cube, bright when the strongest channel is above 205 often enough.
            let t2 = threshold(x + 3, y + 5)
            return ansiCorner(c, t, bright: max(r, g, b) > 205 && Float(max(r, g, b) - 205) / 50 > t2)
        }
    }
}
