import Foundation
import XCTest
import HatRecording
@testable import HatViews

// The tour's text is a pure function of the recording and its configuration: every step is
// rendered for the demo model, faster_vit_0_224, a 21k-style model and a non-square any-res
// input, and the facts each step states are checked against numbers worked out here from the
// configuration (official formulas), not copied from the output.
final class TourContentTests: XCTestCase {
    static let fv0 = ModelConfig.preset(named: "faster_vit_0_224")!
    static let k21 = ModelConfig.preset(named: "faster_vit_4_21k_224")!
    /// The embedded demo's architecture (assets/demo/description.md).
    static let demo = ModelConfig(name: "faster_vit_demo_224", dim: 16, inDim: 16, depths: [1, 1, 3, 1],
                                  heads: [2, 2, 4, 8], windowSize: [7, 7, 7, 7], ctSize: 2, layerScale: 0.1,
                                  hat: [false, false, true, false], doPropagation: true, numClasses: 2,
                                  resolution: [224, 224], cropPct: 1, cropMode: "center")

    func steps(_ rec: Recording, names: [String] = []) -> [TourStep] { TourGuide(recording: rec, classNames: names).steps }
    func step(_ steps: [TourStep], _ k: TourStepKind) -> TourStep { steps.first { $0.kind == k }! }
    func text(_ steps: [TourStep], _ k: TourStepKind) -> String { step(steps, k).text }

    /// Official HAT sizes of a stage at `side` pixels (square input): tokens r, windows per side
    /// r/w (padded up), carriers per side c * that, AvgPool stride and kernel as TokenInitializer
    /// derives them.
    func hatSizes(_ c: ModelConfig, level: Int, side: Int) -> (r: Int, windows: Int, n: Int, stride: Int, kernel: Int, t: Int) {
        let r = side >> (2 + level), w = c.windowSize[level]
        let padded = (r + w - 1) / w * w
        let out = c.ctSize * padded / w
        let stride = padded / out
        return (r, padded / w, out, stride, padded - (out - 1) * stride, c.ctSize * c.ctSize + w * w)
    }

    func testEveryStepOfModel0StatesItsShapesAndCounts() {
        let c = Self.fv0
        // Carrier attention: key 5 (r1c1) gets weight 9, the other 15 keys 1 -> 9/24 = 0.375.
        let rec = SyntheticRecording.make(config: c) { e in e.attention == .carrier ? (e.key == 5 ? 9 : 1) : 1 }
        let s = steps(rec, names: ["cat", "dog"] + (2 ..< 1000).map { "c\($0)" })
        XCTAssertEqual(s.map(\.kind), TourStepKind.allCases)
        let h = hatSizes(c, level: 2, side: 224)
        XCTAssertEqual(h.n, 4); XCTAssertEqual(h.kernel, 5); XCTAssertEqual(h.stride, 3); XCTAssertEqual(h.t, 53)

        let pe = text(s, .patchEmbedding)
        XCTAssertTrue(pe.contains("input: 3 x 224 x 224"), pe)
        XCTAssertTrue(pe.contains("3 -> \(c.inDim) channels, BatchNorm, ReLU: \(c.inDim) x 112 x 112"), pe)
        XCTAssertTrue(pe.contains("\(c.inDim) -> \(c.dim) channels, BatchNorm, ReLU: \(c.dim) x 56 x 56, one vector per 4 x 4 pixel patch"), pe)
        XCTAssertTrue(pe.contains("L2 norm over the \(c.dim) channels"), pe)

        let conv = text(s, .convStages)
        XCTAssertTrue(conv.contains("stage 1: \(c.depths[0]) residual conv blocks"), conv)
        XCTAssertTrue(conv.contains("stage 2: \(c.depths[1]) residual conv blocks"), conv)
        XCTAssertTrue(conv.contains("64 x 56 x 56 -> 128 x 28 x 28"), conv)
        XCTAssertTrue(conv.contains("128 x 28 x 28 -> 256 x 14 x 14 for stage 3"), conv)
        XCTAssertTrue(conv.contains("3,136^2 = 9,834,496 pairs per head"), conv)

        let ct = text(s, .carrierInit)
        XCTAssertTrue(ct.contains("stage 3: 14 x 14 tokens of 256 channels, 2 x 2 windows of 7 x 7"), ct)
        XCTAssertTrue(ct.contains("depthwise 3 x 3 convolution of the stage input"), ct)
        XCTAssertTrue(ct.contains("16 carrier tokens (4 x 4 grid), pooled over 5 x 5 token boxes every 3 tokens (80 x 80 px every 48 px)"), ct)
        // The 3 x 3 convolution widens each box by one token on every side: 7 x 7 tokens.
        XCTAssertTrue(ct.contains("depends on a \(h.kernel + 2) x \(h.kernel + 2) token area (112 x 112 px)"), ct)
        XCTAssertFalse(ct.contains("mean of a"), ct)
        XCTAssertTrue(ct.contains("4 carrier tokens per window (2 x 2), put in front of its 49 tokens"), ct)
        XCTAssertTrue(ct.contains("window 0 receives r0c0, r0c1, r1c0, r1c1"), ct)

        let ca = text(s, .carrierAttention)
        XCTAssertTrue(ca.contains("16 x 16 per head, 8 heads"), ca)
        XCTAssertTrue(ca.contains("r0c0 -> r1c1, attention probability 0.375"), ca)
        XCTAssertTrue(ca.contains("hat_pos_embed adds"), ca)
        XCTAssertTrue(ca.contains("256 -> 1024 -> 256 channels"), ca)
        // No layer scale in faster_vit_0: every gamma is 1.
        XCTAssertTrue(ca.contains("gamma1-gamma4 (layer scales) are 1 in faster_vit_0_224"), ca)
        // A HAT block's pairs: carriers N^2 plus windows x T^2, against global attention.
        let carrierPairs = 16 * 16, windowPairs = 4 * 53 * 53, global = 196 * 196
        XCTAssertEqual(carrierPairs + windowPairs, 11_492)
        XCTAssertTrue(ca.contains("16^2 = 256 carrier pairs + 4 windows x 53^2 = 11,236 window pairs = 11,492, against 196^2 = 38,416"), ca)
        XCTAssertTrue(ca.contains("(\(Int((Double(carrierPairs + windowPairs) / Double(global) * 100).rounded()))%)"), ca)

        let wa = text(s, .windowAttention)
        XCTAssertTrue(wa.contains("4 carriers in front + 49 tokens = 53 tokens; attention 53 x 53 per head, 8 heads, 4 windows"), wa)
        XCTAssertTrue(wa.contains("rows 0-3 of each matrix are the carriers as queries"), wa)
        // Uniform window attention: the carriers get 4/53 of it, and a carrier gives 49/53 to tokens.
        XCTAssertTrue(wa.contains("together receive 7.5% of its attention"), wa)
        XCTAssertTrue(wa.contains("as a query gives 92.5% of its attention to the window's 49 tokens"), wa)

        let hb = step(s, .hatBlock)
        XCTAssertEqual(hb.facts.prefix(9).map { String($0.prefix(2)) }, (1 ... 9).map { "\($0)." })
        XCTAssertTrue(hb.facts[0].contains("pos_embed(position in the 7 x 7 window)") && hb.facts[0].contains("[4 windows, 49, 256]"), hb.facts[0])
        XCTAssertTrue(hb.facts[1].contains("hat_pos_embed(position in the 4 x 4 carrier grid): ct is [16, 256]"), hb.facts[1])
        XCTAssertTrue(hb.facts[2].contains("gamma1 * hat_attn(hat_norm1(ct)): 8 heads of 16 x 16"), hb.facts[2])
        XCTAssertTrue(hb.facts[3].contains("gamma2 * hat_mlp(hat_norm2(ct)): 256 -> 1024 -> 256"), hb.facts[3])
        XCTAssertTrue(hb.facts[4].contains("4 carriers go in front of its 49 tokens: x is [4 windows, 53, 256]"), hb.facts[4])
        XCTAssertTrue(hb.facts[5].contains("gamma3 * attn(norm1(x)): 8 heads of 53 x 53 per window; the 4 carrier rows are queries too"), hb.facts[5])
        XCTAssertTrue(hb.facts[6].contains("gamma4 * mlp(norm2(x)): 256 -> 1024 -> 256, on all 53 tokens"), hb.facts[6])
        XCTAssertTrue(hb.facts[7].contains("the 16 carriers go on to the next block"), hb.facts[7])
        XCTAssertTrue(hb.facts[8].contains("no propagation (do_propagation = False): after the last block (5)"), hb.facts[8])
        XCTAssertTrue(hb.text.contains("stage 4: steps 1, 6 and 7 only"), hb.text)
        XCTAssertEqual(hb.picture?.kind, .matrix)

        let pr = step(s, .propagation)
        XCTAssertFalse(pr.applies)
        XCTAssertTrue(pr.text.contains("do_propagation = False"), pr.text)

        let last = text(s, .lastStage)
        XCTAssertTrue(last.contains("one window covers all 49 tokens: plain global attention, 49 x 49 per head, 16 heads, 5 blocks"), last)
        XCTAssertTrue(last.contains("256 x 14 x 14 -> 512 x 7 x 7"), last)

        let pred = step(s, .prediction)
        XCTAssertEqual(pred.title, "Prediction: cat")
        XCTAssertTrue(pred.text.contains("average over all 49 tokens, then a linear head: 512 -> 1000 classes"), pred.text)
        XCTAssertTrue(pred.facts[2].hasPrefix("1. cat: "), pred.facts[2])
        // No promise that attention explains the prediction.
        XCTAssertFalse(pred.text.contains("led here"), pred.text)
        XCTAssertTrue(pred.text.contains("intervention"), pred.text)
        XCTAssertEqual(s.filter { !$0.applies }.map(\.kind), [.propagation])
    }

    func testDemoModelUsesItsOwnWidthsLayerScaleAndPropagation() {
        let c = Self.demo
        let s = steps(SyntheticRecording.make(config: c))
        let conv = text(s, .convStages)
        // One block per conv stage: singular.
        XCTAssertTrue(conv.contains("stage 1: 1 residual conv block (conv"), conv)
        XCTAssertTrue(conv.contains("16 x 56 x 56 -> 32 x 28 x 28"), conv)
        XCTAssertTrue(text(s, .carrierInit).contains("stage 3: 14 x 14 tokens of 64 channels"))
        let ca = text(s, .carrierAttention)
        XCTAssertTrue(ca.contains("16 x 16 per head, 4 heads"), ca)
        XCTAssertTrue(ca.contains("64 -> 256 -> 64 channels"), ca)
        XCTAssertTrue(ca.contains("training starts them at a small constant (layer_scale, 1e-5 in the official models)"), ca)
        let pr = step(s, .propagation)
        XCTAssertTrue(pr.applies)
        XCTAssertTrue(pr.text.contains("last block (2): each window's 2 x 2 carriers are upsampled (nearest) to 7 x 7"), pr.text)
        XCTAssertTrue(pr.text.contains("x += gamma1 * upsample(ct)"), pr.text)
        XCTAssertTrue(pr.text.contains("gamma1 is the carrier attention's layer scale"), pr.text)
        XCTAssertTrue(pr.text.contains("L2 norm over its 64 channels"), pr.text)
        XCTAssertEqual(pr.picture?.kind, .propagation)
        XCTAssertTrue(step(s, .hatBlock).facts[8].contains("9. last block (2) only: x += gamma1 * upsample(the window's 2 x 2 carriers to 7 x 7)"))
        XCTAssertTrue(text(s, .prediction).contains("128 -> 2 classes"))
        XCTAssertTrue(text(s, .crossingWindows).contains("With 3 blocks in stage 3 the loop can run 2 times"))
        XCTAssertTrue(s.allSatisfy(\.applies))
    }

    func testModelWithoutCarriersHasNoCarrierWording() {
        let c = Self.k21
        let s = steps(SyntheticRecording.make(config: c))
        for k in [TourStepKind.carrierInit, .carrierAttention, .crossingWindows, .propagation] {
            let st = step(s, k)
            XCTAssertFalse(st.applies, "\(k)")
            XCTAssertTrue(st.text.contains("Does not apply"), "\(k): \(st.text)")
        }
        // The steps that do apply never describe carriers as if they were there.
        for st in s where st.applies {
            for line in st.facts + st.sentences where line.lowercased().contains("carrier") {
                XCTAssertTrue(line.contains("no carrier"), "\(st.kind): \(line)")
            }
        }
        let ci = text(s, .carrierInit)
        XCTAssertTrue(ci.contains("stage 3: 14 x 14 tokens of 784 channels, 1 x 1 window of 14 x 14, no carrier tokens"), ci)
        XCTAssertTrue(ci.contains("off, off, off, off (as in the 21k models)"), ci)
        let wa = step(s, .windowAttention)
        XCTAssertEqual(wa.title, "Stage 3 attention: one window covers the grid")
        XCTAssertTrue(wa.text.contains("each window: 196 tokens, no carriers; attention 196 x 196 per head, 16 heads, 1 window"), wa.text)
        XCTAssertTrue(wa.text.contains("already global"), wa.text)
        let hb = step(s, .hatBlock)
        XCTAssertTrue(hb.facts[1].hasPrefix("2. x += gamma3 * attn(norm1(x)): 16 heads of 196 x 196"), hb.facts[1])
        // Layer scale 1e-5 in the 21k presets.
        XCTAssertTrue(hb.text.contains("layer_scale, 1e-5 in the official models"), hb.text)
        XCTAssertTrue(hb.text.contains("1 window x 196^2 = 38,416 window pairs, against 196^2 = 38,416"), hb.text)
        XCTAssertTrue(text(s, .crossingWindows).contains("stage 3 is one window"))
        XCTAssertTrue(text(s, .lastStage).contains("one window covers all 49 tokens"))
        let st = step(s, .statistics)
        XCTAssertTrue(st.text.contains("all attention here is window attention"), st.text)
        XCTAssertTrue(st.text.contains("stage 3 is one 14 x 14 window over the whole 224 x 224 px grid"), st.text)
    }

    func testNonSquareAnyResolutionStatesTheQuirksAndPadding() {
        let c = Self.fv0
        // 224 x 320: stage 3 is 14 x 20 tokens, padded to 14 x 21: 2 x 3 windows, 4 x 6 carriers.
        let rec = SyntheticRecording.make(config: c, resolution: [224, 320])
        let s = steps(rec)
        let ct = text(s, .carrierInit)
        XCTAssertTrue(ct.contains("stage 3: 14 x 20 tokens of 256 channels, 2 x 3 windows of 7 x 7 (padded to 14 x 21)"), ct)
        // TokenInitializer per axis on the padded grid: out = c * r / w, stride = r / out,
        // kernel = r - (out - 1) * stride.
        func axis(_ r: Int) -> (out: Int, stride: Int, kernel: Int) {
            let out = c.ctSize * r / 7, stride = r / out
            return (out, stride, r - (out - 1) * stride)
        }
        let (v, u) = (axis(14), axis(21))
        XCTAssertEqual([v.out, v.stride, v.kernel, u.out, u.stride, u.kernel], [4, 3, 5, 6, 3, 6])
        XCTAssertTrue(ct.contains("24 carrier tokens (4 x 6 grid), pooled over \(v.kernel) x \(u.kernel) token boxes every 3 tokens (80 x 96 px every 48 px)"), ct)
        XCTAssertTrue(ct.contains("depends on a \(v.kernel + 2) x \(u.kernel + 2) token area (112 x 128 px)"), ct)
        XCTAssertTrue(ct.contains("official quirk (2 x 3 windows, not square): window 0 receives r0c0, r0c1, r0c4, r0c5 but pooled r0c0, r0c1, r1c0, r1c1"), ct)
        XCTAssertTrue(ct.contains("zero-padded to 14 x 21"), ct)
        XCTAssertTrue(text(s, .carrierAttention).contains("hat_pos_embed is skipped here"))
        XCTAssertTrue(step(s, .hatBlock).facts[1].contains("hat_pos_embed is skipped"))
        XCTAssertTrue(step(s, .hatBlock).facts[4].contains("in the official swapped order"))
        // Pairs: 24^2 carrier + 6 windows x 53^2, against the 280 real tokens squared.
        XCTAssertEqual(24 * 24 + 6 * 53 * 53, 17_430)
        XCTAssertTrue(text(s, .carrierAttention).contains("24^2 = 576 carrier pairs + 6 windows x 53^2 = 16,854 window pairs = 17,430, against 280^2 = 78,400"))
        // Stage 4: 7 x 10 tokens padded to 7 x 14, two windows: windowed, not global.
        let last = step(s, .lastStage)
        XCTAssertTrue(last.title.contains("windowed"), last.title)
        XCTAssertTrue(last.text.contains("2 windows of 49 tokens, no carriers"), last.text)
        XCTAssertTrue(step(s, .crossingWindows).applies)
    }

    func testCrossingFollowsTheStrongestRouteBlockByBlock() throws {
        // faster_vit_0_224, query token r3 c3 (window 0, local 24). Block 0: window 0's carrier
        // slot 2 (r1c0) reads it; block 1: carrier r3c3 (window 3's slot 3) reads r1c0; block 1:
        // token r10 c11 (window 3, local 3 * 7 + 4 = 25) reads its slot 3.
        let rec = SyntheticRecording.make(config: Self.fv0) { e in
            switch (e.attention, e.level, e.block) {
            case (.window, 2, 0): return e.group == 0 && e.query == 2 && e.key == 4 + 24 ? 100 : 1
            case (.window, 2, 1): return e.group == 3 && e.query == 4 + 25 && e.key == 3 ? 100 : 1
            case (.carrier, 2, 1): return e.query == 15 && e.key == 4 ? 100 : 1
            default: return 1
            }
        }
        let s = step(steps(rec), .crossingWindows)
        XCTAssertTrue(s.applies)
        XCTAssertTrue(s.text.contains("route: token r3 c3 (window 0) -> carrier r1c0 -> carrier r3c3 -> token r10 c11 (window 3), blocks 0-1"), s.text)
        XCTAssertTrue(s.text.contains("block 0, window attention of window 0: carrier r1c0 (the window's slot 2)"), s.text)
        XCTAssertTrue(s.text.contains(String(format: "probability %.3f", 100.0 / 152.0)), s.text)
        let g = rec.stages[0].geometry
        let path = try XCTUnwrap(s.picture?.overlays.path)
        XCTAssertEqual(path, [g.tokenRect(row: 3, col: 3), g.carriers[4].box, g.carriers[15].box, g.tokenRect(row: 10, col: 11)])
    }

    func testStatisticsStepDefinesItsNumbersAndSaysWhatThisRunShows() {
        // Window tokens attend only to column 0 of their window row: 3 * stride px on average.
        let rec = SyntheticRecording.make(config: Self.fv0) { e in
            guard e.attention == .window else { return 1 }
            guard e.query >= e.carrierKeys, e.key >= e.carrierKeys else { return 0 }
            return (e.key - e.carrierKeys) == ((e.query - e.carrierKeys) / 7) * 7 ? 1 : 0
        }
        let s = step(steps(rec), .statistics)
        XCTAssertTrue(s.applies)
        XCTAssertTrue(s.text.contains("stage 3 window attention: mean distance 48.0 px over 6 blocks x 8 heads, carrier share 0.0%-0.0%"), s.text)
        XCTAssertTrue(s.text.contains("stage 4 window attention: mean distance 96.0 px over 5 blocks x 16 heads"), s.text)
        XCTAssertTrue(s.text.contains("mean distance: for each query, the sum over its keys"), s.text)
        XCTAssertTrue(s.text.contains("carrier share: for each window token, the attention it gives its window's 4 carrier tokens"), s.text)
        XCTAssertTrue(s.text.contains("A carrier counts at the centre of its pooling box"), s.text)
        // The window extent for scale: 7 x 7 tokens of 16 px.
        XCTAssertTrue(s.text.contains("a stage-3 window is 7 x 7 tokens, 112 x 112 px"), s.text)
        XCTAssertFalse(s.text.contains("7 x 7 windows until the last stage"), s.text)
        XCTAssertEqual(s.statistics?.window.count, 6 * 8 + 5 * 16)
    }

    func testExplorerHintsNameRealStagesAndViews() {
        for rec in [SyntheticRecording.make(config: Self.fv0), SyntheticRecording.make(config: Self.demo),
                    SyntheticRecording.make(config: Self.fv0, resolution: [224, 320])] {
            for st in steps(rec) {
                for case let .reach(level, view, _) in st.explorer {
                    XCTAssertTrue((0 ... 3).contains(level), "\(st.kind)")
                    if level >= 2 { XCTAssertNotEqual(view, .energy, "\(st.kind)") } else { XCTAssertEqual(view, .energy) }
                }
            }
        }
        // Steps are built once and kept: the same step twice is the same text.
        let g = TourGuide(recording: SyntheticRecording.make(config: Self.fv0))
        XCTAssertEqual(g.step(3).text, g.step(3).text)
        XCTAssertEqual(g.step(99).kind, .statistics)
    }

    // MARK: - Does the model need the carriers?

    /// A runner that records what it was asked and answers with the demo geometry, its logits
    /// chosen per intervention list, and carrier attention that is the identity under a cut.
    final class FakeRunner: @unchecked Sendable {
        var asked: [[String]] = []
        func run(_ list: [Intervention]) throws -> Recording {
            asked.append(list.map(\.description))
            let global = list.contains { if case .cutGlobal = $0 { return true }; return false }
            // "different colours" (class 0) leads before; the global cut flips it, the other cut halves it.
            let logits: [Float] = global ? [-2, 2] : [0.2, 0]
            return SyntheticRecording.make(config: TourContentTests.demo, logits: logits) { e in
                e.attention == .carrier && global ? (e.query == e.key ? 1 : 0) : 1
            }
        }
    }

    func testCarrierStepRunsTheModelWithEachCutAndShowsBeforeAndAfter() throws {
        let rec = SyntheticRecording.make(config: Self.demo, logits: [2, -2])   // different colours 98.2 %
        let fake = FakeRunner()
        let inputs = TourInputs(recording: rec, classNames: ["different colours", "same colour"], runner: { try fake.run($0) },
                                interventions: [.ablateHead(level: 2, block: 0, module: .attn, head: 1)])
        let s = TourGuide(inputs).steps.first { $0.kind == .carrierCut }!
        XCTAssertTrue(s.applies)
        XCTAssertEqual(s.title, "Does the model need the carriers?")
        // The loaded run's own interventions are kept, each cut added.
        XCTAssertEqual(fake.asked, [["--ablate-head levels.2.blocks.0.attn:1", "--cut-global levels.2"],
                                    ["--ablate-head levels.2.blocks.0.attn:1", "--cut-carriers levels.2", "--no-propagation levels.2"]])
        // softmax([2, -2]) = 98.2 / 1.8 %; [-2, 2] the reverse; [0.2, 0]: 55.0 %.
        XCTAssertTrue(s.text.contains("as loaded (with --ablate-head levels.2.blocks.0.attn:1): different colours 98.2%, same colour 1.8%"), s.text)
        XCTAssertTrue(s.text.contains("(--cut-global levels.2, every block of stage 3): different colours 98.2% -> 1.8%; now first: same colour 98.2%"), s.text)
        XCTAssertTrue(s.text.contains("(--cut-carriers levels.2 --no-propagation levels.2): different colours 98.2% -> 55.0%"), s.text)
        XCTAssertTrue(s.text.contains("One of the cuts changes the answer"), s.text)
        // The picture: the cut run's carrier attention as a matrix alone, the identity.
        let m = try XCTUnwrap(s.picture?.matrix)
        XCTAssertNil(s.picture?.field)
        XCTAssertEqual(m.rows, 16)
        for r in 0 ..< 16 { for c in 0 ..< 16 { XCTAssertEqual(m.values[r * 16 + c], r == c ? 1 : 0, accuracy: 1e-6) } }
        XCTAssertFalse(s.text.contains("100.00 %"), "only the demo cites the demo's accuracies")
        XCTAssertTrue(s.explorer.contains(.use([.cycleCarrierCut], "cut this stage's carriers (again: the next cut, then none)")))
    }

    /// The step's keys work from the stage it cut: the explorer opens on stage 3, so the first
    /// hint takes it to that stage's carrier view (for a model whose only carriers are in stage 4,
    /// `K` on stage 3 would say "no carrier cut applies").
    func testCarrierStepTakesTheExplorerToTheStageItCut() {
        let hat4 = ModelConfig(name: "hat4", dim: 16, inDim: 16, depths: [1, 1, 2, 2], heads: [2, 2, 4, 4],
                               windowSize: [7, 7, 8, 4], ctSize: 2, layerScale: 0.1, hat: [false, false, false, true],
                               doPropagation: true, numClasses: 2, resolution: [256, 256], cropPct: 1, cropMode: "center")
        for (config, level) in [(Self.demo, 2), (hat4, 3)] {
            let rec = SyntheticRecording.make(config: config)
            let s = TourGuide(TourInputs(recording: rec, runner: { _ in SyntheticRecording.make(config: config) }))
                .steps.first { $0.kind == .carrierCut }!
            XCTAssertTrue(s.applies, config.name)
            XCTAssertTrue(s.text.contains("--cut-global levels.\(level)"), s.text)
            guard case let .reach(to, view, _)? = s.explorer.first else { return XCTFail("\(config.name): \(s.explorer)") }
            XCTAssertEqual(to, level, config.name)
            XCTAssertEqual(view, .carrier, config.name)
            XCTAssertTrue(s.explorer.contains(.use([.cycleCarrierCut], "cut this stage's carriers (again: the next cut, then none)")))
        }
    }

    func testCarrierStepOnTheDemoCitesItsMeasuredAccuracies() {
        let rec = SyntheticRecording.make(config: Self.demo)
        let s = TourGuide(TourInputs(recording: rec, runner: { try FakeRunner().run($0) }, isDemo: true)).step(TourStepKind.allCases.firstIndex(of: .carrierCut)!)
        for n in ["100.00 %", "64.45 %", "63.35 %", "50.00 %", "58.45 %"] { XCTAssertTrue(s.text.contains(n), "\(n): \(s.text)") }
    }

    func testDemoFactsStandInTheDemosDescription() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("assets/demo/description.md")
        let doc = try String(contentsOf: url, encoding: .utf8)
        let quoted = DemoFacts.accuracies.joined(separator: " ")
        let numbers = try NSRegularExpression(pattern: "\\d+\\.\\d+ %")
            .matches(in: quoted, range: NSRange(quoted.startIndex..., in: quoted)).map { String(quoted[Range($0.range, in: quoted)!]) }
        XCTAssertEqual(numbers.count, 5, quoted)
        for n in numbers { XCTAssertTrue(doc.contains(n), "\(n) is not in assets/demo/description.md") }
        XCTAssertTrue(doc.contains("(3,000 / 3,000)"))
    }

    /// Only `--cut-global` makes the demo answer "same colour" for every image (50.00 %); with
    /// carrier attention switched off (hat_attn zeroed, 64.45 %) it still answers "different
    /// colours" for many. The reading must say which cut it means.
    func testDemoReadingNamesTheCutThatMakesEveryAnswerSameColour() {
        let always = DemoFacts.reading.components(separatedBy: ". ").filter { $0.contains("whatever the image") }
        XCTAssertFalse(always.isEmpty, DemoFacts.reading)
        for sentence in always { XCTAssertTrue(sentence.contains("--cut-global"), sentence) }
    }

    func testCarrierStepSaysWhyWhenItCannotRun() {
        // No carriers: does not apply, and says why.
        let k21 = TourGuide(TourInputs(recording: SyntheticRecording.make(config: Self.k21), runner: { try FakeRunner().run($0) }))
            .steps.first { $0.kind == .carrierCut }!
        XCTAssertFalse(k21.applies)
        XCTAssertTrue(k21.text.contains("nothing to cut"), k21.text)
        XCTAssertTrue(k21.text.contains("no carrier tokens"), k21.text)
        // A recording file: no model to run.
        let file = TourGuide(recording: SyntheticRecording.make(config: Self.demo)).steps.first { $0.kind == .carrierCut }!
        XCTAssertTrue(file.text.contains("the model is not loaded, so it cannot run again here"), file.text)
        XCTAssertTrue(file.text.contains("hatscope predict --cut-global levels.2"), file.text)
        // A runner that fails: the reason, no crash.
        struct Boom: Error, CustomStringConvertible { var description: String { "out of memory" } }
        let failing = TourGuide(TourInputs(recording: SyntheticRecording.make(config: Self.demo), runner: { _ in throw Boom() }))
            .steps.first { $0.kind == .carrierCut }!
        XCTAssertTrue(failing.text.contains("the model could not run again: out of memory"), failing.text)
    }

    func testPredictionStepNamesTheRealInterventions() {
        let s = step(steps(SyntheticRecording.make(config: Self.demo)), .prediction)
        XCTAssertTrue(s.text.contains("--ablate-head, --occlude, --occlude-box, --cut-carriers, --cut-global, --no-propagation"), s.text)
        XCTAssertTrue(s.explorer.contains { if case let .use(a, _) = $0 { return a == [.cycleCarrierCut] }; return false })
        XCTAssertTrue(s.explorer.contains { if case let .use(a, _) = $0 { return a == [.ablateHead] }; return false })
        let k21 = step(steps(SyntheticRecording.make(config: Self.k21)), .prediction)
        XCTAssertFalse(k21.text.contains("--cut-global"), k21.text)
        XCTAssertFalse(k21.explorer.contains { if case let .use(a, _) = $0 { return a == [.cycleCarrierCut] }; return false })
    }
}
