import XCTest
import HatViews
@testable import HatTUI

// Frames for a locale that is not UTF-8 (LANG=C): ncursesw drew every non-ASCII glyph as a blank
// there, so the half-block picture lost every other pixel row, the footer its arrows and the
// panel its rules. After ASCIICells every glyph is ASCII, nothing moves, the picture keeps colour
// and the keys in the footer are still named.
final class ASCIICellsTests: XCTestCase {
    func frames() -> [(String, CellBuffer, ColorTier)] {
        var out: [(String, CellBuffer, ColorTier)] = []
        for tier in [ColorTier.truecolor, .palette256, .mono] {
            let s = Fixture.state(width: 120, height: 40)
            out.append(("explorer \(tier)", Fixture.frame(s, tier: tier).buffer, tier))
            out.append(("help \(tier)", Fixture.frame(Fixture.apply(s, [.char("?")]), tier: tier).buffer, tier))
            let tour = TourScreen(context: Fixture.context)
            for i in [0, tour.stepCount - 1] {
                out.append(("tour step \(i + 1) \(tier)", tour.frame(TourState(count: tour.stepCount, index: i, screenWidth: 120, screenHeight: 40), tier: tier), tier))
            }
        }
        return out
    }

    func testEveryGlyphBecomesASCIIInPlace() {
        for (what, frame, tier) in frames() {
            let ascii = ASCIICells.convert(frame, mono: tier == .mono)
            XCTAssertEqual([ascii.width, ascii.height], [frame.width, frame.height], what)
            XCTAssertTrue(frame.cells.contains { $0.glyph.value >= 0x80 }, "\(what): the frame has glyphs beyond ASCII")
            for y in 0 ..< frame.height {
                for x in 0 ..< frame.width {
                    let a = ascii[x, y], f = frame[x, y]
                    XCTAssertLessThan(a.glyph.value, 0x80, "\(what) (\(x), \(y)): \(f.glyph)")
                    if f.glyph.value < 0x80 { XCTAssertEqual(a, f, "\(what): ASCII cells unchanged") }
                    // Nothing that was visible becomes blank: a blank stand-in carries a colour.
                    if f.glyph != " " && a.glyph == " " {
                        XCTAssertNotEqual(tier, .mono, "\(what): a blank in monochrome shows nothing")
                        XCTAssertTrue(a.bg == f.fg || a.bg == f.fg.mixed(with: f.bg, 0.5), "\(what) (\(x), \(y))")
                    }
                }
            }
        }
    }

    func testThePictureKeepsBothPixelRowsAndTheFooterItsKeys() {
        let s = Fixture.state(width: 120, height: 40)
        let f = Fixture.frame(s).buffer
        let ascii = ASCIICells.convert(f, mono: false)
        // A half-block picture cell: top pixel in fg, bottom in bg; the blank shows their mean.
        var picture = 0
        for y in 0 ..< f.height {
            for x in 0 ..< f.width where f[x, y].glyph == "\u{2580}" && f[x, y].attributes.contains(.picture) {
                picture += 1
                XCTAssertEqual(ascii[x, y].bg, f[x, y].fg.mixed(with: f[x, y].bg, 0.5))
            }
        }
        XCTAssertGreaterThan(picture, 500, "the frame has a half-block picture")
        let footer = String(String.UnicodeScalarView((0 ..< ascii.width).map { ascii[$0, ascii.height - 1].glyph }))
        XCTAssertTrue(footer.contains("<^v> "), footer)
        XCTAssertEqual(ASCIICells.glyph("\u{2500}"), "-")
        XCTAssertEqual(ASCIICells.glyph("\u{00E9}"), "?", "no stand-in: a question mark, never a blank")
        // Monochrome: shades become a ramp of characters from light to dark.
        XCTAssertEqual(Palette.shades.map(ASCIICells.glyph), [" ", ".", ":", "#", "@"])
    }
}
