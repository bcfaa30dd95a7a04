// Key handling without a terminal: (state, key) -> (state, effects) on faster_vit_0_224 geometry
// (stage 3: 14 x 14 tokens in 2 x 2 windows of 7 x 7, 8 heads, 6 blocks, 2 x 2 carriers per
// window, 16 carriers; stage 4: 7 x 7 tokens, one window, 16 heads, 5 blocks, no carriers).
import XCTest
@testable import HatTUI
import HatViews

final class KeyHandlingTests: XCTestCase {
    let start = Fixture.state(width: 120, height: 40)

    func handle(_ s: AppState, _ k: Key) -> (AppState, [Effect]) { KeyHandling.handle(s, k) }

    func testStartsOnFirstTransformerStageInTheMiddle() {
        XCTAssertEqual(start.selection.level, 2)
        XCTAssertEqual(start.view, .local)
        XCTAssertEqual(start.selection.head, 0)
        XCTAssertEqual(start.selection.queryRow, 7)
        XCTAssertEqual(start.selection.queryCol, 7)
        XCTAssertEqual(start.window, 3)
    }

    func testArrowsAndVimKeysMoveTheQueryAcrossWindows() {
        var s = start
        s.selection.queryRow = 3; s.selection.queryCol = 6
        XCTAssertEqual(s.window, 0)
        s = handle(s, .right).0
        XCTAssertEqual(s.selection.queryCol, 7)
        XCTAssertEqual(s.window, 1, "moving right from column 6 crosses into window 1")
        s = handle(s, .char("h")).0
        XCTAssertEqual(s.selection.queryCol, 6)
        s = handle(s, .char("j")).0
        XCTAssertEqual(s.selection.queryRow, 4)
        s = handle(s, .up).0; s = handle(s, .char("k")).0
        XCTAssertEqual(s.selection.queryRow, 2)
        // Clamped at the grid's edges.
        for _ in 0..<30 { s = handle(s, .left).0; s = handle(s, .up).0 }
        XCTAssertEqual(s.selection.queryRow, 0); XCTAssertEqual(s.selection.queryCol, 0)
        for _ in 0..<30 { s = handle(s, .right).0; s = handle(s, .down).0 }
        XCTAssertEqual(s.selection.queryRow, 13); XCTAssertEqual(s.selection.queryCol, 13)
        XCTAssertEqual(handle(s, .right).1, [.redraw])
    }

    func testHeadsCycleThroughMeanAndBack() {
        var s = start
        var seen: [Int?] = []
        for _ in 0..<10 { s = handle(s, .char("n")).0; seen.append(s.selection.head) }
        XCTAssertEqual(seen, [1, 2, 3, 4, 5, 6, 7, nil, 0, 1])
        s = start
        s = handle(s, .char("N")).0
        XCTAssertNil(s.selection.head, "going back from head 0 reaches the mean")
        s = handle(s, .char("N")).0
        XCTAssertEqual(s.selection.head, 7)
        s = handle(s, .char("m")).0
        XCTAssertNil(s.selection.head)
        s = handle(s, .char("m")).0
        XCTAssertEqual(s.selection.head, 0)
        XCTAssertEqual(handle(start, .wheelDown).0.selection.head, 1)
        XCTAssertNil(handle(start, .wheelUp).0.selection.head)
    }

    func testWindowStepKeepsThePlaceInsideTheWindow() {
        var s = start
        s.selection.queryRow = 2; s.selection.queryCol = 5    // window 0, local (2, 5)
        s = handle(s, .char("w")).0
        XCTAssertEqual(s.window, 1)
        XCTAssertEqual([s.selection.queryRow, s.selection.queryCol], [2, 12])
        s = handle(s, .char("w")).0
        XCTAssertEqual([s.selection.queryRow, s.selection.queryCol], [9, 5])
        s = handle(s, .char("w")).0; s = handle(s, .char("w")).0
        XCTAssertEqual(s.window, 0, "wraps after the last window")
        s = handle(s, .char("W")).0
        XCTAssertEqual(s.window, 3)
    }

    func testTabCyclesTheStagesViews() {
        var s = start
        var order: [ViewKind] = []
        for _ in 0..<6 { s = handle(s, .tab).0; order.append(s.view) }
        // faster_vit_0 has no propagation, so that view is skipped.
        XCTAssertEqual(order, [.carrier, .reach, .rollout, .matrix, .local, .carrier])
        s = handle(s, .backTab).0
        XCTAssertEqual(s.view, .local)
    }

    func testStagesWalkTheWholeHierarchyKeepingTheQuerySpot() {
        var s = start                                       // level 2, token (7, 7): pixels 112..127
        s = handle(s, .char("s")).0
        XCTAssertEqual(s.selection.level, 3)
        XCTAssertEqual([s.selection.queryRow, s.selection.queryCol], [3, 3], "pixel 120 / 32")
        XCTAssertEqual(s.view, .local)
        XCTAssertNil(s.stage?.views.firstIndex(of: .carrier), "stage 4 has no carrier tokens")
        s = handle(s, .char("s")).0
        XCTAssertEqual(s.selection.level, 0)
        XCTAssertEqual(s.view, .energy)
        XCTAssertEqual([s.selection.queryRow, s.selection.queryCol], [28, 28], "pixel 112 / 4")
        let (t, effects) = handle(s, .tab)
        XCTAssertEqual(t.view, .energy)
        XCTAssertTrue(t.status.contains("convolutional"), t.status)
        XCTAssertEqual(effects, [.redraw])
        s = handle(s, .char("s")).0
        XCTAssertEqual(s.selection.level, 1)
        s = handle(s, .char("s")).0
        XCTAssertEqual(s.selection.level, 2)
        XCTAssertEqual(s.view, .local, "back on a transformer stage, the last transformer view returns")
        s = handle(s, .char("S")).0
        XCTAssertEqual(s.selection.level, 1)
    }

    func testHeadIsClampedWhenTheNextStageHasFewerHeads() {
        var s = handle(start, .char("s")).0                 // stage 4: 16 heads
        for _ in 0..<12 { s = handle(s, .char("n")).0 }
        XCTAssertEqual(s.selection.head, 12)
        s = handle(s, .char("S")).0                         // stage 3: 8 heads
        XCTAssertEqual(s.selection.head, 7)
    }

    func testBlocksWrap() {
        var s = start
        s = handle(s, .char("B")).0
        XCTAssertEqual(s.selection.block, 5)
        s = handle(s, .char("b")).0
        XCTAssertEqual(s.selection.block, 0)
    }

    func testCarrierKeys() {
        var s = start
        s = handle(s, .char("r")).0
        XCTAssertEqual(s.selection.carrierSlot, 0, "outside the carrier view, r makes a carrier slot the query")
        s = handle(s, .char("R")).0
        XCTAssertNil(s.selection.carrierSlot)
        s = handle(s, .char("r")).0
        s = handle(s, .right).0
        XCTAssertNil(s.selection.carrierSlot, "moving the query returns to grid tokens")
        s = handle(s, .tab).0                               // carrier view
        s = handle(s, .char("R")).0
        XCTAssertEqual(s.selection.carrier, 15)
    }

    func testEffects() {
        XCTAssertEqual(handle(start, .char("q")).1, [.quit])
        XCTAssertEqual(handle(start, .escape).1, [.quit])
        XCTAssertEqual(handle(start, .char("e")).1, [.export(.local, start.selection), .redraw])
        XCTAssertEqual(handle(start, .char("E")).1, [.exportMontage(.local, start.selection), .redraw])
        XCTAssertEqual(handle(start, .char("c")).0.colormap, "magma")
        XCTAssertEqual(handle(start, .char("Z")).1, [], "unbound keys do nothing")
        let (r, e) = handle(start, .resize(width: 90, height: 30))
        XCTAssertEqual([r.screenWidth, r.screenHeight], [90, 30])
        XCTAssertEqual(e, [.redraw])
    }

    func testAHelpTallerThanTheScreenPagesWithTheArrowsAndShowsEveryKey() {
        // 80 x 24: the help showed a third of the keys and said a taller terminal shows the rest.
        var s = Fixture.state(width: 80, height: 24)
        s = handle(s, .char("?")).0
        let (total, visible) = Renderer.helpExtent(width: 80, height: 24)
        XCTAssertLessThan(visible, total, "the help does not fit at 80 x 24")
        var seen = Set<String>()
        var pages = 0
        while pages < 10 {
            let text = Fixture.frame(s).buffer.text
            for b in KeyBindings.table where text.contains(b.label + " ") { seen.insert(b.label) }
            pages += 1
            let (next, e) = handle(s, .down)
            XCTAssertTrue(next.showHelp, "\u{2193} pages, it does not close the help")
            XCTAssertEqual(e, [.redraw])
            if next.helpScroll == s.helpScroll { break }
            s = next
        }
        XCTAssertEqual(seen, Set(KeyBindings.table.map(\.label)), "every key is on some page")
        XCTAssertTrue(Fixture.frame(s).buffer.text.contains("end of the keys"))
        let up = handle(s, .up).0
        XCTAssertLessThan(up.helpScroll, s.helpScroll, "\u{2191} goes back")
        XCTAssertFalse(handle(s, .char("n")).0.showHelp, "any other key closes it")
        XCTAssertEqual(handle(s, .char("n")).0.helpScroll, 0)
        XCTAssertEqual(handle(s, .char("q")).1, [.quit])
        // Where it fits, the arrows close it as any other key.
        let big = handle(Fixture.state(width: 140, height: 60), .char("?")).0
        XCTAssertFalse(handle(big, .down).0.showHelp)
    }

    func testHelpClosesOnAnyKeyAndQStillQuits() {
        let h = handle(start, .char("?")).0
        XCTAssertTrue(h.showHelp)
        let (closed, e) = handle(h, .char("n"))
        XCTAssertFalse(closed.showHelp)
        XCTAssertEqual(closed.selection.head, 0, "the key that closes help does nothing else")
        XCTAssertEqual(e, [.redraw])
        XCTAssertFalse(handle(h, .escape).0.showHelp)
        XCTAssertEqual(handle(h, .escape).1, [.redraw], "Esc closes help instead of quitting")
        XCTAssertEqual(handle(h, .char("q")).1, [.quit])
    }

    func testMouseClickPicksTheTokenUnderTheCell() throws {
        var s = start
        s.picture = Fixture.frame(s).picture
        let pic = try XCTUnwrap(s.picture)
        XCTAssertEqual(pic.content, .image)
        // The cell at 1/4 across and 3/4 down holds pixel (56, 168): token (10, 3) of stage 3.
        let cx = pic.rect.x + pic.rect.width / 4, cy = pic.rect.y + (pic.rect.height * 3) / 4
        let p = try XCTUnwrap(pic.contentPoint(cellX: cx, cellY: cy))
        s = handle(s, .mousePress(x: cx, y: cy)).0
        XCTAssertEqual(s.selection.queryRow, Int(p.y) / 16)
        XCTAssertEqual(s.selection.queryCol, Int(p.x) / 16)
        XCTAssertEqual(s.selection.queryRow, 10, accuracy: 1)
        XCTAssertEqual(s.selection.queryCol, 3, accuracy: 1)
        XCTAssertEqual(s.window, 2)
        // Outside the picture nothing changes.
        XCTAssertEqual(handle(s, .mousePress(x: 0, y: 0)).0.selection, s.selection)
    }

    func testMouseClickOnTheMatrixPicksTheQueryRow() throws {
        var s = start
        for _ in 0..<4 { s = handle(s, .tab).0 }
        XCTAssertEqual(s.view, .matrix)
        s.picture = Fixture.frame(s).picture
        let pic = try XCTUnwrap(s.picture)
        guard case .matrix = pic.content else { return XCTFail("matrix view draws a matrix") }
        // Find a cell on a window-token row and one on a carrier row.
        var tokenCell: (Int, Int, Int)? = nil, carrierCell: (Int, Int, Int)? = nil
        for y in pic.rect.y..<(pic.rect.y + pic.rect.height) {
            let x = pic.rect.x + pic.rect.width / 2
            if let e = pic.matrixEntry(cellX: x, cellY: y) {
                if e.row >= 4 && tokenCell == nil && e.row > 10 { tokenCell = (x, y, e.row) }
                if e.row < 4 && carrierCell == nil { carrierCell = (x, y, e.row) }
            }
        }
        let (tx, ty, row) = try XCTUnwrap(tokenCell)
        let t = handle(s, .mousePress(x: tx, y: ty)).0
        let local = row - 4
        XCTAssertEqual(t.selection.queryRow, 7 + local / 7)
        XCTAssertEqual(t.selection.queryCol, 7 + local % 7)
        let (cx, cy, crow) = try XCTUnwrap(carrierCell)
        XCTAssertEqual(handle(s, .mousePress(x: cx, y: cy)).0.selection.carrierSlot, crow)
    }

    func testMouseClickOnTheCarrierSideMatrixPicksTheCarrier() throws {
        var s = start
        s.screenWidth = 160; s.screenHeight = 50
        s = handle(s, .tab).0
        XCTAssertEqual(s.view, .carrier)
        let f = Fixture.frame(s)
        s.picture = f.picture
        s.sideMatrix = f.sideMatrix
        let side = try XCTUnwrap(s.sideMatrix, "the carrier view draws its N x N matrix beside the image at 160 x 50")
        guard case let .matrix(rows, _, _, _) = side.content else { return XCTFail("the side picture is a matrix") }
        // Every row of the matrix reached by a click picks that carrier token as the query.
        var picked = Set<Int>()
        let x = side.rect.x + side.rect.width / 2
        for y in side.rect.y..<(side.rect.y + side.rect.height) {
            guard let e = side.matrixEntry(cellX: x, cellY: y) else { continue }
            let t = handle(s, .mousePress(x: x, y: y)).0
            XCTAssertEqual(t.selection.carrier, e.row)
            XCTAssertEqual(t.view, .carrier)
            picked.insert(e.row)
        }
        XCTAssertGreaterThan(picked.count, rows / 3, "clicks reach the matrix rows")
        // A click on the image still picks a token there, not a carrier.
        let pic = try XCTUnwrap(s.picture)
        let onImage = handle(s, .mousePress(x: pic.rect.x + 1, y: pic.rect.y + pic.rect.height - 1)).0
        XCTAssertEqual(onImage.selection.carrier, s.selection.carrier)
        XCTAssertEqual(onImage.selection.queryCol, 0)
    }

    /// Every state reachable by keys is a valid selection for every view the stage offers.
    func testRandomKeySequencesOnlyReachValidSelections() throws {
        let keys: [Key] = [.up, .down, .left, .right, .tab, .backTab, .char("s"), .char("S"), .char("b"),
                           .char("B"), .char("n"), .char("N"), .char("m"), .char("w"), .char("W"), .char("r"),
                           .char("R"), .char("c"), .char("h"), .char("j"), .char("k"), .char("l")]
        var rng = SystemRandomNumberGenerator()
        var s = start
        for i in 0..<400 {
            s = handle(s, keys.randomElement(using: &rng)!).0
            if i % 4 == 0 {
                XCTAssertNoThrow(try Views.compute(s.view, recording: Fixture.recording, selection: s.selection),
                                 "\(s.view) \(s.selection)")
            }
        }
    }
}
