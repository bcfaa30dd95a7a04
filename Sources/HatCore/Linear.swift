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

    /// y [rows, out] = act(x [rows, in] * W^T (+ b)). `x` has row stride `ldx` (default in).
    /// With `accumulate`, y += x * W^T (+ b) (a residual add folded into the GEMM; no activation).
    /// The bias and the activation run inside each core's block of the product (see
    /// BLAS.sgemmParallel), so a layer is one parallel dispatch.
    public func apply(_ x: UnsafePointer<Float>, rows: Int, ldx: Int? = nil, into y: UnsafeMutablePointer<Float>,
                      accumulate: Bool = false, activation: Epilogue = .none) {
        precondition(!(accumulate && activation != .none), "an activation after a residual add is not a linear epilogue")
        let n = outFeatures
        let finish: ((Range<Int>, Range<Int>) -> Void)?
        switch activation {
        case .none: finish = nil
        case .relu: finish = { rs, cs in for i in rs { Activations.reluSerial(y + i * n + cs.lowerBound, count: cs.count) } }
        case .gelu: finish = { rs, cs in for i in rs { Activations.geluSerial(y + i * n + cs.lowerBound, count: cs.count) } }
        }
        func product(bias bp: UnsafePointer<Float>?) {
            // The bias goes into y first (or onto y when accumulating), then the product adds (beta = 1).
            let prepare: ((Range<Int>, Range<Int>) -> Void)? = bp.map { bp in
                { rs, cs in
                    for i in rs {
                        let row = y + i * n
                        if accumulate {
                            for j in cs { row[j] += bp[j] }
                        } else {
                            (row + cs.lowerBound).update(from: bp + cs.lowerBound, count: cs.count)
                        }
                    }
                }
            }
            weight.withUnsafeBufferPointer { wb in
                BLAS.sgemmParallel(transA: false, transB: true, m: rows, n: n, k: inFeatures,
                                   a: x, lda: ldx ?? inFeatures, b: wb.baseAddress!, ldb: inFeatures,
                                   beta: (bp == nil && !accumulate) ? 0 : 1, c: y, ldc: n,
                                   prepare: prepare, finish: finish)
            }
        }
        if let bias { bias.withUnsafeBufferPointer { product(bias: $0.baseAddress!) } } else { product(bias: nil) }
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
