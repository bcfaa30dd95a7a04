import XCTest
import HatRecording
import HatViews
@testable import HatTUI
import Foundation

// The tour's text is a pure function of the recording: these check that every step states the
// real shapes of the loaded variant, the numbers of this run, and says so when a part is absent.
final class TourTests: XCTestCase {
    func preset(_ name: String) -> ModelConfig { ModelConfig.preset(named: name)! }

    func text(_ s: TourStep) -> String { ([s.title] + s.facts + s.sentences).joined(separator: "\n") }

    func step(_ steps: [TourStep], _ k: TourStepKind) -> TourStep { steps.first { $0.kind == k }! }

    func testEveryStepOfModel0MentionsItsRealShapes() {
        // Carrier attention: key 5 (r1c1) gets weight 9, the other 15 keys 1 -> 9/24 = 0.375.
        let rec = SyntheticRecording.make(config: preset("faster_vit_0_224")) { e in
            e.attention == .carrier ? (e.key == 5 ? 9 : 1) : 1
        }
        let steps = TourContent.steps(rec, classNames: ["cat", "dog"] + (2 ..< 1000).map { "c\($0)" })
        XCTAssertEqual(steps.map(\.kind), TourStepKind.allCases)
        let pe = text(step(steps, .patchEmbedding))
        XCTAssertTrue(pe.contains("input: 3 x 224 x 224"))
        XCTAssertTrue(pe.contains("3 -> 64 channels"))
        XCTAssertTrue(pe.contains("output: 64 x 56 x 56: one position per 4 x 4 pixel patch"), pe)
        let conv = text(step(steps, .convStages))
        XCTAssertTrue(conv.contains("stage 1: 2 residual conv blocks"))
        XCTAssertTrue(conv.contains("stage 2: 3 residual conv blocks"))
        XCTAssertTrue(conv.contains("64 x 56 x 56 -> 128 x 28 x 28"), conv)
        XCTAssertTrue(conv.contains("-> 256 x 14 x 14 for stage 3"), conv)
        let ct = text(step(steps, .carrierInit))
        XCTAssertTrue(ct.contains("stage 3: 14 x 14 tokens of 256 channels, 2 x 2 windows of 7 x 7"), ct)
        XCTAssertTrue(ct.contains("16 carrier tokens (4 x 4 grid) from 5 x 5 pooling boxes every 3 tokens (80 x 80 px every 48 px)"), ct)
        XCTAssertTrue(ct.contains("4 carrier tokens per window (2 x 2), put in front of its 49 tokens"))
        XCTAssertTrue(ct.contains("window 0 receives r0c0, r0c1, r1c0, r1c1"), ct)
        let ca = text(step(steps, .carrierAttention))
        XCTAssertTrue(ca.contains("16 x 16 per head, 8 heads"), ca)
        XCTAssertTrue(ca.contains("strongest link r0c0 -> r1c1 = 0.375"), ca)
        let wa = text(step(steps, .windowAttention))
        XCTAssertTrue(wa.contains("4 carriers in front + 49 tokens = 53 tokens; attention 53 x 53 per head, 8 heads, 4 windows"), wa)
        // Uniform window attention: the carriers get 4/53 of it.
        XCTAssertTrue(wa.contains("its 4 carriers receive 7.5% of its attention"), wa)
        let pr = step(steps, .propagation)
        XCTAssertFalse(pr.applies)
        XCTAssertTrue(text(pr).contains("do_propagation = False"))
        XCTAssertTrue(text(pr).contains("Does not apply"))
        let last = text(step(steps, .lastStage))
        XCTAssertTrue(last.contains("one window covers all 49 tokens: plain global attention, 49 x 49 per head, 16 heads"), last)
        XCTAssertTrue(last.contains("256 x 14 x 14 -> 512 x 7 x 7"))
        let pred = step(steps, .prediction)
        XCTAssertEqual(pred.title, "Prediction: cat")
        XCTAssertTrue(text(pred).contains("512 -> 1000 classes"))
        XCTAssertTrue(pred.facts[1].hasPrefix("1. cat: "))
        XCTAssertEqual(steps.filter { !$0.applies }.map(\.kind), [.propagation])
    }

    func testStatisticsStepQuotesTheHeadStatistics() throws {
        // Window tokens attend only to column 0 of their window row: 3 * stride px on average.
        let rec = SyntheticRecording.make(config: preset("faster_vit_0_224")) { e in
            guard e.attention == .window else { return 1 }
            guard e.query >= e.carrierKeys, e.key >= e.carrierKeys else { return 0 }
            return (e.key - e.carrierKeys) == ((e.query - e.carrierKeys) / 7) * 7 ? 1 : 0
        }
        let s = step(TourContent.steps(rec), .statistics)
        XCTAssertTrue(s.applies)
        let t = text(s)
        XCTAssertTrue(t.contains("stage 3 window attention: mean distance 48.0-48.0 px over 6 block(s) x 8 heads, carrier share 0.0%-0.0%"), t)
        XCTAssertTrue(t.contains("stage 4 window attention: mean distance 96.0-96.0 px over 5 block(s) x 16 heads"), t)
        XCTAssertEqual(s.statistics?.window.count, 6 * 8 + 5 * 16)
    }

    func testPicturesHighlightWhatTheStepTalksAbout() throws {
        let rec = SyntheticRecording.make(config: preset("faster_vit_0_224"))
        let steps = TourContent.steps(rec)
        let ct = try XCTUnwrap(step(steps, .carrierInit).picture)
        let stage = rec.stages[0]
        XCTAssertEqual(ct.overlays.carrierBoxes.count, 16)
        XCTAssertEqual(ct.overlays.highlightedBoxes, stage.windowCarriers[0].map { stage.carriers[$0].box })
        XCTAssertEqual(ct.overlays.selectedWindow, stage.geometry.windowRect(0))
        XCTAssertEqual(step(steps, .carrierAttention).picture?.kind, .carrier)
        let local = try XCTUnwrap(step(steps, .windowAttention).picture)
        XCTAssertEqual(local.kind, .local)
        XCTAssertEqual(local.overlays.query, stage.geometry.tokenRect(row: 3, col: 3))
        XCTAssertEqual(step(steps, .patchEmbedding).picture?.kind, .energy)
        XCTAssertNotNil(step(steps, .patchEmbedding).picture?.overlays.query)
        // Pure: the same recording gives the same text (pictures hold NaN, which never compares equal).
        XCTAssertEqual(TourContent.steps(rec).map(text), steps.map(text))
    }

    func testPropagationStepWithPropagationOn() {
        let rec = SyntheticRecording.make(config: preset("faster_vit_3_224"))
        let p = step(TourContent.steps(rec), .propagation)
        XCTAssertTrue(p.applies)
        XCTAssertTrue(text(p).contains("last block (11): each window's 2 x 2 carriers are upsampled (nearest) to 7 x 7"), text(p))
        XCTAssertTrue(text(p).contains("512 channels per token"))
        XCTAssertEqual(p.picture?.kind, .propagation)
    }

    func testModelWithoutCarriersSaysSo() {
        let rec = SyntheticRecording.make(config: preset("faster_vit_4_21k_224"))
        let steps = TourContent.steps(rec)
        for k in [TourStepKind.carrierInit, .carrierAttention, .propagation] {
            let s = step(steps, k)
            XCTAssertFalse(s.applies, "\(k)")
            XCTAssertTrue(text(s).contains("Does not apply"), "\(k)")
        }
        let ci = text(step(steps, .carrierInit))
        XCTAssertTrue(ci.contains("stage 3: 14 x 14 tokens of 784 channels, 1 x 1 window of 14 x 14, no carrier tokens"), ci)
        XCTAssertTrue(ci.contains("off, off, off, off (as in the 21k models)"), ci)
        let wa = text(step(steps, .windowAttention))
        XCTAssertTrue(wa.contains("each window: 196 tokens, no carriers; attention 196 x 196 per head, 16 heads, 1 window(s)"), wa)
        XCTAssertEqual(step(steps, .windowAttention).title, "Stage 3 attention: one window covers the grid")
        XCTAssertTrue(wa.contains("already global"), wa)
        XCTAssertTrue(text(step(steps, .lastStage)).contains("one window covers all 49 tokens"))
    }

    func testNonSquareWindowGridQuirkIsNamed() {
        // faster_vit_0 at 224 x 336: 2 x 3 windows, which receive the official swapped carriers.
        let rec = SyntheticRecording.make(config: preset("faster_vit_0_224"), resolution: [224, 336])
        let t = text(step(TourContent.steps(rec), .carrierInit))
        XCTAssertTrue(t.contains("official quirk (2 x 3 windows, not square): window 0 receives r0c0, r0c1, r0c4, r0c5 but pooled r0c0, r0c1, r1c0, r1c1"), t)
        let plain = text(step(TourContent.steps(SyntheticRecording.make(config: preset("faster_vit_0_224"))), .carrierInit))
        XCTAssertFalse(plain.contains("quirk"))
    }

    func testPaddedAnyResolutionStage() {
        let rec = SyntheticRecording.make(config: preset("faster_vit_0_224"), resolution: [256, 256])
        let steps = TourContent.steps(rec)
        let ct = text(step(steps, .carrierInit))
        XCTAssertTrue(ct.contains("stage 3: 16 x 16 tokens of 256 channels, 3 x 3 windows of 7 x 7 (padded to 21 x 21)"), ct)
        XCTAssertTrue(ct.contains("36 carrier tokens (6 x 6 grid)"), ct)
        XCTAssertTrue(ct.contains("zero-padded to 21 x 21"))
        // Stage 4 at 256: 8 x 8 tokens padded to 14 x 14: 2 x 2 windows, so not one global window.
        let last = step(steps, .lastStage)
        XCTAssertTrue(last.title.contains("windowed"), last.title)
        XCTAssertTrue(text(last).contains("4 windows of 49 tokens, no carriers"), text(last))
    }
}

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
        XCTAssertEqual(screen.steps.count, 9)
        for i in 0 ..< screen.steps.count {
            let buf = screen.frame(TourState(count: 9, index: i, screenWidth: 140, screenHeight: 42))
            let text = buf.text
            XCTAssertTrue(buf.line(0).contains("step \(i + 1)/9"), buf.line(0))
            XCTAssertTrue(text.contains(String(screen.steps[i].facts[0].prefix(30))), "step \(i): \(screen.steps[i].facts[0])")
            XCTAssertTrue(buf.line(41).contains("Space"))
            // The picture is half blocks.
            XCTAssertTrue(buf.line(20).unicodeScalars.contains("\u{2580}"))
        }
        // Propagation is off in faster_vit_0: the frame says so.
        let p = screen.frame(TourState(count: 9, index: 5, screenWidth: 140, screenHeight: 42)).text
        XCTAssertTrue(p.contains("does not apply to faster_vit_0_224"))
        // The statistics step draws the scatter and the heatmap with a row per block.
        let st = screen.frame(TourState(count: 9, index: 8, screenWidth: 140, screenHeight: 42)).text
        XCTAssertTrue(st.contains("mean attention distance (px) per head"))
        XCTAssertTrue(st.contains("stage 3 (6 blocks)"))
        XCTAssertTrue(st.contains("s4 b4"))
    }

    func testExplorerKeyGOpensTheTour() {
        let rec = SyntheticScene.recording()
        let state = AppState(geometry: ExplorerGeometry(recording: rec), colormaps: ["viridis"])
        XCTAssertEqual(KeyHandling.handle(state, .char("t")).1, [.openTour(step: 0), .redraw])
        XCTAssertEqual(KeyHandling.handle(state, .char("T")).1, [.openTour(step: .max), .redraw])
        XCTAssertTrue(KeyBindings.table.contains { $0.keys == "t / T" })
        // G lands on the last step (the statistics).
        XCTAssertEqual(TourState(count: 9, index: .max).index, 8)
    }

    func testTooSmallTerminalSaysSo() {
        let screen = TourScreen(context: context("faster_vit_0_224"))
        let buf = screen.frame(TourState(count: 8, screenWidth: 40, screenHeight: 10))
        XCTAssertTrue(buf.text.contains("terminal too small"))
    }
}
