// The machine's matrix-product rate as the model gets it: square products through
// `BLAS.sgemmParallel` (one single-threaded OpenBLAS call per core, the model's own path), with the
// kernels and threads in use. A large square product is the best case for any GEMM, so no
// forward's products can run faster on average: `ProductAccount.flops / rate` is a floor under
// the time of a forward's products, the "sgemm limit" `hatscope bench` reports.
import Foundation

public enum SgemmRate {
    /// Best GFLOP/s over `repeats` products of [size, size] x [size, size] (after one untimed run).
    public static func measure(size: Int = 1024, repeats: Int = 5) -> Double {
        precondition(size >= 1 && repeats >= 1)
        // a, b [size, size], row-major, values in [-0.5, 0.5); c [size, size].
        let a = (0..<(size * size)).map { Float(($0 * 7919) % 1009) / 1009 - 0.5 }
        let b = (0..<(size * size)).map { Float(($0 * 104729) % 997) / 997 - 0.5 }
        var c = [Float](repeating: 0, count: size * size)
        var best = Double.infinity
        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
            for run in 0...repeats {
                let start = DispatchTime.now().uptimeNanoseconds
                BLAS.sgemmParallel(transA: false, transB: false, m: size, n: size, k: size, a: ap.baseAddress!, lda: size,
                                   b: bp.baseAddress!, ldb: size, c: cp.baseAddress!, ldc: size)
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                if run > 0 { best = min(best, seconds) }
            }
        } } }
        return 2 * Double(size) * Double(size) * Double(size) / best / 1e9
    }
}
