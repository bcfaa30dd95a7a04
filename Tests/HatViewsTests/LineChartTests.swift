// The faithfulness figures' line chart: each series' points land on the plot by its ranges (the x
// range spans the plot's width, the y range its height, y outside the range pinned to the frame),
// NaN points are left out, and the legend wraps to the width it is given.
import XCTest
@testable import HatViews

final class LineChartTests: XCTestCase {
    static let ink: RGB = (1, 2, 3)   // a colour nothing else in a chart uses

    /// Bounding box (x0, y0, x1, y1) of the pixels of `ink`.
    func box(_ c: Canvas) -> (Int, Int, Int, Int)? {
        var b: (Int, Int, Int, Int)?
        let p = c.image.pixels
        for y in 0..<c.height {
            for x in 0..<c.width {
                let i = (y * c.width + x) * 3
                guard p[i] == Self.ink.0, p[i + 1] == Self.ink.1, p[i + 2] == Self.ink.2 else { continue }
                b = b.map { (min($0.0, x), min($0.1, y), max($0.2, x), max($0.3, y)) } ?? (x, y, x, y)
            }
        }
        return b
    }

    func draw(_ points: [(x: Double, y: Double)]) -> Canvas {
        let chart = LineChart(title: "t", xLabel: "x", yLabel: "y", x: 0 ... 10, y: 0 ... 1,
                              series: [.init(label: "s", color: Self.ink, points: points)])
        var c = Canvas(width: chart.size.width, height: chart.size.height)
        chart.draw(on: &c, x: 0, y: 0)
        return c
    }

    func testTheRangesSpanThePlotAndOutOfRangeValuesStayOnTheFrame() throws {
        // Corners of the ranges (y = 5 is pinned to the top), a NaN between them skipped.
        let (x0, y0, x1, y1) = try XCTUnwrap(box(draw([(0, 0), (5, .nan), (10, 5)])))
        // Markers are 5 x 5 around the point: the points are plotWidth - 1 and plotHeight - 1 apart.
        XCTAssertEqual(x1 - x0, LineChart.plotWidth - 1 + 4)
        XCTAssertEqual(y1 - y0, LineChart.plotHeight - 1 + 4)
        // The plot starts two text lines (and 6 pixels) below the chart's top.
        XCTAssertEqual(y0, 2 * Canvas.lineHeight + 6 - 2)
    }

    func testAFlatSeriesIsOneRowOfMarkersHalfWayUp() throws {
        let (x0, y0, x1, y1) = try XCTUnwrap(box(draw([(0, 0.5), (10, 0.5)])))
        XCTAssertEqual(x1 - x0, LineChart.plotWidth - 1 + 4)
        XCTAssertEqual(y1 - y0, 4, "one row of 5-pixel markers and a line between them")
        let top = 2 * Canvas.lineHeight + 6
        XCTAssertEqual(y0 + 2, top + LineChart.plotHeight - 1 - Int((0.5 * Double(LineChart.plotHeight - 1)).rounded()))
    }

    func testASeriesOfOnlyNaNDrawsNothing() {
        XCTAssertNil(box(draw([(0, .nan), (10, .infinity)])))
    }

    func testTheLegendWrapsToItsWidth() {
        let labels = ["deletion", "insertion", "random"]
        let wide = LineChart.legendLayout(labels, width: 10_000)
        XCTAssertEqual(wide.positions.map(\.y), [0, 0, 0])
        XCTAssertEqual(wide.height, Canvas.lineHeight)
        let entry = { (s: String) in 16 + Canvas.textWidth(s) + 16 }
        XCTAssertEqual(wide.positions.map(\.x), [0, entry("deletion"), entry("deletion") + entry("insertion")])
        // Room for one entry per row: every entry starts a row, even one wider than the width.
        let narrow = LineChart.legendLayout(labels, width: 1)
        XCTAssertEqual(narrow.positions.map(\.x), [0, 0, 0])
        XCTAssertEqual(narrow.positions.map(\.y), [0, Canvas.lineHeight + 2, 2 * (Canvas.lineHeight + 2)])
        XCTAssertEqual(narrow.height, 2 * (Canvas.lineHeight + 2) + Canvas.lineHeight)
    }
}
