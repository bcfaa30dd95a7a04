// The occlusion-sensitivity figure's view: the colour range always holds 0 (a drop and a rise are
// told apart), tokens no patch covered (NaN) are left out of every number, and the numbers name
// the largest drop, the token it is on and the largest rise.
import XCTest
@testable import HatViews
import HatImaging
import HatRecording

final class SensitivityFigureTests: XCTestCase {
    func figure(_ drop: [Float]) -> SensitivityFigure {
        SensitivityFigure(model: "m", stage: 3, stride: 16, rows: 2, cols: 3, drop: drop,
                          windowRects: [PixelRect(x0: 0, y0: 0, width: 48, height: 32)],
                          patchDescription: "1 token", className: "cat", cleanProbability: 0.75)
    }

    func number(_ v: ViewResult, _ name: String) -> String? { v.numbers.first { $0.0 == name }?.1 }

    func testDropsAndRisesAreNumberedAndUncoveredTokensLeftOut() throws {
        let v = figure([0.10, .nan, -0.05, 0.30, 0.0, .nan]).view
        XCTAssertEqual(v.rangeMin, -0.05)
        XCTAssertEqual(v.rangeMax, 0.30)
        XCTAssertEqual(number(v, "clean probability"), "75.0%")
        XCTAssertEqual(number(v, "largest drop"), "+30.00 points")
        XCTAssertEqual(number(v, "most sensitive token"), "r1 c0", "token 3 of a 3-column grid")
        XCTAssertEqual(number(v, "largest rise"), "+5.00 points")
        let field = try XCTUnwrap(v.field)
        XCTAssertEqual(field.cellSize, 16)
        XCTAssertEqual(v.overlays.windowRects.count, 1)
        XCTAssertTrue(v.title.contains("stage 3") && v.title.contains("class cat"), v.title)
    }

    func testOnlyDropsStartTheRangeAtZeroAndSayNoRise() {
        let v = figure([0.2, 0.1, 0.4, 0.3, 0.0, 0.05]).view
        XCTAssertEqual(v.rangeMin, 0)
        XCTAssertEqual(v.rangeMax, 0.4)
        XCTAssertEqual(number(v, "most sensitive token"), "r0 c2")
        XCTAssertNil(number(v, "largest rise"))
    }

    func testAMapWithoutAnyDropStillHasARange() {
        let v = figure([Float](repeating: .nan, count: 6)).view
        XCTAssertLessThan(v.rangeMin, v.rangeMax, "the colour bar needs a range")
        XCTAssertNil(number(v, "most sensitive token"))
        XCTAssertTrue(v.rangeMin.isFinite && v.rangeMax.isFinite)
    }
}
