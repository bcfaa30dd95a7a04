// Saliency maps on synthetic recordings with known answers
// (faster_vit_0_224's geometry: stage 3 = 14 x 14 tokens, 2 x 2 windows of 7 x 7 with 4 carriers
// each, 4 x 4 carriers pooled by 5 x 5 boxes every 3 tokens; stage 4 = 7 x 7, one window).
import XCTest
import HatRecording
@testable import HatViews

final class SaliencyMapsTests: XCTestCase {
    let model0 = ModelConfig.preset(named: "faster_vit_0_224")!
    let model21k = ModelConfig.preset(named: "faster_vit_4_21k_224")!

    /// Every window query attends to the first token of its window (key c*c): that token receives
    /// everything in the last block; self-attention everywhere gives a flat rollout.
    func testReceivedAttentionAndRolloutHaveKnownValues() throws {
        let firstToken = SyntheticRecording.make(config: model0) { e in
            e.attention == .window ? (e.key == e.carrierKeys ? 1 : 0) : 1
        }
        let m = try SaliencyMaps.attention(.lastBlockStage3, firstToken)
        XCTAssertEqual(m.rows, 14); XCTAssertEqual(m.cols, 14)
        for r in 0 ..< 14 {
            for c in 0 ..< 14 {
                XCTAssertEqual(m.values[r * 14 + c], r % 7 == 0 && c % 7 == 0 ? 1 : 0, accuracy: 1e-6, "r\(r) c\(c)")
            }
        }
        // Self attention: Â = I in every block, R = I, each token's column averaged over 49 queries.
        let selfAttention = SyntheticRecording.make(config: model0) { e in e.key == e.query ? 1 : 0 }
        let rollout = try SaliencyMaps.attention(.rollout, selfAttention)
        XCTAssertTrue(rollout.values.allSatisfy { abs($0 - 1.0 / 49) < 1e-6 }, "\(rollout.values.prefix(5))")
        // One-hot to the first token in every block: rollout still ranks that token first.
        let r2 = try SaliencyMaps.attention(.rollout, firstToken)
        XCTAssertEqual(FaithfulnessMetrics.order(r2.values).prefix(4).sorted(), [0, 7, 98, 105])
        // Stage 4: the first token of its one window receives everything; it covers 2 x 2 stage-3 tokens.
        let s4 = try SaliencyMaps.attention(.lastBlockStage4, firstToken)
        XCTAssertEqual(s4.values.enumerated().filter { $0.element > 0.5 }.map(\.offset), [0, 1, 14, 15])
    }

    /// Every carrier attends to carrier 0 (box rows 0-4, cols 0-4): tokens in that box get 1
    /// divided by how many boxes hold them (boxes every 3 tokens, 5 wide, so some hold two).
    func testCarrierSaliencySpreadsOverPoolingBoxes() throws {
        let rec = SyntheticRecording.make(config: model0) { e in e.attention == .carrier ? (e.key == 0 ? 1 : 0) : 1 }
        let st = rec.stages[0]
        let m = try SaliencyMaps.attention(.carrier, rec)
        for r in 0 ..< 14 {
            for c in 0 ..< 14 {
                let rect = st.geometry.tokenRect(row: r, col: c)
                let holders = st.carriers.filter { b in
                    rect.centerX >= Double(b.box.x0) && rect.centerX < Double(b.box.x0 + b.box.width)
                        && rect.centerY >= Double(b.box.y0) && rect.centerY < Double(b.box.y0 + b.box.height)
                }
                let inFirst = holders.contains { $0.row == 0 && $0.col == 0 }
                XCTAssertEqual(m.values[r * 14 + c], inFirst ? 1 / Float(holders.count) : 0, accuracy: 1e-6, "r\(r) c\(c)")
            }
        }
        XCTAssertEqual(m.values[0], 1, "token r0 c0 lies in carrier 0's box only")
        XCTAssertThrowsError(try SaliencyMaps.attention(.carrier, SyntheticRecording.make(config: model21k))) { e in
            XCTAssertTrue("\(e)".contains("no carrier tokens"), "\(e)")
        }
    }

    func testRandomMapIsSeededPerImage() {
        let a = SaliencyMaps.random(rows: 14, cols: 14, seed: 3, index: 5)
        XCTAssertEqual(a, SaliencyMaps.random(rows: 14, cols: 14, seed: 3, index: 5))
        XCTAssertNotEqual(a, SaliencyMaps.random(rows: 14, cols: 14, seed: 3, index: 6))
        XCTAssertNotEqual(a, SaliencyMaps.random(rows: 14, cols: 14, seed: 4, index: 5))
        XCTAssertTrue(a.values.allSatisfy { $0 >= 0 && $0 < 1 })
        XCTAssertEqual(Set(a.values).count, 196, "no ties")
    }
}
