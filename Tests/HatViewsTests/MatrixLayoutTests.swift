// The matrix's layout on a given width: the row labels are part of the width (they pushed the
// matrix's last columns off the screen's picture: the tour's 16 x 16 carrier matrix in a
// 150 x 45 xterm lost its column r3c3).
import XCTest
import HatImaging
@testable import HatViews

final class MatrixLayoutTests: XCTestCase {
    func carriers(_ n: Int, labels: Bool = true) -> MatrixField {
        let names = (0 ..< n).map { "r\($0 / 4)c\($0 % 4)" }
        return MatrixField(rows: n, cols: n, values: (0 ..< n * n).map { Float($0 % (n + 1) == 0 ? 1 : 0) },
                           rowLabels: labels ? names : [], colLabels: labels ? names : [])
    }

    func testAGivenWidthHoldsTheLabelsAndTheWholeGrid() {
        for width in [120, 200, 300, 470, 500, 800] {
            let l = MatrixLayout(carriers(16), available: 1000, availableWidth: width)
            XCTAssertLessThanOrEqual(l.leftBand + l.gridWidth, width, "width \(width): cell \(l.cell), labels \(l.rowLabelWidth)")
            // The caption under the grid ("rows: queries, columns: keys", 168 pixels) is cut in
            // narrower pictures; the grid never is.
            if width >= 200 { XCTAssertLessThanOrEqual(l.width, width) }
        }
        // The case seen: 470 pixels, labels shown, every column inside.
        let l = MatrixLayout(carriers(16), available: 1000, availableWidth: 470)
        XCTAssertGreaterThan(l.rowLabelWidth, 0, "cells large enough for labels keep them")
        XCTAssertEqual(l.cell, (470 - l.rowLabelWidth - MatrixLayout.markerBar - 1) / 16)
    }

    func testLabelsGoWhenTheyWouldLeaveCellsTooSmallForThem() {
        // 16 columns in 150 pixels: with labels a cell would be smaller than a glyph.
        let l = MatrixLayout(carriers(16), available: 1000, availableWidth: 150)
        XCTAssertEqual(l.rowLabelWidth, 0)
        XCTAssertEqual(l.cell, (150 - MatrixLayout.markerBar - 1) / 16)
        XCTAssertLessThanOrEqual(l.leftBand + l.gridWidth, 150)
    }

    func testTheScreenPictureOfAMatrixKeepsItsLastColumn() throws {
        let m = carriers(16)
        let view = ViewResult(kind: .carrier, title: "", explanation: [], field: nil, matrix: m, overlays: Overlays(),
                              rangeMin: 0, rangeMax: 1, scaleLabel: "", numbers: [])
        let input = RGBImage(width: 8, height: 8)
        let pic = ScreenPictureRenderer.render(view, input: input, options: FigureOptions(), width: 470, height: 520,
                                               matrixOnly: true, background: (0, 0, 0))
        let g = try XCTUnwrap(pic.matrix)
        let right = g.x + g.cols * g.cell + g.separatorCols
        XCTAssertLessThanOrEqual(right, 470, "the grid's right edge is inside the picture")
    }

    func testLargerTextKeepsEveryLabelOfTheCarrierStrip() {
        // The local view's strip: one query row over a window's 4 carriers. With text twice as
        // large the cells grow too, so every carrier keeps its label.
        let strip = MatrixField(rows: 1, cols: 4, values: [0.1, 0.2, 0.3, 0.4], markedRows: 0, markedCols: 4,
                                rowLabels: ["query"], colLabels: ["r0c0", "r0c1", "r1c0", "r1c1"])
        for ts in 1 ... 3 {
            let l = MatrixLayout(strip, available: 600, textScale: ts)
            XCTAssertEqual(l.labelScale, ts)
            XCTAssertEqual(l.captionScale, ts)
            XCTAssertEqual(l.colLabelStep, 1, "text scale \(ts): cell \(l.cell)")
            XCTAssertEqual(l.rowLabelWidth, Canvas.textWidth("query", scale: ts) + 4 * ts)
        }
        XCTAssertEqual(MatrixLayout(strip, available: 600).cell, 32, "figures keep their size")
    }

    func testLargeTextFallsBackToASmallerScaleBeforeLosingTheLabels() {
        // 16 carriers in 300 pixels: cells of about 15 pixels hold labels at scale 1, not 3.
        let l = MatrixLayout(carriers(16), available: 1000, availableWidth: 300, textScale: 3)
        XCTAssertGreaterThan(l.rowLabelWidth, 0)
        XCTAssertEqual(l.labelScale, 1)
        XCTAssertGreaterThanOrEqual(l.cell, BitmapFont.glyphHeight)
        XCTAssertLessThanOrEqual(l.leftBand + l.gridWidth, 300)
    }
}
