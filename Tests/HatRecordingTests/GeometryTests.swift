// The one stage geometry: sizes, padding, pooling boxes, carrier orders (with the official
// non-square swap), query -> window/row and names, on official presets at several input sizes.
// The engine runs on this geometry and matches the official forward on every parity fixture
// (HatModelTests), which is what ties these numbers to the official code.
import XCTest
@testable import HatRecording

final class GeometryTests: XCTestCase {
    let fv0 = ModelConfig.preset(named: "faster_vit_0_224")!

    func geometry(_ c: ModelConfig, _ h: Int, _ w: Int) -> ModelGeometry {
        ModelGeometry(config: c, inputHeight: h, inputWidth: w)
    }

    func testSquarePresetAt224() {
        let g = geometry(fv0, 224, 224)
        XCTAssertEqual(g.convStages.map { [$0.level, $0.stride, $0.channels, $0.height, $0.width, $0.depth] },
                       [[0, 4, 64, 56, 56, 2], [1, 8, 128, 28, 28, 3]])
        let s3 = g.stages[0]
        XCTAssertEqual([s3.level, s3.number, s3.stride, s3.channels, s3.heads, s3.depth], [2, 3, 16, 256, 8, 6])
        XCTAssertEqual([s3.height, s3.width, s3.paddedHeight, s3.paddedWidth, s3.windowSize], [14, 14, 14, 14, 7])
        XCTAssertEqual([s3.windowRows, s3.windowCols, s3.ctSize, s3.carrierRows, s3.carrierCols], [2, 2, 2, 4, 4])
        XCTAssertEqual([s3.poolKernelH, s3.poolKernelW, s3.poolStrideH, s3.poolStrideW], [5, 5, 3, 3])
        XCTAssertEqual([s3.tokensPerWindow, s3.carrierCount, s3.carrierBiasSide], [53, 16, 4])
        XCTAssertTrue(s3.hasCarriers && s3.squareCarrierGrid && !s3.isPadded)
        XCTAssertEqual(s3.moduleName, "levels.2")
        // Carrier (1, 2): kernel 5, stride 3 tokens -> pixels (96, 48) 80 x 80, from window 1.
        XCTAssertEqual(s3.carriers[1 * 4 + 2], CarrierGeometry(row: 1, col: 2, window: 1,
                                                               box: PixelRect(x0: 96, y0: 48, width: 80, height: 80)))
        XCTAssertEqual(s3.windowRect(3), PixelRect(x0: 112, y0: 112, width: 112, height: 112))
        XCTAssertEqual(s3.windowRects.count, 4)
        // Square window grid: every window receives the carriers pooled from it, in the list order.
        for k in 0 ..< 4 {
            XCTAssertEqual(s3.windowCarriers[k], (0 ..< 4).map { s3.carrierGridIndex(window: k, slot: $0) })
            XCTAssertEqual(Set(s3.windowCarriers[k]), Set(s3.pooledCarriers(window: k)))
        }
        XCTAssertEqual(s3.windowCarriers[1], [2, 3, 6, 7])
        let s4 = g.stages[1]
        XCTAssertEqual([s4.height, s4.windowRows, s4.windowCols, s4.carriersPerWindow, s4.tokensPerWindow], [7, 1, 1, 0, 49])
        XCTAssertFalse(s4.hasCarriers)
        XCTAssertEqual(s4.windowCarriers, [[]])
        XCTAssertTrue(s4.carriers.isEmpty)
    }

    func testNonSquareWindowGridGetsTheOfficialSwappedOrder() {
        // 224 x 336: stage 3 is 14 x 21 tokens in 2 x 3 windows, a 4 x 6 carrier grid. The official
        // ct_window (height and width swapped) gives window 0 grid cells 0, 1, 4, 5, not its own
        // 0, 1, 6, 7 (fastervit.md); the next block de-windows in the unswapped order.
        let s3 = geometry(fv0, 224, 336).stages[0]
        XCTAssertEqual([s3.windowRows, s3.windowCols, s3.carrierRows, s3.carrierCols], [2, 3, 4, 6])
        XCTAssertFalse(s3.squareCarrierGrid)
        XCTAssertEqual(s3.windowCarriers, [[0, 1, 4, 5], [2, 3, 6, 7], [8, 9, 12, 13], [10, 11, 14, 15],
                                           [16, 17, 20, 21], [18, 19, 22, 23]])
        XCTAssertEqual(s3.pooledCarriers(window: 0), [0, 1, 6, 7])
        XCTAssertEqual((0 ..< 4).map { s3.carrierGridIndex(window: 0, slot: $0) }, [0, 1, 6, 7])
        XCTAssertEqual((0 ..< 4).map { s3.carrierGridIndex(window: 4, slot: $0) }, [14, 15, 20, 21])
        // Still a permutation of all carriers.
        XCTAssertEqual(s3.windowCarriers.flatMap { $0 }.sorted(), Array(0 ..< 24))
        // Pooling on the 14 x 21 map: kernel 5 x 6, stride 3 x 3 tokens.
        XCTAssertEqual([s3.poolKernelH, s3.poolKernelW, s3.poolStrideH, s3.poolStrideW], [5, 6, 3, 3])
        XCTAssertEqual(s3.carrierBiasSide, 4)   // int(sqrt(24))
        XCTAssertEqual(s3.keyName(window: 0, key: 2), "carrier r0c4")
    }

    func testPaddedStages() {
        // 256: stage 3 is 16 x 16 tokens, padded to 21 x 21 (3 x 3 windows of 7); stage 4 8 x 8 -> 14 x 14.
        let g = geometry(fv0, 256, 256)
        let s3 = g.stages[0], s4 = g.stages[1]
        XCTAssertEqual([s3.height, s3.paddedHeight, s3.windowRows, s3.carrierRows, s3.poolStrideH, s3.poolKernelH],
                       [16, 21, 3, 6, 3, 6])
        XCTAssertTrue(s3.isPadded)
        XCTAssertTrue(s3.isReal(row: 15, col: 15))
        XCTAssertFalse(s3.isReal(row: 16, col: 0))
        XCTAssertEqual(s3.summary, "16 x 16 tokens of 256 channels, 3 x 3 windows of 7 x 7 (padded to 21 x 21), "
                       + "36 carrier tokens (4 per window)")
        XCTAssertEqual([s4.height, s4.paddedHeight, s4.windowRows, s4.windowCols], [8, 14, 2, 2])
        XCTAssertFalse(s4.hasCarriers, "hat is off in stage 4 of faster_vit_0")
    }

    func testOneWindowStageHasNoCarriers() {
        // faster_vit_4_21k_224: stage 3's window (14) covers its 14 x 14 grid; hat is off anyway.
        let k21 = ModelConfig.preset(named: "faster_vit_4_21k_224")!
        let s3 = geometry(k21, 224, 224).stages[0]
        XCTAssertEqual([s3.windowCount, s3.tokensPerWindow, s3.carrierCount], [1, 196, 0])
        XCTAssertEqual(s3.summary, "14 x 14 tokens of 784 channels, 1 x 1 window of 14 x 14, no carrier tokens")
        // hat on but one window: still no carriers.
        var one = fv0
        one.hat = [false, false, true, true]
        XCTAssertFalse(geometry(one, 224, 224).stages[1].hasCarriers)
        XCTAssertTrue(geometry(one, 448, 448).stages[1].hasCarriers)
    }

    func testQueryToWindowAndRowRoundTrips() {
        for (h, w) in [(224, 224), (224, 336), (256, 256)] {
            let s3 = geometry(fv0, h, w).stages[0]
            for r in 0 ..< s3.paddedHeight {
                for c in 0 ..< s3.paddedWidth {
                    let k = s3.window(row: r, col: c), t = s3.localToken(row: r, col: c)
                    XCTAssertTrue(s3.windowRect(k).x0 <= c * s3.stride && c * s3.stride < s3.windowRect(k).x0 + s3.windowRect(k).width)
                    XCTAssertTrue(s3.tokenPosition(window: k, local: t) == (r, c), "\(h)x\(w) token (\(r), \(c))")
                    XCTAssertEqual(s3.attentionRow(row: r, col: c), 4 + t)
                }
            }
        }
        let s3 = geometry(fv0, 224, 224).stages[0]
        XCTAssertEqual(s3.window(row: 7, col: 6), 2)
        XCTAssertEqual(s3.localToken(row: 8, col: 9), 9)
        XCTAssertEqual(s3.keyName(window: 3, key: 4), "token r7 c7")
        XCTAssertEqual(s3.keyName(window: 3, key: 0), "carrier r2c2")
        XCTAssertEqual(s3.carrierLabel(13), "r3c1")
        // The short form for labels in pictures: the token's place in the stage's grid, as titles
        // and the side panel give it ("query r7 c7"), never "1,1" (which reads as a decimal).
        XCTAssertEqual(s3.keyLabel(window: 3, key: 4), "r7c7")
        XCTAssertEqual(s3.keyLabel(window: 3, key: 0), "ct r2c2")
        XCTAssertEqual(s3.tokenRect(row: 2, col: 3), PixelRect(x0: 48, y0: 32, width: 16, height: 16))
    }

    func testSyntheticRecordingsUseTheGeometry() {
        // Non-square: the synthetic recording has the swapped order without any help.
        let rec = SyntheticRecording.make(config: fv0, resolution: [224, 336])
        let g = geometry(fv0, 224, 336)
        XCTAssertEqual(rec.stages.map(\.geometry), g.stages)
        XCTAssertEqual(rec.convStages.map(\.geometry), g.convStages)
        XCTAssertEqual(rec.stages[0].windowCarriers[1], [2, 3, 6, 7])
        XCTAssertEqual(rec.stages[0].blocks.count, 6)
        XCTAssertEqual(rec.stages[0].blocks[0].window?.keys, 53)
        XCTAssertEqual(rec.stages[0].blocks[0].carrier?.keys, 24)
    }
}
