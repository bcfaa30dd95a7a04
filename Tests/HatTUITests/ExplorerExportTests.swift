// `e` and `E` write the same PNG files as `hatscope export` (FigureRenderer / Montage /
// FigureNaming), into the export folder; failures become a status line, not a crash.
import Foundation
import XCTest
@testable import HatTUI
import HatRecording
import HatViews

final class ExplorerExportTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("hatscope-tui-export-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func pngSize(_ path: String) throws -> (Int, Int) {
        let b = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        XCTAssertEqual(Array(b.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        XCTAssertEqual(Array(b[12..<16]), Array("IHDR".utf8))
        return (b[16..<20].reduce(0) { $0 << 8 | Int($1) }, b[20..<24].reduce(0) { $0 << 8 | Int($1) })
    }

    func testExportEffectsWriteTheExportCommandsFiles() throws {
        let explorer = Explorer(context: Fixture.context, options: ExplorerOptions(exportDirectory: dir.path))
        let s = explorer.initialState(width: 120, height: 40)
        let (_, effects) = KeyHandling.handle(s, .char("e"))
        let (msg, isError) = try XCTUnwrap(explorer.perform(effects[0], state: s))
        XCTAssertFalse(isError, msg)
        let name = FigureNaming.fileName(.local, s.selection, recording: Fixture.recording)
        XCTAssertEqual(msg, "wrote " + dir.appendingPathComponent(name).path)
        let (w, h) = try pngSize(dir.appendingPathComponent(name).path)
        XCTAssertGreaterThan(w, 224); XCTAssertGreaterThan(h, 224)

        let (_, e2) = KeyHandling.handle(s, .char("E"))
        let (msg2, isError2) = try XCTUnwrap(explorer.perform(e2[0], state: s))
        XCTAssertFalse(isError2, msg2)
        let montage = FigureNaming.fileName(.local, s.selection, recording: Fixture.recording, montage: true, sharedScale: false)
        let (mw, _) = try pngSize(dir.appendingPathComponent(montage).path)
        XCTAssertGreaterThan(mw, w, "9 panels (8 heads + mean) are wider than one figure")
    }

    func testExportProblemsBecomeAStatusLine() throws {
        let missing = dir.appendingPathComponent("no/such/folder").path
        let explorer = Explorer(context: Fixture.context, options: ExplorerOptions(exportDirectory: missing))
        var s = explorer.initialState(width: 120, height: 40)
        s = KeyHandling.handle(s, .char("S")).0                 // energy view: no montage
        let (msg, isError) = try XCTUnwrap(explorer.perform(.exportMontage(s.view, s.selection), state: s))
        XCTAssertTrue(isError)
        XCTAssertTrue(msg.hasPrefix("export failed:"), msg)
        let (msg2, isError2) = try XCTUnwrap(explorer.perform(.export(s.view, s.selection), state: s))
        XCTAssertTrue(isError2, "writing into a missing folder fails cleanly: \(msg2)")
    }

    func testPropagationViewOnAVariantWithPropagation() throws {
        // faster_vit_3_224 propagates carrier tokens back into the windows.
        let cfg = try XCTUnwrap(ModelConfig.presets.first { $0.name == "faster_vit_3_224" })
        let rec = SyntheticScene.recording(config: cfg)
        let ctx = ExplorerContext(recording: rec, checkpointLabel: "synthetic")
        var s = AppState(geometry: ctx.geometry, colormaps: ["viridis"], screenWidth: 120, screenHeight: 40)
        XCTAssertEqual(s.stage?.views, [.local, .carrier, .propagation, .reach, .rollout, .matrix])
        s = KeyHandling.handle(KeyHandling.handle(s, .tab).0, .tab).0
        XCTAssertEqual(s.view, .propagation)
        let v = Result { try Views.compute(s.view, recording: rec, selection: s.selection) }
        XCTAssertNoThrow(try v.get())
        let f = Renderer.render(s, view: v, context: ctx)
        XCTAssertTrue(f.buffer.line(1).hasPrefix(" propagation"), f.buffer.line(1))
        XCTAssertNotNil(f.picture)
    }
}
