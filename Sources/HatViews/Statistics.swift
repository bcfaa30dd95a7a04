// Small numeric helpers the views share: picking one attention row (one head or the head mean),
// entropy, field ranges and the number formatting used in every panel and manifest.
import Foundation
import HatRecording

enum ViewStats {
    /// One attention row of `maps` (keys values) for group `g`, query `q`: head `head`, or the
    /// mean over heads when `head` is nil. Rows sum to 1 in both cases (a mean of distributions).
    static func row(_ maps: AttentionMaps, group g: Int, head: Int?, query q: Int) -> [Float] {
        if let h = head { return maps.row(g, h, q) }
        var out = [Float](repeating: 0, count: maps.keys)  // (keys)
        for h in 0 ..< maps.heads {
            let r = maps.row(g, h, q)
            for k in 0 ..< maps.keys { out[k] += r[k] }
        }
        let inv = 1 / Float(maps.heads)
        for k in 0 ..< maps.keys { out[k] *= inv }
        return out
    }

    /// The whole [queries, keys] matrix of group `g` for one head or the head mean, row-major.
    static func matrix(_ maps: AttentionMaps, group g: Int, head: Int?) -> [Float] {
        if let h = head { return maps.withMatrix(group: g, head: h) { Array($0) } }
        let n = maps.queries * maps.keys
        var out = [Float](repeating: 0, count: n)  // (queries, keys)
        for h in 0 ..< maps.heads {
            maps.withMatrix(group: g, head: h) { m in
                for i in 0 ..< n { out[i] += m[i] }
            }
        }
        let inv = 1 / Float(maps.heads)
        for i in 0 ..< n { out[i] *= inv }
        return out
    }

    /// Shannon entropy of a distribution divided by log(count): 0 = all mass on one key,
    /// 1 = uniform. The values are renormalised first so partial rows can be measured too.
    static func normalizedEntropy(_ p: [Float]) -> Float {
        guard p.count > 1 else { return 0 }
        let total = p.reduce(Double(0)) { $0 + Double(max($1, 0)) }
        guard total > 0 else { return 0 }
        var h = 0.0
        for v in p where v > 0 {
            let q = Double(v) / total
            h -= q * log(q)
        }
        return Float(h / log(Double(p.count)))
    }

    /// Smallest and largest finite value; (0, 1) when there is none, and a non-empty interval
    /// when all values are equal, so a colour scale can always be drawn.
    static func range(_ values: [Float]) -> (min: Float, max: Float) {
        var lo = Float.infinity, hi = -Float.infinity
        for v in values where v.isFinite {
            lo = min(lo, v); hi = max(hi, v)
        }
        if lo > hi { return (0, 1) }
        if lo == hi { return hi > 0 ? (0, hi) : (lo, lo + 1) }
        return (lo, hi)
    }

    /// The colour range of a probability view: 0 up to the largest value shown (so the strongest
    /// key always gets the colormap's top colour).
    static func probabilityRange(_ values: [Float]) -> (min: Float, max: Float) {
        var hi: Float = 0
        for v in values where v.isFinite { hi = max(hi, v) }
        return (0, hi > 0 ? hi : 1)
    }

    /// The fewest values whose sum reaches `fraction` of the total of the finite, positive
    /// values: how concentrated a distribution is (1 = all on one cell).
    static func count(holding fraction: Float, of values: [Float]) -> Int {
        let v = values.filter { $0.isFinite && $0 > 0 }.sorted(by: >)
        let total = v.reduce(0, +)
        guard total > 0 else { return 0 }
        var acc: Float = 0
        for (i, x) in v.enumerated() {
            acc += x
            if acc >= fraction * total * (1 - 1e-6) { return i + 1 }
        }
        return v.count
    }

    /// Index of the largest finite value, or nil.
    static func argmax(_ values: [Float]) -> Int? {
        var best: Int?
        for (i, v) in values.enumerated() where v.isFinite {
            if let b = best { if v > values[b] { best = i } } else { best = i }
        }
        return best
    }

    /// Three significant decimals, the format every panel and the manifest use.
    static func fmt(_ v: Float) -> String {
        if !v.isFinite { return "n/a" }
        if v != 0 && abs(v) < 0.001 { return String(format: "%.2e", Double(v)) }
        return String(format: "%.3f", Double(v))
    }

    static func percent(_ v: Float) -> String {
        v.isFinite ? String(format: "%.1f%%", Double(v * 100)) : "n/a"
    }
}
