// A fully connected layer with PyTorch's weight layout: y[n, out] = x[n, in] * W^T + b,
// W stored [out, in]. One sgemm per call.

public struct Linear: Sendable {
    public let inFeatures: Int, outFeatures: Int
    /// [out, in]
    public let weight: [Float]
    /// [out] or nil
    public let bias: [Float]?

    public init(weight: Tensor, bias: Tensor?) {
        precondition(weight.shape.count == 2, "linear weight must be 2-D")
        outFeatures = weight.shape[0]
        inFeatures = weight.shape[1]
        self.weight = weight.data
        self.bias = bias?.data
    }

    /// y [rows, out] = x [rows, in] * W^T (+ b). `x` has row stride `ldx` (default in).
    /// With `accumulate`, y += x * W^T (+ b) (a residual add folded into the GEMM).
    public func apply(_ x: UnsafePointer<Float>, rows: Int, ldx: Int? = nil, into y: UnsafeMutablePointer<Float>,
                      accumulate: Bool = false) {
        let n = outFeatures
        if let b = bias {
            // Put the bias into y first (or onto y when accumulating), then add the product (beta = 1).
            b.withUnsafeBufferPointer { bb in
                let bp = bb.baseAddress!
                Parallel.forRanges(rows, minPerChunk: max(1, 32768 / max(1, n))) { r in
                    for i in r {
                        let row = y + i * n
                        if accumulate { for j in 0..<n { row[j] += bp[j] } } else { row.update(from: bp, count: n) }
                    }
                }
            }
        }
        weight.withUnsafeBufferPointer { wb in
            BLAS.sgemmParallel(transA: false, transB: true, m: rows, n: n, k: inFeatures,
                       a: x, lda: ldx ?? inFeatures, b: wb.baseAddress!, ldb: inFeatures,
                       beta: (bias == nil && !accumulate) ? 0 : 1, c: y, ldc: n)
        }
    }

    /// Convenience: x [rows, in] -> [rows, out].
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let rows = x.count / inFeatures
        var y = [Float](repeating: 0, count: rows * outFeatures)
        x.data.withUnsafeBufferPointer { xb in
            y.withUnsafeMutableBufferPointer { yb in apply(xb.baseAddress!, rows: rows, into: yb.baseAddress!) }
        }
        return Tensor(shape: [rows, outFeatures], data: y)
    }
}
