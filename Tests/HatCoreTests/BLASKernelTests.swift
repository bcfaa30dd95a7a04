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
}
