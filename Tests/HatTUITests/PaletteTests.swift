// Colour tiers: 256-colour quantisation (cube + greys, entries 16-255 only), ANSI nearest,
// monochrome shading; and the cell buffer's clipping.
import XCTest
@testable import HatTUI

final class PaletteTests: XCTestCase {
    func testKnown256Entries() {
        XCTAssertEqual(Palette.index256(CellColor(255, 0, 0)), 196)
        XCTAssertEqual(Palette.index256(CellColor(0, 0, 0)), 16)
        XCTAssertEqual(Palette.index256(CellColor(255, 255, 255)), 231)
        XCTAssertEqual(Palette.index256(CellColor(95, 135, 175)), 67)
        XCTAssertEqual(Palette.index256(CellColor(128, 128, 128)), 244, "a mid grey is on the grey ramp (8 + 10 * 12)")
        XCTAssertEqual(Palette.index256(CellColor(100, 100, 101)), 241)
    }

    func testEveryPaletteEntryMapsToItself() {
        for i in 16...255 {
            XCTAssertEqual(Palette.index256(Palette.rgb256(i)), i, "entry \(i) = \(Palette.rgb256(i))")
        }
    }

    func testQuantisationPicksTheNearestOfCubeAndGrey() {
        // Exhaustive nearest over 16...255 on a coarse grid of colours.
        for r in stride(from: 0, through: 255, by: 17) {
            for g in stride(from: 0, through: 255, by: 51) {
                for b in stride(from: 0, through: 255, by: 23) {
                    let c = CellColor(UInt8(r), UInt8(g), UInt8(b))
                    let got = Palette.rgb256(Palette.index256(c))
                    let best = (16...255).map { Palette.dist2(c, Int(Palette.rgb256($0).r), Int(Palette.rgb256($0).g), Int(Palette.rgb256($0).b)) }.min()!
                    XCTAssertLessThanOrEqual(Palette.dist2(c, Int(got.r), Int(got.g), Int(got.b)), best + 3 * 40 * 40 / 4,
                                             "\(c) -> \(got)")
                }
            }
        }
    }

    func testANSINearest() {
        XCTAssertEqual(Palette.indexANSI(CellColor(250, 10, 10), count: 16), 9)
        XCTAssertEqual(Palette.indexANSI(CellColor(250, 10, 10), count: 8), 1)
        XCTAssertEqual(Palette.indexANSI(CellColor(20, 20, 20), count: 8), 0)
        // Greys stay grey (RGB-nearest would make mid grey magenta in 8 colours).
        XCTAssertEqual(Palette.indexANSI(CellColor(130, 130, 140), count: 8), 7)
        XCTAssertEqual(Palette.indexANSI(CellColor(110, 110, 110), count: 8), 0)
        XCTAssertEqual(Palette.indexANSI(CellColor(130, 130, 140), count: 16), 8)
    }

    func testMonoTurnsPicturesIntoShadesAndEmphasisIntoReverse() {
        let bg = CellColor(18, 18, 24)
        var b = CellBuffer(width: 4, height: 1, fill: Cell(fg: CellColor(200, 200, 200), bg: bg))
        b[0, 0] = Cell(glyph: "\u{2580}", fg: CellColor(255, 255, 255), bg: CellColor(255, 255, 255), attributes: .picture)
        b[1, 0] = Cell(glyph: "\u{2580}", fg: CellColor(0, 0, 0), bg: CellColor(0, 0, 0), attributes: .picture)
        b[2, 0] = Cell(glyph: "x", fg: CellColor(0, 0, 0), bg: CellColor(120, 190, 255))
        b[3, 0] = Cell(glyph: "y", fg: CellColor(200, 200, 200), bg: bg)
        Palette.adapt(&b, to: .mono, background: bg)
        XCTAssertEqual(b[0, 0].glyph, "\u{2588}")
        XCTAssertEqual(b[1, 0].glyph, " ")
        XCTAssertTrue(b[2, 0].attributes.contains(.reverse))
        XCTAssertFalse(b[3, 0].attributes.contains(.reverse))
        XCTAssertEqual(Set(b.cells.map(\.fg)).count, 1, "monochrome uses one foreground")
    }

    func testTierSnapsEveryColour() {
        var b = CellBuffer(width: 2, height: 1, fill: Cell(fg: CellColor(13, 200, 77), bg: CellColor(250, 3, 120)))
        Palette.adapt(&b, to: .palette256, background: CellColor(0, 0, 0))
        for c in b.cells {
            XCTAssertEqual(Palette.rgb256(Palette.index256(c.fg)), c.fg)
            XCTAssertEqual(Palette.rgb256(Palette.index256(c.bg)), c.bg)
        }
        Palette.adapt(&b, to: .ansi16, background: CellColor(0, 0, 0))
        XCTAssertTrue(b.cells.allSatisfy { Palette.ansi.contains($0.fg) && Palette.ansi.contains($0.bg) })
    }

    func testCellBufferClipsAndKeepsColumnsAligned() {
        var b = CellBuffer(width: 5, height: 2, fill: Cell(fg: CellColor(1, 1, 1), bg: CellColor(0, 0, 0)))
        XCTAssertEqual(b.put("abcdefg", x: 2, y: 0, fg: CellColor(9, 9, 9), bg: CellColor(0, 0, 0)), 3)
        XCTAssertEqual(b.line(0), "  abc")
        b.put("\u{4E2D}x", x: -1, y: 1, fg: CellColor(9, 9, 9), bg: CellColor(0, 0, 0))
        XCTAssertEqual(b.line(1), "x    ", "wide characters become one-cell placeholders; negative x clips")
        b.put("zz", x: 0, y: 7, fg: CellColor(9, 9, 9), bg: CellColor(0, 0, 0))
        XCTAssertEqual(b.text.split(separator: "\n").count, 2)
    }
}
