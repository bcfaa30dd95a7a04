// The built-in bitmap font: every printable ASCII character has a distinct glyph, drawing stays in
// its cell and clips at image edges, unknown characters fall back to '?'.
import XCTest
@testable import HatImaging

final class BitmapFontTests: XCTestCase {
    private func inked(_ image: RGBImage) -> [(Int, Int)] {
        var out: [(Int, Int)] = []
        for y in 0..<image.height { for x in 0..<image.width where image.pixels[(y * image.width + x) * 3] != 0 {
            out.append((x, y))
        } }
        return out
    }

    func testPrintableASCIIHasDistinctGlyphs() {
        var seen: [[UInt8]: Character] = [:]
        for code in 32...126 {
            let ch = Character(UnicodeScalar(UInt8(code)))
            XCTAssertTrue(BitmapFont.hasGlyph(ch), "missing glyph for \(ch)")
            let g = BitmapFont.glyph(ch)
            XCTAssertEqual(g.count, 9)
            if code != 32 { XCTAssertTrue(g.contains { $0 != 0 }, "empty glyph for \(ch)") }
            if let other = seen[g] { XCTFail("\(ch) looks like \(other)") }
            seen[g] = ch
        }
        for ch in ["·", "×", "↔", "→", "±", "°", "…"] { XCTAssertTrue(BitmapFont.hasGlyph(Character(ch)), ch) }
    }

    func testWidthAndHeight() {
        XCTAssertEqual(BitmapFont.width(of: ""), 0)
        XCTAssertEqual(BitmapFont.width(of: "head 3"), 6 * BitmapFont.glyphWidth)
        XCTAssertEqual(BitmapFont.width(of: "ab", scale: 3), 2 * BitmapFont.glyphWidth * 3)
        XCTAssertEqual(BitmapFont.width(of: "abc\nlonger line"), 11 * BitmapFont.glyphWidth)
        XCTAssertEqual(BitmapFont.height(of: "a\nb", scale: 2), 2 * BitmapFont.glyphHeight * 2)
    }

    func testDrawingStaysInsideTheTextBox() {
        for scale in 1...3 {
            let text = "Stage 3 · head 7 × g|"
            var img = RGBImage(width: 300, height: 60)
            BitmapFont.draw(text, on: &img, x: 5, y: 7, color: (255, 255, 255), scale: scale)
            let px = inked(img)
            XCTAssertFalse(px.isEmpty)
            XCTAssertGreaterThanOrEqual(px.map(\.0).min()!, 5)
            XCTAssertGreaterThanOrEqual(px.map(\.1).min()!, 7)
            XCTAssertLessThan(px.map(\.0).max()!, 5 + BitmapFont.width(of: text, scale: scale))
            XCTAssertLessThan(px.map(\.1).max()!, 7 + BitmapFont.glyphHeight * scale)
        }
    }

    func testClipsAtEdgesWithoutCrashing() {
        var img = RGBImage(width: 10, height: 6)
        BitmapFont.draw("Hello, world", on: &img, x: -4, y: -3, color: (255, 0, 0), scale: 2)
        BitmapFont.draw("xyz", on: &img, x: 8, y: 4, color: (255, 0, 0), scale: 5)
        BitmapFont.draw("far", on: &img, x: 1000, y: -1000, color: (255, 0, 0))
        XCTAssertFalse(inked(img).isEmpty)
    }

    func testUnknownCharactersDrawAsQuestionMark() {
        var a = RGBImage(width: 20, height: 12), b = RGBImage(width: 20, height: 12)
        BitmapFont.draw("漢", on: &a, x: 1, y: 1, color: (255, 255, 255))
        BitmapFont.draw("?", on: &b, x: 1, y: 1, color: (255, 255, 255))
        XCTAssertEqual(a, b)
        XCTAssertFalse(BitmapFont.hasGlyph("漢"))
    }
}
