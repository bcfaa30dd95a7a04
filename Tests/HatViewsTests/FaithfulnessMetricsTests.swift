// Order, steps, AUC, Spearman with ties, the pointing game's tolerance.
import XCTest
import HatRecording
@testable import HatViews

final class FaithfulnessMetricsTests: XCTestCase {
    func testMetrics() {
        XCTAssertEqual(FaithfulnessMetrics.order([0.2, .nan, 0.9, 0.2, 1]), [4, 2, 0, 3, 1])
        XCTAssertEqual(FaithfulnessMetrics.counts(tokens: 196, steps: 28), (0 ... 28).map { $0 * 7 })
        XCTAssertEqual(FaithfulnessMetrics.counts(tokens: 10, steps: 4), [0, 2, 5, 7, 10])
        // A straight line from 1 to 0 has area 1/2; a step at the middle from 1 to 0 also.
        XCTAssertEqual(FaithfulnessMetrics.auc(x: [0, 0.5, 1], y: [1, 0.5, 0]), 0.5, accuracy: 1e-12)
        XCTAssertEqual(FaithfulnessMetrics.auc(x: [0, 0.25, 1], y: [1, 1, 1]), 1, accuracy: 1e-12)
        XCTAssertEqual(FaithfulnessMetrics.spearman([1, 2, 3, 4], [10, 20, 30, 40]), 1, accuracy: 1e-12)
        XCTAssertEqual(FaithfulnessMetrics.spearman([1, 2, 3, 4], [4, 3, 2, 1]), -1, accuracy: 1e-12)
        XCTAssertTrue(FaithfulnessMetrics.spearman([1, 1, 1], [1, 2, 3]).isNaN, "constant map")
        XCTAssertEqual(FaithfulnessMetrics.ranks([5, 1, 5, 3]), [3.5, 1, 3.5, 2])
        // Spearman with ties = Pearson of mean ranks: ranks (1.5, 1.5, 3) vs (1, 2, 3).
        XCTAssertEqual(FaithfulnessMetrics.spearman([0, 0, 1], [1, 2, 3]), 0.8660254037844386, accuracy: 1e-12)
        // Pointing: the top token r1 c2 of a 14-column grid at stride 16 has its centre at (40, 24).
        var v = [Float](repeating: 0, count: 196); v[16] = 1
        let map = SaliencyMap(rows: 14, cols: 14, values: v)
        XCTAssertTrue(FaithfulnessMetrics.pointingHit(map, stride: 16, boxes: [ObjectBox(x0: 30, y0: 20, x1: 50, y1: 30)]))
        XCTAssertTrue(FaithfulnessMetrics.pointingHit(map, stride: 16, boxes: [ObjectBox(x0: 54, y0: 0, x1: 80, y1: 10)]), "within 15 px")
        XCTAssertFalse(FaithfulnessMetrics.pointingHit(map, stride: 16, boxes: [ObjectBox(x0: 56, y0: 0, x1: 80, y1: 10)]))
    }
}
