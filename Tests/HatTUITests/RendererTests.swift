// What a frame shows, checked by meaning: the picture keeps the image's aspect, the query and
// window are marked in their theme colours, the field changes the picture, the panel and the
// colorbar say what they should, help lists every key, small terminals get a clear message.
import XCTest
@testable import HatTUI
import HatViews
import HatRecording

final class RendererTests: XCTestCase {
    let theme = Theme.standard

    func cells(_ f: Frame, in r: CellRect) -> [Cell] {
        var out: [Cell] = []
        for y in r.y..<(r.y + r.height) { for x in r.x..<(r.x + r.width) { out.append(f.buffer[x, y]) } }
        return out
    }

    func testPictureKeepsTheAspectAtEverySize() throws {
        for (w, h) in [(80, 24), (120, 40), (200, 60), (64, 20)] {
            let f = Fixture.frame(Fixture.state(width: w, height: h))
            let p = try XCTUnwrap(f.picture)
            // 224 x 224 input: pixel width == pixel height, i.e. cells: width = 2 * rows.
            XCTAssertEqual(p.pixelWidth, p.pixelHeight, "\(w)x\(h)")
            XCTAssertEqual(Double(p.pixelWidth), Double(2 * p.rect.height), accuracy: 1.0)
            let layout = Layout.compute(width: w, height: h)
            XCTAssertTrue(p.rect.x >= layout.pictureArea.x && p.rect.x + p.rect.width <= layout.pictureArea.x + layout.pictureArea.width)
            XCTAssertLessThanOrEqual(p.rect.y + p.rect.height, layout.pictureArea.y + layout.pictureArea.height)
        }
    }

    func testNonSquareInputKeepsItsAspectAndEveryViewDraws() throws {
        // Any-resolution input, 224 x 320 (H x W): padded stages, more windows across.
        var rec = SyntheticRecording.make(config: ModelConfig.presets[0], resolution: [224, 320])
        rec.input = SyntheticScene.image(width: 320, height: 224)
        let ctx = ExplorerContext(recording: rec, checkpointLabel: "synthetic")
        var s = AppState(geometry: ctx.geometry, colormaps: ["viridis"], screenWidth: 160, screenHeight: 50)
        for _ in 0..<(s.stage?.views.count ?? 0) {
            let v = Result { try Views.compute(s.view, recording: rec, selection: s.selection) }
            XCTAssertNoThrow(try v.get(), "\(s.view)")
            let f = Renderer.render(s, view: v, context: ctx)
            let p = try XCTUnwrap(f.picture)
            if p.content == .image {
                XCTAssertEqual(Double(p.pixelWidth) / Double(p.pixelHeight), 320.0 / 224.0, accuracy: 0.05)
            }
            s = KeyHandling.handle(s, .tab).0
        }
        // The query can reach the padded last column and stays valid.
        for _ in 0..<40 { s = KeyHandling.handle(s, .right).0 }
        XCTAssertNoThrow(try Views.compute(.local, recording: rec, selection: s.selection))
    }

    func testQueryAndSelectedWindowAreMarkedWhereTheyAre() throws {
        let s = Fixture.state(width: 120, height: 40)
        let f = Fixture.frame(s)
        let p = try XCTUnwrap(f.picture)
        // Query token (7, 7) of stage 3 covers input pixels 112..127: cells around the centre.
        let scale = p.scale
        let qx = p.rect.x + Int(112 * scale), qy = p.rect.y + Int(112 * scale) / 2
        let near = cells(f, in: CellRect(x: qx - 1, y: qy - 1, width: Int(16 * scale) + 3, height: Int(16 * scale) / 2 + 3))
        XCTAssertTrue(near.contains { $0.fg == theme.selection || $0.bg == theme.selection }, "query outline")
        let pic = cells(f, in: p.rect)
        XCTAssertTrue(pic.contains { $0.fg == theme.selectedWindow || $0.bg == theme.selectedWindow }, "selected window")
        XCTAssertTrue(pic.contains { $0.fg == theme.windowGrid || $0.bg == theme.windowGrid }, "window grid")
        XCTAssertTrue(pic.contains { $0.fg == theme.carrierTokenHighlight || $0.bg == theme.carrierTokenHighlight },
                      "the query window's carrier pooling boxes")
        // The top-left quarter is another window: no field there in the local view, so its
        // cells equal the image drawn without any view.
        var bare = try Views.compute(s.view, recording: Fixture.recording, selection: s.selection)
        // Same strip beside the image, but an all-NaN field and no overlays: the image alone.
        let fld = try XCTUnwrap(bare.field)
        bare.field = Field(rows: fld.rows, cols: fld.cols, cellSize: fld.cellSize,
                           values: [Float](repeating: .nan, count: fld.values.count))
        bare.overlays = Overlays()
        let imageOnly = Renderer.render(s, view: .success(bare), context: Fixture.context)
        let tl = CellRect(x: p.rect.x + 2, y: p.rect.y + 2, width: p.rect.width / 2 - 6, height: p.rect.height / 2 - 4)
        func sameShare(_ r: CellRect) -> Double {
            let a = cells(f, in: r), b = cells(imageOnly, in: r)
            return Double(zip(a, b).filter { $0 == $1 }.count) / Double(max(1, a.count))
        }
        // Only overlay lines (grid, carrier-box corners) differ outside the query's window.
        XCTAssertGreaterThan(sameShare(tl), 0.75)
        let br = CellRect(x: p.rect.x + p.rect.width / 2 + 4, y: p.rect.y + p.rect.height / 2 + 4, width: 8, height: 4)
        XCTAssertLessThan(sameShare(br), 0.1, "the field is blended over the query's window")
    }

    func testCarrierViewMarksEveryCarrierBox() throws {
        var s = Fixture.state(width: 120, height: 40)
        s = KeyHandling.handle(s, .tab).0
        XCTAssertEqual(s.view, .carrier)
        let f = Fixture.frame(s)
        let p = try XCTUnwrap(f.picture)
        XCTAssertTrue(cells(f, in: p.rect).contains { $0.fg == theme.carrierToken || $0.bg == theme.carrierToken })
    }

    func testFailedViewSaysWhyInTheTitle() {
        let s = Fixture.state(width: 100, height: 30)
        let f = Renderer.render(s, view: .failure(ViewError.notApplicable("no carriers here")), context: Fixture.context)
        XCTAssertTrue(f.buffer.line(1).contains("no carriers here"), f.buffer.line(1))
    }

    func testPanelShowsModelPredictionSelectionNumbersAndExplanation() throws {
        var s = Fixture.state(width: 120, height: 40)
        s = KeyHandling.handle(s, .char("m")).0
        let f = Fixture.frame(s)
        let text = f.buffer.text
        for needle in ["faster_vit_0_224", "synthetic (no checkpoint)", "class-0", "class-4", "mean of 8",
                       "window   3 of 4", "token r7 c7", "What it shows", "block    0 of 6"] {
            XCTAssertTrue(text.contains(needle), "panel lacks \(needle)")
        }
        let v = try Views.compute(s.view, recording: Fixture.recording, selection: s.selection)
        for (k, _) in v.numbers.prefix(3) { XCTAssertTrue(text.contains(String(k.prefix(10))), "number \(k)") }
    }

    func testColorbarShowsTheRangeAndLabel() throws {
        let s = Fixture.state(width: 120, height: 40)
        let f = Fixture.frame(s)
        let v = try Views.compute(s.view, recording: Fixture.recording, selection: s.selection)
        let row = Layout.compute(width: 120, height: 40).colorbar.y
        let line = f.buffer.line(row)
        XCTAssertTrue(line.contains(Renderer.formatValue(v.rangeMax)), line)
        XCTAssertTrue(line.contains(v.scaleLabel), line)
        // The gradient runs from dark to light (viridis).
        let bar = (0..<120).map { f.buffer[$0, row] }.filter { $0.glyph == " " && $0.bg != theme.background }
        XCTAssertGreaterThan(bar.count, 20)
        XCTAssertLessThan(bar.first!.bg.luma, bar.last!.bg.luma)
    }

    func testHelpOverlayListsEveryKey() {
        var s = Fixture.state(width: 120, height: 40)
        s.showHelp = true
        let text = Fixture.frame(s).buffer.text
        for b in KeyBindings.table {
            XCTAssertTrue(text.contains(b.keys), "help lacks \(b.keys)")
        }
    }

    func testFooterHintsFitAndNameTheKeys() {
        let f = Fixture.frame(Fixture.state(width: 120, height: 40))
        let footer = f.buffer.line(39)
        for k in ["query", "view", "stage", "block", "head", "window", "carrier", "tour", "export", "help", "quit"] {
            XCTAssertTrue(footer.contains(k), "footer lacks \(k): \(footer)")
        }
        // Narrow: the essentials stay.
        let narrow = Fixture.frame(Fixture.state(width: 64, height: 20)).buffer.line(19)
        for k in ["move", "view", "stage", "blk", "head", "win", "help", "quit"] {
            XCTAssertTrue(narrow.contains(k), "narrow footer lacks \(k): \(narrow)")
        }
    }

    func testTooSmallSaysWhatIsNeeded() {
        let f = Fixture.frame(Fixture.state(width: 50, height: 15))
        XCTAssertTrue(f.buffer.text.contains("terminal too small: need 64 x 20"), f.buffer.text)
        XCTAssertNil(f.picture)
    }

    func testMatrixViewDrawsAMatrixWithTheQueryRowMarked() throws {
        var s = Fixture.state(width: 120, height: 40)
        for _ in 0..<4 { s = KeyHandling.handle(s, .tab).0 }
        let f = Fixture.frame(s)
        let p = try XCTUnwrap(f.picture)
        guard case let .matrix(rows, cols, gr, gc) = p.content else { return XCTFail("not a matrix") }
        XCTAssertEqual([rows, cols], [53, 53], "4 carriers + 49 window tokens")
        XCTAssertEqual(gr, 4); XCTAssertEqual(gc, 4)
        XCTAssertTrue(f.buffer.text.contains("\u{25B6}"), "query row marker")
        XCTAssertTrue(cells(f, in: p.rect).contains { $0.fg == theme.matrixSeparator || $0.bg == theme.matrixSeparator },
                      "carrier separator")
    }

    func testConvolutionalStageShowsEnergy() {
        var s = Fixture.state(width: 120, height: 40)
        s = KeyHandling.handle(s, .char("S")).0
        XCTAssertEqual(s.selection.level, 1)
        let f = Fixture.frame(s)
        XCTAssertTrue(f.buffer.line(0).contains("energy"))
        XCTAssertTrue(f.buffer.text.contains("conv (levels.1)"))
        XCTAssertFalse(f.buffer.line(1).contains("invalid"), f.buffer.line(1))
    }

    func testEveryTierKeepsTheLayout() {
        let s = Fixture.state(width: 120, height: 40)
        let base = Fixture.frame(s, tier: .truecolor).buffer
        for tier in ColorTier.allCases where tier != .truecolor {
            let b = Fixture.frame(s, tier: tier).buffer
            XCTAssertEqual(b.line(0), base.line(0), "\(tier)")
            XCTAssertEqual(b.line(39), base.line(39), "\(tier)")
            let colors = Set(b.cells.flatMap { [$0.fg, $0.bg] }).count
            switch tier {
            case .ansi16: XCTAssertLessThanOrEqual(colors, 16)
            case .ansi8: XCTAssertLessThanOrEqual(colors, 8)
            case .mono: XCTAssertLessThanOrEqual(colors, 2)
            case .palette256: XCTAssertLessThanOrEqual(colors, 240)
            case .truecolor: break
            }
        }
    }
}
