// Vectorised exp and erf on 8 floats at a time (SIMD8), for softmax and exact GELU.
// - exp: Cephes expf (range reduction by ln 2 in two parts, degree-6 polynomial), ~1 ulp.
// - erf: Abramowitz & Stegun 7.1.26, erf(x) = sign(x) (1 - t P(t) exp(-x^2)), t = 1/(1 + p|x|),
//   absolute error < 1.5e-7; the same formula PyTorch's vectorised CPU kernels use for
//   nn.GELU() (ATen Vectorized<float>::erf).

public enum FastMath {
    public typealias V = SIMD8<Float>

    @inline(__always)
    public static func exp(_ v: V) -> V {
        let x = v.clamped(lowerBound: V(repeating: -87.3), upperBound: V(repeating: 88.3))
        let fx = (x * 1.44269504088896341 + 0.5).rounded(.down)
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
        let n = SIMD8<Int32>(fx, rounding: .towardZero)
        let scale = unsafeBitCast((n &+ 127) &<< 23, to: V.self)   // 2^n
        return y * scale
    }

    @inline(__always)
    public static func erf(_ x: V) -> V {
        let a = x.replacing(with: -x, where: x .< 0)
        let t = 1 / (a * 0.3275911 + 1)
        var p = V(repeating: 1.061405429)
        p = p * t - 1.453152027
        p = p * t + 1.421413741
        p = p * t - 0.284496736
        p = p * t + 0.254829592
        let e = exp(-(a * a))
        let r = V(repeating: 1) - p * t * e
        return r.replacing(with: -r, where: x .< 0)
    }

    /// Scalar versions through the same code path (lane 0), for loop tails.
    @inline(__always)
    public static func exp(_ x: Float) -> Float { exp(V(repeating: x))[0] }
    @inline(__always)
    public static func erf(_ x: Float) -> Float { erf(V(repeating: x))[0] }
}

