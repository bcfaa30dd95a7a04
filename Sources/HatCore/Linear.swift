// A fully connected layer, y[n, out] = x[n, in] * W^T + b with PyTorch's W [out, in], stored
// transposed as Wt [in, out] so the product is a plain NN sgemm: OpenBLAS then packs the weight
// panels with straight copies of consecutive outputs rather than gathering 16 weight rows at a
// time (the weight is repacked on every call, and for 16-212 token rows that packing is about a
// tenth of the layer's time). Measured on faster_vit_0_224: forward -0.6 ms, load +50 ms (the
// transposes). One sgemm per call.

public struct Linear: Sendable {
    public let inFeatures: Int, outFeatures: Int
    /// [in, out]: W transposed.
    public let weightT: [Float]
    /// [out, in], PyTorch's layout (computed; for inspection and tests).
    public var weight: [Float] {
        var w = [Float](repeating: 0, count: weightT.count)
        for i in 0..<inFeatures { for o in 0..<outFeatures { w[o * inFeatures + i] = weightT[i * outFeatures + o] } }
        return w
    }
    /// [out] or nil
    public let bias: [Float]?

    public init(weight: Tensor, bias: Tensor?) {
        precondition(weight.shape.count == 2, "linear weight must be 2-D")
        outFeatures = weight.shape[0]
        inFeatures = weight.shape[1]
        let (o, i) = (weight.shape[0], weight.shape[1])
        weightT = weight.data.withUnsafeBufferPointer { w in
            [Float](unsafeUninitializedCapacity: o * i) { t, initialized in
                // t[c, r] = w[r, c] in 32 x 32 blocks (both sides stay in cache).
                // Split over the cores by blocks of 32 input features (disjoint rows of t).
                let src = w.baseAddress!, dst = t.baseAddress!
                Parallel.forRanges((i + 31) / 32, minPerChunk: max(1, 32768 / max(1, 32 * o))) { blocks in
                    for cb in blocks {
                        let c0 = cb * 32, c1 = min(i, c0 + 32)
                        for r0 in stride(from: 0, to: o, by: 32) {
                            for r in r0..<min(o, r0 + 32) {
                                for c in c0..<c1 { dst[c &* o &+ r] = src[r &* i &+ c] }
                            }
                        }
                    }
                }
                initialized = o * i
            }
        }
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
        weightT.withUnsafeBufferPointer { wb in
            BLAS.sgemmParallel(transA: false, transB: false, m: rows, n: n, k: inFeatures,
                       a: x, lda: ldx ?? inFeatures, b: wb.baseAddress!, ldb: n,
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
