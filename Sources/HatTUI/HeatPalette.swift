// Heat colours for one frame, the same everywhere on screen (picture, matrices, colour bar): in
// 24-bit colour the colour map itself, exactly as the PNG figures use it; with fewer colours a
// short palette of clearly different steps the terminal shows exactly (no dithering, no
// blotches), and the colour bar shows exactly those steps.
import HatImaging
import HatViews

struct HeatPalette {
    let map: Colormap
    /// The stepped palette of a small tier, nil in 24-bit colour.
    let steps: [CellColor]?
    let lo: Float, span: Float

    init(name: String, min lo: Float, max hi: Float, tier: ColorTier = .truecolor) {
        map = Colormap(rawValue: name) ?? .default
        steps = HeatPalette.steps(map, tier: tier)
        self.lo = lo
        span = hi > lo ? hi - lo : 1
    }

    /// nil for NaN (no value: the image shows through).
    @inline(__always) func color(_ v: Float) -> CellColor? {
        guard !v.isNaN else { return nil }
        return color(atFraction: (v - lo) / span)
    }

    func color(atFraction t: Float) -> CellColor {
        let c = min(max(t.isNaN ? 0 : t, 0), 1)
        if let s = steps { return s[min(s.count - 1, Int(c * Float(s.count)))] }
        return CellColor(map.rgb(c))
    }

    /// The steps as the figure code's palette (FigureOptions.steps).
    var figureSteps: [RGB]? { steps?.map { ($0.r, $0.g, $0.b) } }

    /// How many steps each tier gets at most: enough to read a gradient, few enough to tell apart.
    static func stepCount(_ tier: ColorTier) -> Int? {
        switch tier {
        case .truecolor: return nil
        case .palette256: return 12
        case .ansi16: return 6
        case .ansi8: return 5
        case .mono: return 5
        }
    }

    /// The colour map sampled finely, snapped to the tier, and thinned to at most stepCount
    /// distinct colours in colour-map order (a colour that came back later is not used twice).
    static func steps(_ map: Colormap, tier: ColorTier) -> [CellColor]? {
        guard let n = stepCount(tier) else { return nil }
        var seen: [CellColor] = []
        for i in 0 ..< 64 {
            let c = CellColor(map.rgb((Float(i) + 0.5) / 64))
            let s = tier == .mono ? CellColor(UInt8(c.luma), UInt8(c.luma), UInt8(c.luma)) : Palette.snap(c, tier)
            if !seen.contains(s) { seen.append(s) }
        }
        // Thin evenly along the map to n steps, always keeping both ends.
        var out = seen
        if seen.count > n {
            out = (0 ..< n).map { seen[($0 * (seen.count - 1) + (n - 1) / 2) / (n - 1)] }
            var unique: [CellColor] = []
            for c in out where !unique.contains(c) { unique.append(c) }
            out = unique
        }
        return out
    }
}
