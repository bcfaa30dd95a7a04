// Occlusion patches over a stage's tokens and the pixel masks of token sets.
import XCTest
import HatCore
import HatRecording
import HatViews
import HatImaging
@testable import HatPipeline

final class OcclusionSensitivityTests: XCTestCase {
    let model0 = ModelConfig.preset(named: "faster_vit_0_224")!

    func testPatchPositionsCoverTheGridWithAStrideOfTheirSize() throws {
        let tokens = try OcclusionSensitivity(config: model0, height: 224, width: 224, stage: 3, patch: .tokens)
        XCTAssertEqual(tokens.positions.count, 196)
        XCTAssertEqual(tokens.stride, 16)
        let windows = try OcclusionSensitivity(config: model0, height: 224, width: 224, stage: 3, patch: .windows)
        XCTAssertEqual(windows.positions.map { [$0.row0, $0.row1, $0.col0, $0.col1] }, [[0, 6, 0, 6], [0, 6, 7, 13], [7, 13, 0, 6], [7, 13, 7, 13]])
        XCTAssertEqual(windows.windowRects.count, 4)
        // 3 x 3 patches on 14 x 14: the last row and column are cut at the edge (5 x 5 positions).
        let three = try OcclusionSensitivity(config: model0, height: 224, width: 224, stage: 3, patch: .side(3))
        XCTAssertEqual(three.positions.count, 25)
        XCTAssertEqual(three.positions.last, .init(row0: 12, row1: 13, col0: 12, col1: 13))
        XCTAssertEqual(three.intervention(three.positions.last!).description, "--occlude-box 3:12-13,12-13")
        // Stage 1 has 56 x 56 tokens of 4 px and no windows.
        XCTAssertEqual(try OcclusionSensitivity(config: model0, height: 224, width: 224, stage: 1, patch: .side(8)).positions.count, 49)
        XCTAssertThrowsError(try OcclusionSensitivity(config: model0, height: 224, width: 224, stage: 1, patch: .windows)) { e in
            XCTAssertTrue("\(e)".contains("no windows"), "\(e)")
        }
        XCTAssertThrowsError(try OcclusionSensitivity(config: model0, height: 224, width: 224, stage: 4, patch: .side(9)))
        XCTAssertThrowsError(try OcclusionSensitivity.Patch(parsing: "0"))
        XCTAssertThrowsError(try OcclusionSensitivity.Patch(parsing: "big"))
        XCTAssertEqual(try OcclusionSensitivity.Patch(parsing: "2"), .side(2))
    }

    func testTokenMasks() {
        let m = PixelMask(height: 32, width: 48, tokens: [0, 5], cols: 3, stride: 16)
        XCTAssertEqual(m.count, 2 * 256)
        XCTAssertTrue(m.bits[0]); XCTAssertTrue(m.bits[31 * 48 + 47]); XCTAssertFalse(m.bits[16])
    }
}
