// Vectorised exp and erf on 8 floats at a time (SIMD8), for softmax and exact GELU.
// - exp: Cephes expf (range reduction by ln 2 in two parts, degree-6 polynomial), ~1 ulp.
// - erf: Abramowitz & Stegun 7.1.26, erf(x) = sign(x) (1 - t P(t) exp(-x^2)), t = 1/(1 + p|x|),
//   absolute error < 1.5e-7; the same formula PyTorch's vectorised CPU kernels use for
//   nn.GELU() (ATen Vectorized<float>::erf).
// Only concrete SIMD8 arithmetic, comparisons and masks are used: the generic SIMD helpers
// (rounded, clamped, pointwiseMin, Int conversions) are not specialised and run lane by lane.

public enum FastMath {
    public typealias V = SIMD8<Float>
    public typealias U = SIMD8<UInt32>

    /// 1.5 * 2^23: adding it rounds a float of magnitude < 2^22 to an integer held in the low
    /// mantissa bits.
    @usableFromInline static let magic: Float = 12_582_912

    @inline(__always)
    public static func exp(_ v: V) -> V {
        var x = v.replacing(with: V(repeating: -87.3), where: v .< -87.3)
        x = x.replacing(with: V(repeating: 88.3), where: x .> 88.3)
        return expInRange(x)
    }

    /// exp for x already in [-87.3, 88.3] (no clamping).
    @inline(__always)
    static func expInRange(_ x: V) -> V {
        // n = round(x / ln 2), as a float and as integer bits.
        let shifted = x * 1.44269504088896341 + magic
        let fx = shifted - magic
        var r = x - fx * 0.693359375
        r = r + fx * 2.12194440e-4
        let r2 = r * r
        var y = V(repeating: 1.9875691500e-4)
        y = y * r + 1.3981999507e-3
        y = y * r + 8.3334519073e-3
        y = y * r + 4.1665795894e-2
        y = y * r + 1.6666665459e-1
        y = y * r + 5.0000001201e-1
        y = y * r2 + r + 1
        // 2^n: the integer sits in the low bits of `shifted` (offset by magic's own bits).
        let nBits = unsafeBitCast(shifted, to: U.self) &- unsafeBitCast(V(repeating: magic), to: U.self)
        let scale = unsafeBitCast((nBits &+ 127) &<< 23, to: V.self)
        return y * scale
    }

    @inline(__always)
    public static func erf(_ x: V) -> V {
        // |x| and the sign by bit masks, and |x| capped at 9 so exp(-x^2) needs no clamping:
        // without SSE4.1 every lane select costs three instructions (and, andnot, or), and erf
        // had five of them. Same values: for |x| >= 9 the formula gives exactly 1 either way
        // (p t e < 1e-36), and the sign is applied to r >= 0 as before.
        let bits = unsafeBitCast(x, to: U.self)
        let sign = bits & U(repeating: 0x8000_0000)
        var a = unsafeBitCast(bits & U(repeating: 0x7fff_ffff), to: V.self)
        a = a.replacing(with: V(repeating: 9), where: a .> 9)
        let t = 1 / (a * 0.3275911 + 1)
        var p = V(repeating: 1.061405429)
        p = p * t - 1.453152027
        p = p * t + 1.421413741
        p = p * t - 0.284496736
        p = p * t + 0.254829592
        let e = expInRange(-(a * a))
        let r = 1 - p * t * e
        return unsafeBitCast(unsafeBitCast(r, to: U.self) | sign, to: V.self)
    }

    /// Scalar exp through the same code (loop tails), so every element is computed alike.
    @inline(__always)
    public static func exp(_ x: Float) -> Float { exp(V(repeating: x))[0] }

    /// Lane-wise maximum.
    @inline(__always)
    public static func max(_ a: V, _ b: V) -> V { a.replacing(with: b, where: b .> a) }
}
