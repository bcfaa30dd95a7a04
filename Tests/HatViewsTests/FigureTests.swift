// Rendering puts the right colours in the right pixels: one-hot keys get the colormap's top colour,
// zeros its bottom colour, NaN cells show the un-normalised input, the query outline is drawn,
// matrices and montages are laid out as documented, and every view survives a PNG round trip.
import Foundation
import XCTest
import HatImaging
import HatRecording
@testable import HatViews

final class FigureTests: XCTestCase {
    typealias F = ViewFixture
    let solid = FigureOptions(colormap: .viridis, opacity: 1, scale: 1, showText: false)

    func testInputIsUnnormalisedToTheOriginalPixels() {
        let rec = F.recording()
        let img = FigureRenderer.inputImage(rec)
        XCTAssertEqual(img.width, 64)
        for (x, y) in [(0, 0), (10, 20), (63, 63)] {
            let want = (0 ..< 3).map { c in Int((x * 3 + y * 5 + c * 70) % 256) }
            let got = F.pixel(img, x, y).map(Int.init)
            for c in 0 ..< 3 { XCTAssertLessThanOrEqual(abs(got[c] - want[c]), 1, "pixel \(x),\(y)") }
        }
    }

    func testLocalFigureColoursCellsCrisply() throws {
        let rec = F.recording(window: { _, _, _, _, k in k == 4 ? 1 : 0 })
        let v = try Views.compute(.local, recording: rec, selection: Selection(level: 2, head: 0, queryRow: 1, queryCol: 2))
        for scale in [1, 3] {
            var o = solid; o.scale = scale
            let img = FigureRenderer.render(v, recording: rec, options: o)
            let origin = FigureRenderer.bodyOrigin(v, input: FigureRenderer.inputImage(rec), options: o)
            func at(_ x: Int, _ y: Int) -> [UInt8] { F.pixel(img, origin.x + x * scale, origin.y + y * scale) }
            let top = F.rgb(Colormap.viridis.rgb(1)), bottom = F.rgb(Colormap.viridis.rgb(0))
            // The key's cell (1,3) = pixels [48,64) x [16,32): every inner pixel the top colour (no blur).
            for y in 19 ..< 29 { for x in 51 ..< 61 { XCTAssertEqual(at(x, y), top, "scale \(scale) at \(x),\(y)") } }
            XCTAssertEqual(at(40, 8), bottom, "zero-probability cell (0,2)")
            // Cell (3,0) has no value: the input image shows through.
            let want = (0 ..< 3).map { c in (8 * 3 + 56 * 5 + c * 70) % 256 }
            let got = at(8, 56).map(Int.init)
            for c in 0 ..< 3 { XCTAssertLessThanOrEqual(abs(got[c] - want[c]), 1) }
            // The query (1,2) is outlined in red at its left edge.
            XCTAssertEqual(at(32, 24), F.rgb(FigureStyle.query))
        }
    }

    func testOpacityBlendsOverTheImage() throws {
        let rec = F.recording(window: { _, _, _, _, k in k == 4 ? 1 : 0 }, inputPixel: { _, _, _ in 200 })
        let v = try Views.compute(.local, recording: rec, selection: Selection(level: 2, head: 0, queryRow: 1, queryCol: 2))
        var o = solid; o.opacity = 0.5
        let img = FigureRenderer.render(v, recording: rec, options: o)
        let origin = FigureRenderer.bodyOrigin(v, input: FigureRenderer.inputImage(rec), options: o)
        let got = F.pixel(img, origin.x + 56, origin.y + 24).map(Int.init)
        let top = F.rgb(Colormap.viridis.rgb(1)).map(Int.init)
        for c in 0 ..< 3 { XCTAssertLessThanOrEqual(abs(got[c] - (200 + top[c]) / 2), 1) }
    }

    func testMatrixFigureCellsAndHighlightedRow() throws {
        // Every row one-hot on key 2; query (0,1) is row 2 of window 0.
        let rec = F.recording(window: { _, _, _, _, k in k == 2 ? 1 : 0 })
        let v = try Views.compute(.matrix, recording: rec, selection: Selection(level: 2, head: 0, queryRow: 0, queryCol: 1))
        let img = FigureRenderer.render(v, recording: rec, options: solid)
        let input = FigureRenderer.inputImage(rec)
        let hot = try XCTUnwrap(FigureRenderer.matrixCellOrigin(v, input: input, options: solid, row: 3, col: 2))
        XCTAssertGreaterThanOrEqual(hot.cell, 4)
        XCTAssertEqual(F.pixel(img, hot.x + hot.cell / 2, hot.y + hot.cell / 2), F.rgb(Colormap.viridis.rgb(1)))
        let cold = try XCTUnwrap(FigureRenderer.matrixCellOrigin(v, input: input, options: solid, row: 3, col: 4))
        XCTAssertEqual(F.pixel(img, cold.x + cold.cell / 2, cold.y + cold.cell / 2), F.rgb(Colormap.viridis.rgb(0)))
        // Carrier column 0 is set apart: column 1 starts more than one cell after column 0.
        let c0 = try XCTUnwrap(FigureRenderer.matrixCellOrigin(v, input: input, options: solid, row: 0, col: 0))
        let c1 = try XCTUnwrap(FigureRenderer.matrixCellOrigin(v, input: input, options: solid, row: 0, col: 1))
        XCTAssertGreaterThan(c1.x - c0.x, c0.cell)
        // Highlighted row 2: the red outline just above its first cell.
        let q = try XCTUnwrap(FigureRenderer.matrixCellOrigin(v, input: input, options: solid, row: 2, col: 2))
        XCTAssertEqual(F.pixel(img, q.x + 1, q.y - 1), F.rgb(FigureStyle.highlightRow))
    }

    func testMontageLayoutAndSharedScale() throws {
        // Head 0 one-hot (max 1), head 1 uniform (max 0.2).
        let rec = F.recording(window: { _, _, h, _, k in h == 0 ? (k == 4 ? 1 : 0) : 1 })
        let sel = Selection(level: 2, queryRow: 1, queryCol: 2)
        let panels = try Montage.views(.local, recording: rec, selection: sel)
        XCTAssertEqual(panels.map(\.label), ["head 0", "head 1", "mean"])
        XCTAssertTrue(panels[2].view.title.contains("mean of heads"))
        let input = FigureRenderer.inputImage(rec)
        for shared in [true, false] {
            let (img, layout) = Montage.render(panels, input: input, options: solid, sharedScale: shared)
            XCTAssertEqual(layout.rows, 2); XCTAssertEqual(layout.cols, 2)
            XCTAssertEqual(layout.bodyOrigins.count, 3)
            XCTAssertEqual(img.width, layout.width); XCTAssertEqual(img.height, layout.height)
            // Panel 1 (head 1), cell (0,2) holds 0.2.
            let o = layout.bodyOrigins[1]
            let px = F.pixel(img, o[0] + 40, o[1] + 8)
            XCTAssertEqual(px, F.rgb(Colormap.viridis.rgb(shared ? 0.2 : 1)), "shared \(shared)")
            // Panel 0 (head 0) key cell is the top colour either way.
            let o0 = layout.bodyOrigins[0]
            XCTAssertEqual(F.pixel(img, o0[0] + 56, o0[1] + 24), F.rgb(Colormap.viridis.rgb(1)))
        }
        XCTAssertEqual(Montage.grid(9).cols, 3); XCTAssertEqual(Montage.grid(9).rows, 3)
        XCTAssertEqual(Montage.grid(17).cols, 5); XCTAssertEqual(Montage.grid(17).rows, 4)
        XCTAssertThrowsError(try Montage.views(.propagation, recording: rec, selection: sel))
    }

    func testEveryViewRoundTripsThroughPNG() throws {
        let prop = (0 ..< 16 * 32).map { Float($0 % 5) }   // [16 tokens, 32 channels]
        let rec = F.recording(window: { b, g, h, q, k in Float(1 + (b + g + h + q * k) % 4) }, propagation: prop)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hatviews-\(getpid())-\(UInt32.random(in: 0 ... 1 << 30))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var written = 0
        for level in [0, 2, 3] {
            for kind in ViewKind.allCases {
                let sel = Selection(level: level, block: 0, head: nil, queryRow: 1, queryCol: 1)
                guard let v = try? Views.compute(kind, recording: rec, selection: sel) else { continue }
                let img = FigureRenderer.render(v, recording: rec, options: FigureOptions(scale: 2))
                let path = dir.appendingPathComponent(FigureNaming.fileName(kind, sel, recording: rec)).path
                try ImageIO.writePNG(img, to: path)
                XCTAssertEqual(try ImageIO.load(path: path), img, "\(kind) level \(level)")
                written += 1
            }
        }
        // energy (level 0); local, carrier, propagation, reach, rollout, matrix (level 2); local, reach, rollout, matrix (level 3)
        XCTAssertEqual(written, 11)
    }

    func testFileNamesAreDescriptive() {
        let rec = F.recording()
        XCTAssertEqual(FigureNaming.fileName(.local, Selection(level: 2, block: 1, head: 1, queryRow: 1, queryCol: 2), recording: rec),
                       "local_s3_b1_h1_w1_q1-2.png")
        XCTAssertEqual(FigureNaming.fileName(.carrier, Selection(level: 2, head: nil, carrier: 3), recording: rec),
                       "carrier_s3_b0_hmean_c3.png")
        XCTAssertEqual(FigureNaming.fileName(.reach, Selection(level: 2, queryRow: 3, queryCol: 0, carrierSlot: 0), recording: rec,
                                             montage: true, sharedScale: true),
                       "reach_s3_b0_montage-shared_w2_qc0.png")
        XCTAssertEqual(FigureNaming.fileName(.propagation, Selection(level: 2), recording: rec), "propagation_s3_b1.png")
        XCTAssertEqual(FigureNaming.fileName(.energy, Selection(level: 1), recording: rec), "energy_s2.png")
    }

    func testManifestRoundTripsAndIsDeterministic() throws {
        let rec = F.recording()
        let sel = Selection(level: 2, block: 1, head: nil, queryRow: 1, queryCol: 2, carrierSlot: nil, carrier: 2)
        let v = try Views.compute(.local, recording: rec, selection: sel)
        let m = Manifest(version: "9.9.9", model: rec.config,
                         checkpoint: .init(path: "/x/ckpt.pth.tar", sha256: String(repeating: "ab", count: 32)),
                         source: .init(image: "cat.jpg"),
                         preprocessing: .init(height: 64, width: 64, cropPct: 0.875, cropMode: "center"),
                         inputHeight: 64, inputWidth: 64, rendering: .init(FigureOptions(), sharedScale: false),
                         figures: [.init(file: "a.png", result: v, selection: sel)],
                         skipped: [.init(view: .carrier, selection: Selection(level: 3), reason: "no carriers")])
        let bytes = try m.encoded()
        XCTAssertEqual(try m.encoded(), bytes)
        let back = try Manifest.decode(bytes)
        XCTAssertEqual(back, m)
        XCTAssertNil(back.figures[0].selection.head)
        let text = String(decoding: bytes, as: UTF8.self)
        let keys = ["\"checkpoint\"", "\"figures\"", "\"inputHeight\"", "\"model\"", "\"preprocessing\"", "\"rendering\"", "\"skipped\"", "\"source\"", "\"tool\"", "\"version\""]
        let positions = keys.compactMap { text.range(of: $0)?.lowerBound }
        XCTAssertEqual(positions.count, keys.count)
        XCTAssertEqual(positions, positions.sorted(), "keys are sorted")
        XCTAssertTrue(text.contains("\"share on carrier tokens\""))
    }
}
