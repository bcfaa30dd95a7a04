// The GEMM wrapper: products split over the cores agree with a Double reference, for every
// transpose combination the model uses.
import Foundation
@testable import HatCore
import XCTest

final class BLASKernelTests: XCTestCase {
    func testSmallProductAgainstReference() {
        print("OpenBLAS kernels: \(BLAS.coreName)")
        // A 37x29x41 product against a Double reference.
        let m = 37, n = 29, k = 41
        let a = (0..<(m * k)).map { Float(($0 * 7919) % 97) / 97 - 0.5 }
        let b = (0..<(k * n)).map { Float(($0 * 104729) % 89) / 89 - 0.5 }
        var c = [Float](repeating: 0, count: m * n)
        a.withUnsafeBufferPointer { ab in b.withUnsafeBufferPointer { bb in c.withUnsafeMutableBufferPointer { cb in
            BLAS.sgemmParallel(transA: false, transB: false, m: m, n: n, k: k, a: ab.baseAddress!, lda: k,
                               b: bb.baseAddress!, ldb: n, c: cb.baseAddress!, ldc: n)
        } } }
        for i in 0..<m { for j in 0..<n {
            var ref = 0.0
            for t in 0..<k { ref += Double(a[i * k + t]) * Double(b[t * n + j]) }
            XCTAssertEqual(Double(c[i * n + j]), ref, accuracy: 1e-5)
        } }
    }

    func testParallelSplitAlongRowsAndColumns() {
        // Big enough to be split: along n (n >= m) and along m, with transposed operands.
        for (m, n, k, ta, tb) in [(40, 300, 64, false, true), (300, 40, 64, true, false)] {
            let a = (0..<(m * k)).map { Float(($0 * 31) % 53) / 53 - 0.5 }
            let b = (0..<(k * n)).map { Float(($0 * 17) % 61) / 61 - 0.5 }
            var c = [Float](repeating: 1, count: m * n)
            a.withUnsafeBufferPointer { ab in b.withUnsafeBufferPointer { bb in c.withUnsafeMutableBufferPointer { cb in
                BLAS.sgemmParallel(transA: ta, transB: tb, m: m, n: n, k: k, a: ab.baseAddress!, lda: ta ? m : k,
                                   b: bb.baseAddress!, ldb: tb ? k : n, beta: 1, c: cb.baseAddress!, ldc: n)
            } } }
            for i in stride(from: 0, to: m, by: 7) { for j in stride(from: 0, to: n, by: 5) {
                var ref = 1.0
                for t in 0..<k {
                    let av = ta ? a[t * m + i] : a[i * k + t]
                    let bv = tb ? b[j * k + t] : b[t * n + j]
                    ref += Double(av) * Double(bv)
                }
                XCTAssertEqual(Double(c[i * n + j]), ref, accuracy: 1e-4, "\(m)x\(n) at \(i),\(j)")
            } }
        }
    }

    func testBlockHooksCoverEachBlockOnce() {
        // The prepare/finish hooks see disjoint blocks of C that tile it exactly, before and after
        // that block's product: split along n (n >= m), along m, and unsplit (small).
        for (m, n, k) in [(40, 300, 64), (300, 40, 64), (5, 6, 7)] {
            let a = [Float](repeating: 1, count: m * k), b = [Float](repeating: 1, count: k * n)
            var c = [Float](repeating: .nan, count: m * n)
            let visits = UnsafeMutablePointer<Int32>.allocate(capacity: m * n)
            visits.initialize(repeating: 0, count: m * n)
            defer { visits.deallocate() }
            a.withUnsafeBufferPointer { ab in b.withUnsafeBufferPointer { bb in c.withUnsafeMutableBufferPointer { cb in
                let cp = cb.baseAddress!
                BLAS.sgemmParallel(transA: false, transB: false, m: m, n: n, k: k, a: ab.baseAddress!, lda: k,
                                   b: bb.baseAddress!, ldb: n, beta: 1, c: cp, ldc: n,
                                   prepare: { rs, cs in for i in rs { for j in cs { cp[i * n + j] = 2; visits[i * n + j] += 1 } } },
                                   finish: { rs, cs in for i in rs { for j in cs { cp[i * n + j] *= 10; visits[i * n + j] += 1 } } })
            } } }
            // (2 + k) * 10 everywhere: prepared before the product (beta = 1 kept the 2), finished after.
            XCTAssertEqual(Set(c), [Float((2 + k) * 10)], "\(m)x\(n)")
            XCTAssertEqual(Set(UnsafeBufferPointer(start: visits, count: m * n)), [2], "\(m)x\(n) visits")
        }
    }

    func testLinearBiasActivationAndAccumulateWhenSplit() {
        // 64 rows x 96 outputs x 80 inputs is split over the cores; bias, GELU and the residual
        // accumulate run inside each block.
        let rows = 64, inF = 80, outF = 96
        let x = (0..<(rows * inF)).map { Float(($0 * 37) % 101) / 101 - 0.5 }
        let w = (0..<(outF * inF)).map { Float(($0 * 53) % 97) / 97 - 0.5 }
        let bias = (0..<outF).map { Float($0 % 7) / 7 - 0.4 }
        let lin = Linear(weight: Tensor(shape: [outF, inF], data: w), bias: Tensor(shape: [outF], data: bias))
        var ref = [Double](repeating: 0, count: rows * outF)
        for i in 0..<rows { for o in 0..<outF {
            var acc = Double(bias[o])
            for t in 0..<inF { acc += Double(x[i * inF + t]) * Double(w[o * inF + t]) }
            ref[i * outF + o] = acc
        } }
        func run(_ start: [Float], accumulate: Bool, activation: Epilogue) -> [Float] {
            var y = start
            x.withUnsafeBufferPointer { xb in y.withUnsafeMutableBufferPointer { yb in
                lin.apply(xb.baseAddress!, rows: rows, into: yb.baseAddress!, accumulate: accumulate, activation: activation)
            } }
            return y
        }
        let gelu = run([Float](repeating: .nan, count: rows * outF), accumulate: false, activation: .gelu)
        for (g, r) in zip(gelu, ref) { XCTAssertEqual(Double(g), 0.5 * r * (1 + erf(r / 2.0.squareRoot())), accuracy: 1e-5) }
        let start = (0..<(rows * outF)).map { Float($0 % 11) - 5 }
        let summed = run(start, accumulate: true, activation: .none)
        for (i, v) in summed.enumerated() { XCTAssertEqual(Double(v), Double(start[i]) + ref[i], accuracy: 1e-4) }
    }
}
