// The difference view: every cell is after minus before, the range is symmetric about 0, it is
// drawn with the diverging colour map (figure and colour bar), titled and labelled "after -
// before", and exported as its own PNG.
import Foundation
import XCTest
import HatImaging
import HatRecording
@testable import HatViews

final class DiffViewTests: XCTestCase {
    /// Before: uniform attention. After: every query puts weight 3 on key 0.
    let before = ViewFixture.recording()
    let after = ViewFixture.recording(window: { _, _, _, _, k in k == 0 ? 3 : 1 }, carrier: { _, _, _, q, k in q == k ? 1 : 0 })

    func testEveryCellIsAfterMinusBeforeOnASymmetricScale() throws {
        for kind in [ViewKind.local, .carrier, .reach, .rollout, .matrix] {
            let sel = Selection(level: 2, block: 1, head: 0, queryRow: 1, queryCol: 2)
            let a = try Views.compute(kind, recording: after, selection: sel)
            let b = try Views.compute(kind, recording: before, selection: sel)
            let d = try DiffView.compute(kind, before: before, after: after, selection: sel)
            XCTAssertTrue(d.diverging, "\(kind)")
            var largest: Float = 0
            for (x, (p, q)) in zip(d.field?.values ?? [], zip(a.field?.values ?? [], b.field?.values ?? [])) {
                if p.isNaN || q.isNaN { XCTAssertTrue(x.isNaN, "\(kind)"); continue }
                XCTAssertEqual(x, p - q, accuracy: 1e-7, "\(kind)")
                largest = max(largest, abs(x))
            }
            for (x, (p, q)) in zip(d.matrix?.values ?? [], zip(a.matrix?.values ?? [], b.matrix?.values ?? [])) {
                XCTAssertEqual(x, p - q, accuracy: 1e-7, "\(kind)")
                largest = max(largest, abs(x))
            }
            XCTAssertGreaterThan(largest, 0.01, "\(kind): the fixture changes every view")
            XCTAssertEqual(d.rangeMax, largest, accuracy: 1e-7, "\(kind)")
            XCTAssertEqual(d.rangeMin, -largest, accuracy: 1e-7, "\(kind)")
            XCTAssertTrue(d.title.hasPrefix("after - before: \(kind.rawValue) |"), d.title)
            XCTAssertEqual(d.scaleLabel, "after - before (\(a.scaleLabel))")
            XCTAssertEqual(d.numbers.map(\.0), ["largest rise", "largest drop", "mean |change|"])
        }
    }

    func testNoChangeIsNeutralAndOtherInputsAreRefused() throws {
        let sel = Selection(level: 2, block: 0, head: nil, queryRow: 0, queryCol: 0)
        let d = try DiffView.compute(.local, before: before, after: before, selection: sel)
        XCTAssertTrue((d.field?.values ?? []).allSatisfy { $0.isNaN || $0 == 0 })
        XCTAssertEqual([d.rangeMin, d.rangeMax], [-1, 1])
        XCTAssertEqual(d.numbers[0].1, "0.000")
        let larger = ViewFixture.recording(side: 128)
        XCTAssertThrowsError(try DiffView.compute(.local, before: before, after: larger, selection: sel)) { e in
            XCTAssertEqual(e as? ViewError, .notApplicable("the two runs do not have the same cells (different inputs), so they cannot be subtracted"))
        }
    }

    func testTheFigureUsesTheDivergingMapWhateverMapIsChosen() throws {
        let sel = Selection(level: 2, block: 1, head: 0, queryRow: 1, queryCol: 2)
        let d = try DiffView.compute(.local, before: before, after: after, selection: sel)
        let image = FigureRenderer.render(d, recording: after, options: FigureOptions(colormap: .magma))
        // The colour bar runs from the diverging map's blue end to its red end.
        let left = Colormap.rdbu.rgb(0), right = Colormap.rdbu.rgb(1)
        func px(_ x: Int, _ y: Int) -> (UInt8, UInt8, UInt8) {
            let i = (y * image.width + x) * 3
            return (image.pixels[i], image.pixels[i + 1], image.pixels[i + 2])
        }
        let rows = (0 ..< image.height).filter { y in
            (0 ..< image.width - 200).contains { x in px(x, y) == left && px(x + 199, y) == right }
        }
        XCTAssertFalse(rows.isEmpty, "no diverging colour bar in the figure")
        XCTAssertTrue(Colormap.rdbu.rgb(0.5).0 > 240 && Colormap.rdbu.rgb(0.5).1 > 240, "0 is near-white")
        XCTAssertNil(Colormap.named("rdbu"), "not a choice for magnitudes")
        XCTAssertFalse(Colormap.allCases.contains(.rdbu))
    }

    func testTheDifferenceExportsAsItsOwnPNG() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hatscope-diff-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sel = Selection(level: 2, block: 1, head: 0, queryRow: 1, queryCol: 2)
        let name = try FigureExporter.exportDifference(.local, selection: sel, before: before, after: after, folder: dir,
                                                       options: FigureOptions())
        XCTAssertEqual(name, "diff_" + FigureNaming.fileName(.local, sel, recording: after))
        let png = try PNGCodec.decode(Array(try Data(contentsOf: URL(fileURLWithPath: dir + "/" + name))))
        let d = try DiffView.compute(.local, before: before, after: after, selection: sel)
        let expected = FigureRenderer.render(d, recording: after, options: FigureOptions())
        XCTAssertEqual(png.width, expected.width)
        XCTAssertEqual(png.pixels, expected.pixels, "the PNG is the difference figure")
    }
}
