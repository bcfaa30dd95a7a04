// Occlusion patches, the sanity check's randomised weights, the sanity image set and the sidecar
// boxes of the pointing game.
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

    /// Cascading randomisation: cumulative steps from the head down; learned tensors keep their
    /// mean and spread and get the same values in every step; statistics and buffers are kept.
    func testRandomisedWeightsAreCumulativeSeededAndKeepTheirScale() {
        XCTAssertEqual(WeightRandomization.steps.map(\.name), ["head", "levels.3", "levels.2", "levels.1", "levels.0", "patch_embed"])
        XCTAssertEqual(WeightRandomization.steps[2].prefixes, ["head.", "norm.", "levels.3.", "levels.2."])
        let w = Tensor(shape: [1000], data: (0 ..< 1000).map { Float($0 % 10) * 0.2 - 0.3 })
        let tensors: [String: Tensor] = [
            "head.weight": w, "norm.running_mean": w, "levels.3.blocks.0.mlp.fc1.weight": w,
            "levels.2.blocks.0.attn.pos_emb_funct.relative_position_index": w, "levels.1.blocks.0.conv1.weight": w,
            "norm.weight": Tensor(shape: [4], data: [1, 1, 1, 1]),
        ]
        let one = WeightRandomization.randomized(tensors, prefixes: WeightRandomization.steps[0].prefixes, seed: 9)
        let two = WeightRandomization.randomized(tensors, prefixes: WeightRandomization.steps[1].prefixes, seed: 9)
        XCTAssertNotEqual(one["head.weight"], w)
        XCTAssertEqual(one["head.weight"], two["head.weight"], "the same values in every step")
        XCTAssertEqual(one["levels.3.blocks.0.mlp.fc1.weight"], w)
        XCTAssertNotEqual(two["levels.3.blocks.0.mlp.fc1.weight"], w)
        XCTAssertNotEqual(two["levels.3.blocks.0.mlp.fc1.weight"], two["head.weight"], "each tensor its own values")
        XCTAssertEqual(two["norm.running_mean"], w, "BatchNorm statistics are kept")
        XCTAssertEqual(two["norm.weight"], tensors["norm.weight"], "a constant tensor stays as it is")
        XCTAssertEqual(WeightRandomization.randomized(tensors, prefixes: ["levels.2."], seed: 9)["levels.2.blocks.0.attn.pos_emb_funct.relative_position_index"], w)
        let r = one["head.weight"]!.data.map(Double.init), o = w.data.map(Double.init)
        func meanSD(_ v: [Double]) -> (Double, Double) {
            let m = v.reduce(0, +) / Double(v.count)
            return (m, (v.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(v.count)).squareRoot())
        }
        XCTAssertEqual(meanSD(r).0, meanSD(o).0, accuracy: 0.05)
        XCTAssertEqual(meanSD(r).1, meanSD(o).1, accuracy: 0.05)
        XCTAssertNotEqual(WeightRandomization.randomized(tensors, prefixes: ["head."], seed: 10)["head.weight"], one["head.weight"])
    }

    func testSanityImagesAreSpreadOverTheList() {
        func set(_ s: Int, _ n: Int) -> [Int] {
            let st = FaithfulnessSettings(steps: 4, seed: 0, batch: 8, sanityImages: s)
            return (0 ..< n).filter { st.inSanitySet($0, count: n) }
        }
        XCTAssertEqual(set(4, 12), [0, 3, 6, 9])
        XCTAssertEqual(set(16, 12), Array(0 ..< 12))
        XCTAssertEqual(set(0, 12), [])
        XCTAssertEqual(set(3, 50_000), [0, 16_666, 33_333])
        XCTAssertEqual(set(7, 10).count, 7)
    }

    func testSidecarBoxesAreReadAndMappedThroughPreprocessing() throws {
        let dir = NSTemporaryDirectory() + "hatscope-labels-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        XCTAssertNil(try ObjectLabels.read(folder: dir))
        try Data("""
            {"classes": ["x"], "images": {"a.png": {"label": 0, "objects": [{"x": 100, "y": 50, "r": 10, "shape": "circle"},
             {"box": [30, 40, 10, 20]}]}, "b.png": {"objects": []}}}
            """.utf8).write(to: URL(fileURLWithPath: dir + "/labels.json"))
        let labels = try XCTUnwrap(ObjectLabels.read(folder: dir))
        XCTAssertEqual(labels.boxes["a.png"], [ObjectBox(x0: 90, y0: 40, x1: 110, y1: 60), ObjectBox(x0: 10, y0: 20, x1: 30, y1: 40)])
        // A tensor input: boxes are in network pixels already.
        let x = NetworkInput(path: "a.npy", kind: .npy, tensor: Tensor(zeros: [1, 3, 32, 32]), preprocessed: nil)
        XCTAssertEqual(labels.boxes(for: "a.png", input: x)?.count, 2)
        XCTAssertNil(labels.boxes(for: "b.png", input: x), "no boxes: no pointing trial")
        // A 448 x 448 photo through the demo's transform (crop_pct 1: resized to 224, no crop): halved.
        let demo = ModelConfig.preset(named: "faster_vit_0_224").map { c -> ModelConfig in var d = c; d.cropPct = 1; return d }!
        let photo = try NetworkInputFile(path: "a.png", content: .image(RGBImage(width: 448, height: 448, fill: (9, 9, 9)))).input(for: demo)
        XCTAssertEqual(labels.boxes(for: "a.png", input: photo)?.first, ObjectBox(x0: 45, y0: 20, x1: 55, y1: 30))
        try Data("{\"images\": 3}".utf8).write(to: URL(fileURLWithPath: dir + "/labels.json"))
        XCTAssertThrowsError(try ObjectLabels.read(folder: dir)) { e in XCTAssertTrue("\(e)".contains("not a labels file"), "\(e)") }
    }
}
