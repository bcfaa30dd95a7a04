// The one file that talks to OpenBLAS. Every matrix product in hatscope goes through `BLAS.sgemm`.
//
// All matrices are row-major. `sgemm` computes
//     C[m, n] = alpha * op(A)[m, k] * op(B)[k, n] + beta * C[m, n]
// where op(A) = A when `transA` is false (A stored [m, k], lda >= k) and op(A) = A^T when true
// (A stored [k, m], lda >= m); likewise op(B) = B stored [k, n] (ldb >= n) or B^T with B stored
// [n, k] (ldb >= k). Leading dimensions count elements between consecutive rows as stored, which
// lets callers address a column block of a wider matrix (one attention head inside qkv).
//
// Worked shapes used by the model:
// - linear layer  y[n, out] = x[n, in] * W^T, W stored [out, in] (PyTorch layout):
//   sgemm(transA: false, transB: true, m: n, n: out, k: in, a: x, lda: in, b: W, ldb: in)
// - convolution   y[cout, pixels] = W[cout, cin*9] * cols[cin*9, pixels] (im2col):
//   sgemm(transA: false, transB: false, m: cout, n: pixels, k: cin*9, ...)
// - attention     S[T, T] = Q[T, d] * K[T, d]^T with rows of Q and K strided by 3C inside qkv:
//   sgemm(transA: false, transB: true, m: T, n: T, k: d, a: q, lda: 3C, b: k, ldb: 3C)
//   and O[T, d] = P[T, T] * V[T, d]: sgemm(transA: false, transB: false, m: T, n: d, k: T, ...)
import CBLAS

public enum BLAS {
    public static func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                             alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                             b: UnsafePointer<Float>, ldb: Int,
                             beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        if m == 0 || n == 0 { return }
        if k == 0 {
            // BLAS would only scale C; do it here so callers need not special-case k == 0.
            for i in 0..<m { for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] } }
            return
        }
        ProductAccount.count(m: m, n: n, k: k) {
            cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                        blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb),
                        beta, c, blasint(ldc))
        }
    }

    /// `sgemm` split into one block per core (each an ordinary single-threaded OpenBLAS call run
    /// through Parallel), along n when n >= m (column blocks of op(B) and C), else along m (row
    /// blocks of op(A) and C). The model runs OpenBLAS single-threaded and splits here instead:
    /// OpenBLAS's own worker threads spin in sched_yield between calls and steal the cores from
    /// the non-GEMM work that follows each product.
    ///
    /// `prepare(rows, cols)` runs in the block's task just before its product and `finish(rows,
    /// cols)` just after, on the block of C it owns: a bias written into C (then beta = 1) or an
    /// activation applied while the block is still in the core's cache, without a second
    /// parallel pass over C.
    public static func sgemmParallel(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                                     alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                                     b: UnsafePointer<Float>, ldb: Int,
                                     beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int,
                                     prepare: ((Range<Int>, Range<Int>) -> Void)? = nil,
                                     finish: ((Range<Int>, Range<Int>) -> Void)? = nil) {
        let parts = Parallel.cores
        if parts <= 1 || m * n * k < (1 << 18) || max(m, n) < 32 {
            prepare?(0..<m, 0..<n)
            sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                  b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            finish?(0..<m, 0..<n)
            return
        }
        let alongN = n >= m
        let total = alongN ? n : m
        // Blocks in multiples of 16 columns/rows keep the micro-kernels on full tiles.
        let step = ((total + parts - 1) / parts + 15) / 16 * 16
        let blocks = (total + step - 1) / step
        Parallel.forEach(blocks) { i in
            let lo = i * step, len = min(total, lo + step) - lo
            let rows = alongN ? 0..<m : lo..<(lo + len), cols = alongN ? lo..<(lo + len) : 0..<n
            prepare?(rows, cols)
            if alongN {
                // op(B) columns lo..<lo+len: B[k, n] -> b + lo;  B^T stored [n, k] -> b + lo*ldb
                sgemm(transA: transA, transB: transB, m: m, n: len, k: k, alpha: alpha, a: a, lda: lda,
                      b: transB ? b + lo * ldb : b + lo, ldb: ldb, beta: beta, c: c + lo, ldc: ldc)
            } else {
                // op(A) rows lo..<lo+len: A[m, k] -> a + lo*lda;  A^T stored [k, m] -> a + lo
                sgemm(transA: transA, transB: transB, m: len, n: n, k: k, alpha: alpha,
                      a: transA ? a + lo : a + lo * lda, lda: lda, b: b, ldb: ldb,
                      beta: beta, c: c + lo * ldc, ldc: ldc)
            }
            finish?(rows, cols)
        }
    }

    /// The OpenBLAS kernel family in use ("Haswell", "SkylakeX", "Cooperlake", ...): chosen by
    /// OpenBLAS from the CPU when it loads, or forced with the OPENBLAS_CORETYPE variable.
    public static var coreName: String {
        guard let p = openblas_get_corename() else { return "unknown" }
        return String(cString: p)
    }

    /// Threads OpenBLAS uses inside one sgemm call.
    public static var threads: Int {
        get { Int(openblas_get_num_threads()) }
    }

    /// Sets the OpenBLAS thread count (1 inside parallel loops that each call sgemm).
    public static func setThreads(_ n: Int) {
        openblas_set_num_threads(Int32(max(1, n)))
    }
}
