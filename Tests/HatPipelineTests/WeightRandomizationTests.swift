// The sanity check's cascading randomisation of the weights.
import XCTest
import HatCore
import HatRecording
import HatViews
import HatImaging
@testable import HatPipeline

final class WeightRandomizationTests: XCTestCase {
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
}
