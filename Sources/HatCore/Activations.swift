// Elementwise activations and the row softmax, in place, 8 lanes at a time (FastMath), spread
// over the cores.
import Foundation

/// What happens to each output of a product (convolution, linear layer) after the bias, in the same
/// pass over the freshly computed values.
public enum Epilogue: Sendable { case none, relu, gelu }

public enum Activations {
    public typealias V = SIMD8<Float>

    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> V {
        UnsafeRawPointer(p).loadUnaligned(as: V.self)
    }
    @inline(__always) static func store(_ v: V, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
    }

    /// Exact GELU (PyTorch nn.GELU default): x * 0.5 * (1 + erf(x / sqrt(2))), with erf as in
    /// PyTorch's vectorised CPU kernel (FastMath.erf).
    @inline(__always)
    public static func gelu(_ v: V) -> V {
        v * 0.5 * (1 + FastMath.erf(v * 0.70710678118654752440))
    }

    /// GELU of x[0..<count] in place, on one thread.
    public static func geluSerial(_ x: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count { store(gelu(load(x + i)), x + i); i += 8 }
        while i < count { x[i] = gelu(V(repeating: x[i]))[0]; i += 1 }
    }

    public static func gelu(_ x: UnsafeMutablePointer<Float>, count: Int) {
        Parallel.forRanges(count / 8, minPerChunk: 2048) { r in
            geluSerial(x + r.lowerBound * 8, count: r.count * 8)
        }
        let tail = count - count % 8
        if tail < count { geluSerial(x + tail, count: count - tail) }
    }

    public static func reluSerial(_ x: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count { let v = load(x + i); store(v.replacing(with: 0, where: v .< 0), x + i); i += 8 }
        while i < count { x[i] = Swift.max(x[i], 0); i += 1 }
    }

    /// x[i] = epilogue(x[i] + bias) for x[0..<count], on one thread: a convolution's bias and
    /// activation in one pass over its output.
    public static func biasSerial(_ x: UnsafeMutablePointer<Float>, count: Int, bias: Float, epilogue: Epilogue) {
        let b = V(repeating: bias)
        var i = 0
        switch epilogue {
        case .none:
            if bias == 0 { return }
            while i + 8 <= count { store(load(x + i) + b, x + i); i += 8 }
        case .relu:
            while i + 8 <= count { let v = load(x + i) + b; store(v.replacing(with: 0, where: v .< 0), x + i); i += 8 }
        case .gelu:
            while i + 8 <= count { store(gelu(load(x + i) + b), x + i); i += 8 }
        }
        while i < count {
            let v = x[i] + bias
            switch epilogue {
            case .none: x[i] = v
            case .relu: x[i] = Swift.max(v, 0)
            case .gelu: x[i] = gelu(V(repeating: v))[0]
            }
            i += 1
        }
    }

    public static func relu(_ x: UnsafeMutablePointer<Float>, count: Int) {
        Parallel.forRanges(count, minPerChunk: 32768) { r in reluSerial(x + r.lowerBound, count: r.count) }
    }

    /// Softmax of one row of n values, in place (max-subtracted, as PyTorch).
    @inline(__always)
    public static func softmaxRow(_ row: UnsafeMutablePointer<Float>, _ n: Int) {
        var i = 0
        var mv = V(repeating: -.infinity)
        while i + 8 <= n { mv = FastMath.max(mv, load(row + i)); i += 8 }
        var m = mv.max()
        while i < n { m = Swift.max(m, row[i]); i += 1 }
        let mm = V(repeating: m)
        var sv = V(repeating: 0)
        i = 0
        while i + 8 <= n {
            let e = FastMath.exp(load(row + i) - mm)
            store(e, row + i)
            sv += e
            i += 8
        }
        var sum = sv.sum()
        if i < n {
            // The last n % 8 values in one vector exp rather than a whole one each (a window row of
            // 53 has 5): every lane is computed on its own, so each value is the scalar one, and
            // they join the sum one by one in order as before.
            let left = n - i
            var tail = V(repeating: m)
            for j in 0..<left { tail[j] = row[i + j] }
            let e = FastMath.exp(tail - mm)
            for j in 0..<left { row[i + j] = e[j]; sum += e[j] }
            i = n
        }
        let inv = 1 / sum
        let iv = V(repeating: inv)
        i = 0
        while i + 8 <= n { store(load(row + i) * iv, row + i); i += 8 }
        while i < n { row[i] *= inv; i += 1 }
    }

    /// 1 / (1 + exp(-x)), the logistic sigmoid.
    @inline(__always)
    public static func sigmoid(_ x: Float) -> Float { 1 / (1 + expf(-x)) }
}
