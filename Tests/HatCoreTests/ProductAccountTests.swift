// Product accounting: every sgemm inside `ProductAccount.measure` counts 2 m n k operations once,
// split over the cores or not, and nothing outside it is counted.
@testable import HatCore
import XCTest

final class ProductAccountTests: XCTestCase {
    private func product(m: Int, n: Int, k: Int, parallel: Bool) {
        let a = [Float](repeating: 0.5, count: m * k), b = [Float](repeating: 0.25, count: k * n)
        var c = [Float](repeating: 0, count: m * n)
        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
            if parallel {
                BLAS.sgemmParallel(transA: false, transB: false, m: m, n: n, k: k, a: ap.baseAddress!, lda: k,
                                   b: bp.baseAddress!, ldb: n, c: cp.baseAddress!, ldc: n)
            } else {
                BLAS.sgemm(transA: false, transB: false, m: m, n: n, k: k, a: ap.baseAddress!, lda: k,
                           b: bp.baseAddress!, ldb: n, c: cp.baseAddress!, ldc: n)
            }
        } } }
        XCTAssertEqual(c[m * n - 1], Float(k) * 0.125)
    }

    func testOneProductCountsTwoMNK() {
        let counted = ProductAccount.measure { product(m: 10, n: 20, k: 30, parallel: false) }.account
        XCTAssertEqual(counted.flops, 2 * 10 * 20 * 30)
        XCTAssertEqual(counted.products, 1)
        XCTAssertGreaterThan(counted.nanoseconds, 0)
    }

    /// A product split into one block per core counts its operations once in all (each block's
    /// own call counts its part), whatever the core count.
    func testASplitProductCountsItsWorkOnce() {
        let (m, n, k) = (64, 512, 96)
        let counted = ProductAccount.measure { product(m: m, n: n, k: k, parallel: true) }.account
        XCTAssertEqual(counted.flops, 2 * m * n * k)
        XCTAssertGreaterThanOrEqual(counted.products, 1)
        XCTAssertLessThanOrEqual(counted.products, max(1, Parallel.cores))
    }

    func testOnlyWorkInsideMeasureIsCountedAndNestingSeesItsOwnPart() {
        product(m: 8, n: 8, k: 8, parallel: false)   // before: not counted anywhere
        let outer = ProductAccount.measure { () -> ProductAccount in
            product(m: 4, n: 5, k: 6, parallel: false)
            return ProductAccount.measure { product(m: 2, n: 3, k: 4, parallel: false) }.account
        }
        XCTAssertEqual(outer.result.flops, 2 * 2 * 3 * 4)
        XCTAssertEqual(outer.account.flops, 2 * 4 * 5 * 6 + 2 * 2 * 3 * 4)
        XCTAssertEqual(outer.account.products, 2)
        XCTAssertEqual(ProductAccount.measure {}.account, ProductAccount())
    }

    /// The rate is a real measurement of the same path: positive, finite, and in the range a CPU
    /// core can do (under 10 TFLOP/s for the whole machine).
    func testSgemmRateIsAMeasuredRate() {
        let rate = SgemmRate.measure(size: 256, repeats: 2)
        XCTAssertTrue(rate.isFinite && rate > 0.1 && rate < 10_000, "\(rate)")
    }
}
