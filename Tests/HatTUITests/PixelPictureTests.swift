// The text inside the terminal's pictures (the carrier strip's and the matrix's labels, the
// caption) grows with the terminal's cells like the rest of the picture. It was drawn at one
// fixed size: at xterm -fs 16 (cells of about 10 x 20 pixels) the 6 x 10 pixel labels were half as
// tall as the text beside the picture.
import XCTest
@testable import HatTUI
import HatImaging
import HatViews

final class PixelPictureTests: XCTestCase {
    func testTextScaleFollowsTheCellHeight() {
        XCTAssertEqual(PixelPicture.textScale(cellHeight: 1), 1)
        XCTAssertEqual(PixelPicture.textScale(cellHeight: 12), 1)
        XCTAssertEqual(PixelPicture.textScale(cellHeight: 14), 1)
        XCTAssertEqual(PixelPicture.textScale(cellHeight: 15), 2)
        XCTAssertEqual(PixelPicture.textScale(cellHeight: 20), 2)
        XCTAssertEqual(PixelPicture.textScale(cellHeight: 30), 3)
    }

    /// Font pixels of the bitmap text right of the input image (labels and caption are drawn in
    /// FigureStyle.mutedText): the shortest horizontal run of them, which is the font's scale
    /// (every glyph has one-pixel-wide strokes), and how many there are.
    func textRuns(_ view: ViewResult, cellWidth cw: Int, cellHeight ch: Int,
                  maxPixels: Int = .max) throws -> (shortest: Int, pixels: Int, imageScale: Double) {
        let input = FigureRenderer.inputImage(Fixture.recording)
        let (pic, map, _) = PixelPicture.render(view, input: input, area: CellRect(x: 0, y: 0, width: 150, height: 45),
                                                cellWidth: cw, cellHeight: ch, maxWidth: maxPixels, maxHeight: maxPixels,
                                                options: FigureOptions(), matrixOnly: false,
                                                background: CellColor(18, 18, 24))
        let origin = try XCTUnwrap(map.pixels?.imageOrigin)
        let right = origin.x + Int((Double(input.width) * map.scale).rounded(.down))
        let img = pic.image, m = FigureStyle.mutedText
        var shortest = Int.max, pixels = 0
        for y in 0 ..< img.height {
            var run = 0
            for x in right ..< img.width + 1 {
                let i = (y * img.width + x) * 3
                if x < img.width && img.pixels[i] == m.0 && img.pixels[i + 1] == m.1 && img.pixels[i + 2] == m.2 {
                    run += 1; pixels += 1
                } else if run > 0 {
                    shortest = min(shortest, run); run = 0
                }
            }
        }
        return (shortest, pixels, map.scale)
    }

    func testTheCarrierStripsLabelsGrowWithTheCells() throws {
        // The local view: the query's window with its carrier tokens as a labelled strip.
        let state = Fixture.state(width: 150, height: 45)
        let view = try Views.compute(state.view, recording: Fixture.recording, selection: state.selection)
        let strip = try XCTUnwrap(view.matrix)
        XCTAssertEqual(strip.rows, 1)
        for (cw, ch, scale) in [(6, 12, 1), (10, 20, 2), (15, 30, 3)] {
            let runs = try textRuns(view, cellWidth: cw, cellHeight: ch)
            XCTAssertGreaterThan(runs.pixels, 0, "\(cw) x \(ch) cells: the strip has its labels")
            XCTAssertEqual(runs.shortest, scale, "\(cw) x \(ch) cells")
        }
    }

    func testTheMatrixLabelsGrowWithTheCells() throws {
        // The carrier view: the N x N carrier matrix with its row and column labels.
        let state = Fixture.apply(Fixture.state(width: 150, height: 45), [.tab])
        let view = try Views.compute(state.view, recording: Fixture.recording, selection: state.selection)
        XCTAssertGreaterThan(try XCTUnwrap(view.matrix).rows, 1)
        let small = try textRuns(view, cellWidth: 6, cellHeight: 12)
        let large = try textRuns(view, cellWidth: 10, cellHeight: 20)
        XCTAssertEqual(small.shortest, 1)
        XCTAssertEqual(large.shortest, 2)
    }

    func testLargerTextNeverTakesMoreThanAQuarterOfTheImage() throws {
        // xterm shows sixel pictures up to 1000 x 1000 pixels; at -fs 16 (15 x 31 cells) the
        // strip with labels at scale 3 (and cells wide enough for one label each) left the image
        // at 448 pixels instead of about 800. The labels take scale 2 there instead.
        let state = Fixture.state(width: 150, height: 45)
        let view = try Views.compute(state.view, recording: Fixture.recording, selection: state.selection)
        let small = try textRuns(view, cellWidth: 15, cellHeight: 14, maxPixels: 1000)
        let large = try textRuns(view, cellWidth: 15, cellHeight: 31, maxPixels: 1000)
        XCTAssertEqual(small.shortest, 1)
        XCTAssertEqual(large.shortest, 2)
        XCTAssertGreaterThanOrEqual(large.imageScale, 0.75 * small.imageScale)
    }
}
