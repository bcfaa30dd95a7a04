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

    /// ANSI colour numbers that follow each colour map's hue and lightness (nearest-colour
    /// snapping would turn viridis' dark end black and skip its blues).
    static let ansiSteps: [Colormap: (sixteen: [Int], eight: [Int])] = [
        .viridis: ([4, 12, 6, 2, 10, 11], [4, 6, 2, 3, 7]),
        .magma: ([0, 5, 1, 9, 3, 11], [0, 5, 1, 3, 7]),
        .inferno: ([0, 5, 1, 9, 3, 11], [0, 5, 1, 3, 7]),
        .cividis: ([4, 12, 8, 7, 3, 11], [4, 7, 3]),
        .gray: ([0, 8, 7, 15], [0, 7]),
    ]

    /// The tier's steps: curated ANSI colours for 16 and 8; for 256 the colour map sampled
    /// finely, snapped, and thinned to at most stepCount distinct colours in colour-map order.
    static func steps(_ map: Colormap, tier: ColorTier) -> [CellColor]? {
        guard let n = stepCount(tier) else { return nil }
        if tier == .ansi16 || tier == .ansi8, let table = ansiSteps[map] {
            return (tier == .ansi16 ? table.sixteen : table.eight).map { Palette.ansi[$0] }
        }
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
