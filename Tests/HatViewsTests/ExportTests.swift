// The exporter on a recording with faster_vit_0_224's real geometry (synthetic attention): planned
// figures, files written with their manifest entries, skipped views with reasons, and the time a
// stage-3 montage of 8 heads takes to render and write (printed; the budget is checked in release
// by `hatscope export --timing`, see the report).
// Set HATVIEWS_DUMP_DIR to keep the figures for a look.
import Foundation
import XCTest
import HatImaging
import HatRecording
@testable import HatViews

final class ExportTests: XCTestCase {
    func fastervit0() throws -> Recording {
        let cfg = try XCTUnwrap(ModelConfig.preset(named: "faster_vit_0_224"))
        // A distance-decaying pattern that differs per head, so panels differ.
        return SyntheticRecording.make(config: cfg) { e in
            Float(1 + (e.query * 7 + e.key * (e.head + 1)) % 11) * (e.key == e.query ? 4 : 1)
        }
    }

    func folder() throws -> String {
        if let d = ProcessInfo.processInfo.environment["HATVIEWS_DUMP_DIR"], !d.isEmpty {
            try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
            return d
        }
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("hatviews-export-\(getpid())-\(UInt32.random(in: 0 ... 1 << 30))").path
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: d) }
        return d
    }

    func testExportWritesFiguresManifestAndSkips() throws {
        let rec = try fastervit0()
        let dir = try folder()
        let sel = Selection(level: 2, block: 2, head: 4, queryRow: 3, queryCol: 5, carrier: 5)
        let items = FigureExporter.plan(ViewKind.allCases, selection: sel, montage: true)
        var calls = 0
        let out = try FigureExporter.export(items, recording: rec, folder: dir, options: FigureOptions(scale: 2),
                                            sharedScale: true) { done, total, _ in
            calls += 1
            XCTAssertEqual(total, items.count); XCTAssertEqual(done, calls)
        }
        let files = Set(out.figures.map(\.file))
        XCTAssertTrue(files.contains("local_s3_b2_h4_w0_q3-5.png"), "\(files)")
        XCTAssertTrue(files.contains("carrier_s3_b2_h4_c5.png"))
        XCTAssertTrue(files.contains("matrix_s3_b2_montage-shared_w0_q3-5.png"))
        // faster_vit_0 has no propagation, and energy is for conv stages: both skipped with reasons.
        XCTAssertEqual(Set(out.skipped.map(\.view)), [.propagation, .energy])
        XCTAssertTrue(out.skipped.allSatisfy { !$0.reason.isEmpty })
        for f in out.figures {
            let img = try ImageIO.load(path: dir + "/" + f.file)
            XCTAssertGreaterThan(img.width, 448)
        }
        XCTAssertEqual(out.timing.figures, out.figures.count)

        // The manifest written next to the figures reads back equal, and re-exporting the same
        // items gives byte-identical PNGs and manifest (deterministic).
        let manifest = Manifest(version: "test", model: rec.config, checkpoint: nil, source: .init(input: "x.npy"),
                                preprocessing: nil, inputHeight: rec.inputHeight, inputWidth: rec.inputWidth,
                                rendering: .init(FigureOptions(scale: 2), sharedScale: true),
                                figures: out.figures, skipped: out.skipped)
        try manifest.write(toFolder: dir)
        let back = try Manifest.read(path: dir + "/manifest.json")
        XCTAssertEqual(back, manifest)
        // Every single-view figure can be made again from its manifest entry alone.
        let r = back.rendering
        let options = FigureOptions(colormap: try XCTUnwrap(Colormap(rawValue: r.colormap)), opacity: r.opacity, scale: r.scale)
        for f in back.figures where !f.montage {
            let v = try Views.compute(f.view, recording: rec, selection: f.selection)
            XCTAssertEqual(FigureRenderer.render(v, recording: rec, options: options),
                           try ImageIO.load(path: dir + "/" + f.file), f.file)
        }
        let first = try XCTUnwrap(FileManager.default.contents(atPath: dir + "/" + out.figures[0].file))
        let again = try FigureExporter.export(Array(items.prefix(1)) + Array(items.prefix(1)), recording: rec, folder: dir,
                                              options: FigureOptions(scale: 2), sharedScale: true)
        XCTAssertEqual(again.figures.count, 1, "a repeated item is written once")
        XCTAssertEqual(FileManager.default.contents(atPath: dir + "/" + out.figures[0].file), first)
    }

    func testMontageOfEightStage3HeadsTiming() throws {
        let rec = try fastervit0()
        let dir = try folder()
        let sel = Selection(level: 2, block: 3, head: nil, queryRow: 7, queryCol: 6)
        let t0 = FigureExporter.now()
        let out = try FigureExporter.export([ExportItem(kind: .local, selection: sel, montage: true)], recording: rec,
                                            folder: dir, options: FigureOptions(scale: 1), sharedScale: false)
        let ms = FigureExporter.now() - t0
        print("montage of 8 stage-3 heads + mean (faster_vit_0_224 geometry): \(String(format: "%.1f", ms)) ms total, "
              + "compute \(String(format: "%.1f", out.timing.computeMs)), render \(String(format: "%.1f", out.timing.renderMs)), "
              + "encode \(String(format: "%.1f", out.timing.encodeMs)), write \(String(format: "%.1f", out.timing.writeMs))")
        XCTAssertEqual(out.figures.count, 1)
        let img = try ImageIO.load(path: dir + "/" + out.figures[0].file)
        // 9 panels in a 3 x 3 grid, each at least the 224-pixel input wide.
        XCTAssertGreaterThan(img.width, 3 * 224); XCTAssertGreaterThan(img.height, 3 * 224)
    }

    func testPaddedNonSquareStagesRenderClipped() throws {
        // 192 x 288 input: stage 3 is 12 x 18 tokens padded to 14 x 21 (2 x 3 windows).
        let cfg = try XCTUnwrap(ModelConfig.preset(named: "faster_vit_0_224"))
        let rec = SyntheticRecording.make(config: cfg, resolution: [192, 288]) { e in Float(1 + (e.query + e.key) % 5) }
        let st = try XCTUnwrap(rec.stages.first { $0.level == 2 })
        XCTAssertEqual(st.paddedHeight, 14); XCTAssertEqual(st.paddedWidth, 21)
        // The bottom-right token lies in the padding; its window is the last one.
        let sel = Selection(level: 2, block: 1, head: nil, queryRow: 13, queryCol: 20, carrier: st.carriers.count - 1)
        let input = FigureRenderer.inputImage(rec)
        for kind in [ViewKind.local, .carrier, .reach, .rollout, .matrix] {
            let v = try Views.compute(kind, recording: rec, selection: sel)
            if let f = v.field { XCTAssertEqual(f.rows, 14); XCTAssertEqual(f.cols, 21) }
            let o = FigureOptions(scale: 2)
            let img = FigureRenderer.render(v, input: input, options: o)
            let origin = FigureRenderer.bodyOrigin(v, input: input, options: o)
            XCTAssertGreaterThanOrEqual(img.width, origin.x + 288 * 2, "\(kind)")
            XCTAssertGreaterThanOrEqual(img.height, origin.y + 192 * 2, "\(kind)")
        }
        XCTAssertEqual(FigureNaming.fileName(.local, sel, recording: rec), "local_s3_b1_hmean_w5_q13-20.png")
    }

    func testPlanAllCoversEveryBlockHeadAndStage() throws {
        let rec = try fastervit0()
        let items = FigureExporter.planAll(recording: rec, selection: Selection(level: 2, queryRow: 13, queryCol: 13))
        // Stage 3: 6 blocks x 5 kinds x (8 heads + mean + montage); stage 4: 5 x 5 x (16 + 1 + 1);
        // plus 2 propagation and 2 energy items.
        XCTAssertEqual(items.count, 6 * 5 * 10 + 5 * 5 * 18 + 4)
        let s4 = try XCTUnwrap(items.first { $0.selection.level == 3 })
        XCTAssertEqual(s4.selection.queryRow, 6); XCTAssertEqual(s4.selection.queryCol, 6)
    }
}
