// The scores `hatscope faithfulness` gives a saliency map (definitions here, in
// faithfulness.json and in the README):
//
// - Order: tokens by saliency, largest first; ties by token index (row-major), NaN last.
// - Deletion / insertion (Petsiuk et al., RISE, 2018) over K steps: after step s the first
//   m_s = floor(s * n / K) tokens of the order are removed from the clean image (deletion) or
//   revealed on the baseline (insertion); removed = the token's input pixels set to 0 after
//   normalisation (the dataset mean colour), the baseline = every token removed. The curve is the
//   probability of the clean image's top-1 class at x_s = m_s / n, s = 0...K; its AUC is the
//   trapezoid rule over x. Deletion: lower is better (the class falls fast when the most salient
//   tokens go); insertion: higher is better.
// - Pointing game (Zhang et al. 2016): a hit when the centre of the most salient token lies in an
//   object's box grown by `pointingTolerance` input pixels on each side.
// - Spearman rank correlation (sanity check, Adebayo et al. 2018): Pearson correlation of the
//   two maps' ranks, ties given their mean rank; NaN when either map is constant.
import Foundation
import HatRecording

public enum FaithfulnessMetrics {
    /// Tolerance of the pointing game, in input pixels (the original paper's 15).
    public static let pointingTolerance = 15.0

    /// Token indices by saliency, largest first (ties: lower index first; NaN last).
    public static func order(_ values: [Float]) -> [Int] {
        values.indices.sorted { a, b in
            let x = values[a], y = values[b]
            if x.isNaN != y.isNaN { return !x.isNaN }
            if x != y && !x.isNaN { return x > y }
            return a < b
        }
    }

    /// Tokens removed (or revealed) after each step s = 0...steps: floor(s * n / steps).
    public static func counts(tokens n: Int, steps: Int) -> [Int] {
        (0 ... steps).map { $0 * n / steps }
    }

    /// Area under a curve sampled at x (increasing, in [0, 1]) by the trapezoid rule.
    public static func auc(x: [Double], y: [Double]) -> Double {
        precondition(x.count == y.count)
        var a = 0.0
        for i in 1 ..< max(1, x.count) { a += (x[i] - x[i - 1]) * (y[i] + y[i - 1]) / 2 }
        return a
    }

    /// Ranks 1...n, ties given their mean rank.
    public static func ranks(_ v: [Float]) -> [Double] {
        let idx = v.indices.sorted { v[$0] < v[$1] || (v[$0] == v[$1] && $0 < $1) }
        var r = [Double](repeating: 0, count: v.count)
        var i = 0
        while i < idx.count {
            var j = i
            while j + 1 < idx.count && v[idx[j + 1]] == v[idx[i]] { j += 1 }
            let mean = Double(i + j) / 2 + 1
            for k in i ... j { r[idx[k]] = mean }
            i = j + 1
        }
        return r
    }

    /// Spearman's rank correlation of two maps of the same size; NaN when either is constant or
    /// holds NaN.
    public static func spearman(_ a: [Float], _ b: [Float]) -> Double {
        precondition(a.count == b.count)
        guard a.count > 1, !a.contains(where: \.isNaN), !b.contains(where: \.isNaN) else { return .nan }
        let ra = ranks(a), rb = ranks(b)
        let n = Double(a.count)
        let ma = ra.reduce(0, +) / n, mb = rb.reduce(0, +) / n
        var sab = 0.0, saa = 0.0, sbb = 0.0
        for i in ra.indices {
            let x = ra[i] - ma, y = rb[i] - mb
            sab += x * y; saa += x * x; sbb += y * y
        }
        guard saa > 0, sbb > 0 else { return .nan }
        return sab / (saa * sbb).squareRoot()
    }

    /// Whether the most salient token's centre (on `stage`'s grid of `cols` columns) lies in one
    /// of the boxes grown by the tolerance.
    public static func pointingHit(_ map: SaliencyMap, stride: Int, boxes: [ObjectBox]) -> Bool {
        guard let top = order(map.values).first, !map.values[top].isNaN else { return false }
        let cx = Double((top % map.cols) * stride) + Double(stride) / 2
        let cy = Double((top / map.cols) * stride) + Double(stride) / 2
        let t = pointingTolerance
        return boxes.contains { cx >= $0.x0 - t && cx <= $0.x1 + t && cy >= $0.y0 - t && cy <= $0.y1 + t }
    }
}

/// An object's box in network-input pixels, [x0, x1] x [y0, y1].
public struct ObjectBox: Sendable, Equatable, Codable {
    public var x0: Double, y0: Double, x1: Double, y1: Double
    public init(x0: Double, y0: Double, x1: Double, y1: Double) { self.x0 = x0; self.y0 = y0; self.x1 = x1; self.y1 = y1 }
}
