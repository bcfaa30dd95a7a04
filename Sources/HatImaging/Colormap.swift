// Perceptually uniform colormaps for heatmaps and colorbars: value in [0, 1] -> 8-bit RGB.
// Tables come from tools/gen_colormaps.py (matplotlib's published data), never typed by hand.

public enum Colormap: String, CaseIterable, Sendable {
    case viridis, magma, inferno, cividis, gray
    /// Diverging, for differences (after - before): blue below 0, near-white at the middle (a
    /// symmetric range puts 0 there), red above. Not one of the choices for magnitudes.
    case rdbu

    /// The default for every figure.
    public static let `default`: Colormap = .viridis
    /// The map of difference views.
    public static let diverging: Colormap = .rdbu

    /// The maps for magnitudes, the ones a person chooses (`--colormap`, `c` in the explorer):
    /// every one's lightness grows with the value.
    public static var allCases: [Colormap] { [.viridis, .magma, .inferno, .cividis, .gray] }

    /// One of `allCases` by name, nil for anything else (the diverging map included).
    public static func named(_ name: String) -> Colormap? {
        Colormap(rawValue: name).flatMap { allCases.contains($0) ? $0 : nil }
    }

    /// 256 entries x (R, G, B).
    var table: [UInt8] {
        switch self {
        case .viridis: return ColormapTables.viridis
        case .magma: return ColormapTables.magma
        case .inferno: return ColormapTables.inferno
        case .cividis: return ColormapTables.cividis
        case .gray: return ColormapTables.gray
        case .rdbu: return ColormapTables.rdbu
        }
    }

    /// The colour of `t`: clamped to [0, 1] and mapped like matplotlib (entry floor(t * 256),
    /// the last entry for t = 1). NaN is black, so missing values never pass for data.
    public func rgb(_ t: Float) -> (UInt8, UInt8, UInt8) {
        guard !t.isNaN else { return (0, 0, 0) }
        let i = Colormap.index(t)
        let lut = table
        return (lut[3 * i], lut[3 * i + 1], lut[3 * i + 2])
    }

    /// Colours of many values at once (faster than `rgb` per value: one table fetch).
    /// values: (n) -> (n * 3) RGB bytes.
    public func rgb(_ values: [Float]) -> [UInt8] {
        let lut = table
        var out = [UInt8](repeating: 0, count: values.count * 3)
        for (k, t) in values.enumerated() where !t.isNaN {
            let i = Colormap.index(t)
            out[3 * k] = lut[3 * i]; out[3 * k + 1] = lut[3 * i + 1]; out[3 * k + 2] = lut[3 * i + 2]
        }
        return out
    }

    /// Table entry of a non-NaN value.
    static func index(_ t: Float) -> Int {
        let c = min(max(t, 0), 1)
        return min(Int(c * 256), 255)
    }
}
