// Elementwise activations and the row softmax, in place, spread over the cores.
import Foundation

public enum Activations {
    /// Exact GELU (PyTorch nn.GELU default): x * 0.5 * (1 + erf(x / sqrt(2))).
    public static func gelu(_ x: UnsafeMutablePointer<Float>, count: Int) {
        let invSqrt2: Float = 0.70710678118654752440
        Parallel.forRanges(count, minPerChunk: 4096) { r in
            for i in r { let v = x[i]; x[i] = 0.5 * v * (1 + erff(v * invSqrt2)) }
        }
    }

    public static func relu(_ x: UnsafeMutablePointer<Float>, count: Int) {
        Parallel.forRanges(count, minPerChunk: 8192) { r in
            for i in r where x[i] < 0 { x[i] = 0 }
        }
    }

    /// Softmax of each row of x [rows, n], in place (max-subtracted, as PyTorch).
    public static func softmaxRows(_ x: UnsafeMutablePointer<Float>, rows: Int, length n: Int) {
        for r in 0..<rows { softmaxRow(x + r * n, n) }
    }

    @inline(__always)
    public static func softmaxRow(_ row: UnsafeMutablePointer<Float>, _ n: Int) {
        var m = -Float.infinity
        for i in 0..<n where row[i] > m { m = row[i] }
        var sum: Float = 0
        for i in 0..<n { let e = expf(row[i] - m); row[i] = e; sum += e }
        let inv = 1 / sum
        for i in 0..<n { row[i] *= inv }
    }

    /// 1 / (1 + exp(-x)), the logistic sigmoid.
    @inline(__always)
    public static func sigmoid(_ x: Float) -> Float { 1 / (1 + expf(-x)) }
}
