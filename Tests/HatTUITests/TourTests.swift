import XCTest
import HatRecording
import HatViews
import HatImaging
@testable import HatTUI
import Foundation

// The tour on screen: its keys, every step's frame, the explorer's t / T. What the steps say is
// tested in HatViewsTests/TourContentTests; that every key named on screen works, in KeyHintTests.
final class TourScreenTests: XCTestCase {
    func context(_ name: String) -> ExplorerContext {
        ExplorerContext(recording: SyntheticScene.recording(config: ModelConfig.preset(named: name)!),
                        checkpointLabel: "synthetic")
    }

    func testKeysMoveThroughTheStepsAndQuit() {
        var s = TourState(count: 8)
        s = TourKeys.handle(s, .char(" ")).state
        s = TourKeys.handle(s, .right).state
        XCTAssertEqual(s.index, 2)
        s = TourKeys.handle(s, .char("\u{7f}")).state  // Backspace (DEL)
        XCTAssertEqual(s.index, 1)
        s = TourKeys.handle(s, .left).state
        s = TourKeys.handle(s, .left).state  // stays at the first step
        XCTAssertEqual(s.index, 0)
        s = TourKeys.handle(s, .char("G")).state
        XCTAssertEqual(s.index, 7)
        XCTAssertTrue(s.isLast)
        s = TourKeys.handle(s, .char(" ")).state  // stays at the last step
        XCTAssertEqual(s.index, 7)
        XCTAssertTrue(TourKeys.handle(s, .char("q")).quit)
        XCTAssertTrue(TourKeys.handle(s, .escape).quit)
        XCTAssertFalse(TourKeys.handle(s, .char("x")).quit)
        XCTAssertEqual(TourKeys.handle(s, .resize(width: 90, height: 30)).state.screenWidth, 90)
    }

    func testEveryFrameShowsItsStepAndTheKeys() {
        let screen = TourScreen(context: context("faster_vit_0_224"))
        let n = TourStepKind.allCases.count
        XCTAssertEqual(screen.stepCount, n)
        for i in 0 ..< n {
            let buf = screen.frame(TourState(count: n, index: i, screenWidth: 140, screenHeight: 42))
            let text = buf.text
            let step = screen.guide.step(i)
            XCTAssertTrue(buf.line(0).contains("step \(i + 1)/\(n)"), buf.line(0))
            XCTAssertTrue(text.contains(String(step.facts[0].prefix(30))), "step \(i): \(step.facts[0])")
            XCTAssertTrue(buf.line(41).contains("Space"))
            // The picture is half blocks.
            XCTAssertTrue(buf.line(20).unicodeScalars.contains("\u{2580}"), "step \(i)")
        }
        // Propagation is off in faster_vit_0: the frame says so.
        let prop = TourStepKind.allCases.firstIndex(of: .propagation)!
        let p = screen.frame(TourState(count: n, index: prop, screenWidth: 140, screenHeight: 42)).text
        XCTAssertTrue(p.contains("does not apply to faster_vit_0_224"))
        // The statistics step draws the scatter and the heatmap with a row per block.
        let st = screen.frame(TourState(count: n, index: n - 1, screenWidth: 140, screenHeight: 42)).text
        XCTAssertTrue(st.contains("mean attention distance (px) per head"))
        XCTAssertTrue(st.contains("stage 3 (6 blocks)"))
        XCTAssertTrue(st.contains("s4 b4"))
    }

    func testTheStatisticsHeatmapHasItsColourScaleAndShowsInMonochrome() {
        let screen = TourScreen(context: context("faster_vit_0_224"))
        let n = screen.stepCount
        let state = TourState(count: n, index: n - 1, screenWidth: 140, screenHeight: 42)
        let buf = screen.frame(state)
        // The heatmap's rows (s3 b0 ... s4 b4), then its scale: 0, the colour map's steps, the largest value.
        let rows = (0 ..< buf.height).filter { buf.line($0).hasPrefix(" s3 b") || buf.line($0).hasPrefix(" s4 b") }
        guard let last = rows.last else { return XCTFail("no heatmap rows:\n\(buf.text)") }
        let scale = buf.line(last + 1)
        XCTAssertTrue(scale.range(of: #"^ +0 +\d+ px"#, options: .regularExpression) != nil, "the colour scale row: \(scale)")
        let swatches = (0 ..< buf.width).filter { buf[$0, last + 1].attributes.contains(.picture) }
        XCTAssertGreaterThanOrEqual(swatches.count, 4, scale)
        guard let a = swatches.first, let b = swatches.last else { return }
        let first = buf[a, last + 1].bg, end = buf[b, last + 1].bg
        let map = Colormap.viridis
        XCTAssertEqual(first, CellColor(map.rgb(0)), "the scale starts at the colour of 0")
        XCTAssertEqual(end, CellColor(map.rgb(1)), "and ends at the colour of the largest value")
        // Monochrome (NO_COLOR): the heat cells are shades, not blanks.
        let mono = screen.frame(state, tier: .mono)
        for y in rows {
            let cells = (0 ..< mono.width).map { mono[$0, y] }.filter { $0.attributes.contains(.picture) || Palette.shades.dropFirst().contains($0.glyph) }
            XCTAssertTrue(cells.contains { $0.glyph != " " }, "row \(mono.line(y)): the heatmap shows in monochrome")
        }
        XCTAssertTrue(screen.frame(TourState(count: n, index: n - 1, screenWidth: 160, screenHeight: 42)).text.contains("stage 4 (5 blocks)"))
        // A stage's name under its blocks is whole or shorter, never cut mid-word.
        for w in [100, 120, 140] {
            let t = screen.frame(TourState(count: n, index: n - 1, screenWidth: w, screenHeight: 42)).text
            XCTAssertNil(t.range(of: #"stage \d \((?!\d+ blocks?\))"#, options: .regularExpression), "a stage name cut at \(w):\n\(t)")
        }
    }

    func testATextTallerThanTheScreenPagesWithSpaceAndEveryParagraphIsShown() {
        // 80 x 24 (and half the steps at 100 x 30): the text was cut with "a larger terminal
        // shows the rest", the rest out of reach. Space pages through it, then goes on.
        let screen = TourScreen(context: context("faster_vit_0_224"))
        let n = screen.stepCount
        var state = TourState(count: n, screenWidth: 80, screenHeight: 24)
        var paged = 0
        for i in 0 ..< n {
            XCTAssertEqual(state.index, i)
            var seen = "", pages = 0
            while state.index == i && pages < 30 {
                let text = screen.frame(state).text
                XCTAssertFalse(text.contains("a larger terminal shows the rest"), "step \(i + 1): nothing out of reach")
                seen += text
                pages += 1
                if i == n - 1 && screen.textExtent(state).total <= state.scroll + screen.textExtent(state).visible { break }
                state = TourKeys.handle(state, .char(" "), text: screen.textExtent(state)).state
            }
            if pages > 1 { paged += 1 }
            let step = screen.guide.step(i)
            for p in step.facts + step.sentences {
                let start = String(p.prefix(16))
                XCTAssertTrue(seen.contains(start), "step \(i + 1): \"\(start)\" never shown")
            }
            if i == n - 1 {
                // The plot's legend stays out of the text beside it.
                XCTAssertFalse(seen.contains("\u{2022}a"), "the legend shows through the text:\n\(seen)")
            }
        }
        XCTAssertGreaterThan(paged, n / 2, "most steps need more than one page at 80 x 24")
        // \u{2191} pages back within a step; \u{2190} always goes to the step before.
        var s = TourState(count: n, index: 3, screenWidth: 80, screenHeight: 24)
        s = TourKeys.handle(s, .down, text: screen.textExtent(s)).state
        XCTAssertGreaterThan(s.scroll, 0)
        XCTAssertEqual(s.index, 3)
        XCTAssertEqual(TourKeys.handle(s, .up, text: screen.textExtent(s)).state.scroll, 0)
        XCTAssertEqual(TourKeys.handle(s, .left, text: screen.textExtent(s)).state.index, 2)
        XCTAssertEqual(TourKeys.handle(s, .right, text: screen.textExtent(s)).state.scroll, 0)
        // Where the text fits, Space is the next step at once.
        let big = TourState(count: n, index: 3, screenWidth: 160, screenHeight: 60)
        XCTAssertEqual(TourKeys.handle(big, .char(" "), text: screen.textExtent(big)).state.index, 4)
    }

    func testEveryScaleKeepsItsColourBarOnANarrowScreen() {
        // The tour at 80 x 24 and the explorer at 64 x 20 wrote "0 .. 0.448 carrier attent":
        // the range and a cut label, no colours.
        let screen = TourScreen(context: context("faster_vit_0_224"))
        let n = screen.stepCount
        func barCells(_ buf: CellBuffer, row y: Int) -> Int {
            (0 ..< buf.width).filter { buf[$0, y].attributes.contains(.picture) && buf[$0, y].glyph == " " && buf[$0, y].bg != buf[$0, y - 1].bg }.count
        }
        for i in 0 ..< n {
            let step = screen.guide.step(i)
            guard let v = step.picture, v.field != nil || v.matrix != nil, step.statistics == nil else { continue }
            let buf = screen.frame(TourState(count: n, index: i, screenWidth: 80, screenHeight: 24))
            let rows = (1 ..< buf.height).filter { buf.line($0).hasPrefix(" " + Renderer.formatValue(v.rangeMin) + " ") }
            XCTAssertTrue(rows.contains { barCells(buf, row: $0) >= 6 }, "step \(i + 1): a colour bar:\n\(buf.text)")
            XCTAssertTrue(buf.text.contains(String(v.scaleLabel.prefix(12))), "step \(i + 1): its label")
        }
        let explorer = Fixture.frame(Fixture.state(width: 64, height: 20)).buffer
        let y = explorer.height - 4
        XCTAssertGreaterThanOrEqual((0 ..< explorer.width).filter { explorer[$0, y].attributes.contains(.picture) }.count, 6,
                                    "the explorer's colour bar at 64 x 20: \(explorer.line(y))")
    }

    func testTheRouteBetweenWindowsIsDrawnOnThePicture() throws {
        let screen = TourScreen(context: context("faster_vit_0_224"))
        let i = TourStepKind.allCases.firstIndex(of: .crossingWindows)!
        let path = try XCTUnwrap(screen.guide.step(i).picture?.overlays.path)
        XCTAssertEqual(path.count, 4)
        let buf = screen.frame(TourState(count: screen.stepCount, index: i, screenWidth: 140, screenHeight: 42))
        // The route is drawn in its own colour (the figure code's), as half-block pixels over the image.
        let route = CellColor(FigureStyle.path)
        let marked = buf.cells.filter { $0.glyph == "\u{2580}" && ($0.fg == route || $0.bg == route) }
        XCTAssertGreaterThan(marked.count, 40)
    }

    func testPixelPicturesShowTheRouteAndTheBlockMatrix() throws {
        let screen = TourScreen(context: context("faster_vit_0_224"))
        let n = screen.stepCount
        let crossing = TourStepKind.allCases.firstIndex(of: .crossingWindows)!
        let f = screen.render(TourState(count: n, index: crossing, screenWidth: 140, screenHeight: 42),
                              mode: .pixels(cellWidth: 8, cellHeight: 16))
        let img = try XCTUnwrap(f.pictures.first).image
        var routePixels = 0
        for i in stride(from: 0, to: img.pixels.count, by: 3)
            where (img.pixels[i], img.pixels[i + 1], img.pixels[i + 2]) == FigureStyle.path { routePixels += 1 }
        XCTAssertGreaterThan(routePixels, 500)
        // The block step's picture is the window matrix alone: in pixels it is drawn too.
        let block = TourStepKind.allCases.firstIndex(of: .hatBlock)!
        let g = screen.render(TourState(count: n, index: block, screenWidth: 140, screenHeight: 42),
                              mode: .pixels(cellWidth: 8, cellHeight: 16))
        XCTAssertEqual(g.pictures.count, 1)
        XCTAssertTrue(g.buffer.text.contains("attention probability"))
    }

    func testTextTooLongForTheScreenIsCutWithAMark() {
        let screen = TourScreen(context: context("faster_vit_0_224"))
        let i = TourStepKind.allCases.firstIndex(of: .hatBlock)!
        let small = screen.frame(TourState(count: screen.stepCount, index: i, screenWidth: 64, screenHeight: 20)).text
        XCTAssertTrue(small.contains("more lines: Space / \u{2193}"), small)
    }

    func testExplorerKeyTOpensTheTour() {
        let rec = SyntheticScene.recording()
        let state = AppState(geometry: ExplorerGeometry(recording: rec), colormaps: ["viridis"])
        XCTAssertEqual(KeyHandling.handle(state, .char("t")).1, [.openTour(step: 0), .redraw])
        XCTAssertEqual(KeyHandling.handle(state, .char("T")).1, [.openTour(step: .max), .redraw])
        XCTAssertTrue(KeyBindings.table.contains { $0.label == "t / T" })
        // G lands on the last step (the statistics).
        XCTAssertEqual(TourState(count: 9, index: .max).index, 8)
    }

    func testTooSmallTerminalSaysSo() {
        let screen = TourScreen(context: context("faster_vit_0_224"))
        let buf = screen.frame(TourState(count: 8, screenWidth: 40, screenHeight: 10))
        XCTAssertTrue(buf.text.contains("terminal too small"))
        // All of it, wrapped: the size it needs and the size it has (the line was cut at 40 columns).
        let words = buf.text.split(whereSeparator: { $0 == " " || $0 == "\n" }).joined(separator: " ")
        XCTAssertTrue(words.contains("need 64 x 20 (now 40 x 10)"), buf.text)
    }
}
