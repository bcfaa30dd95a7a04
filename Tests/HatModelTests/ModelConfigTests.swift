import XCTest
@testable import HatModel

final class ModelConfigTests: XCTestCase {
    func testElevenPresetsWithDistinctNames() {
        XCTAssertEqual(ModelConfig.presets.count, 11)
        XCTAssertEqual(Set(ModelConfig.presets.map(\.name)).count, 11)
        XCTAssertEqual(ModelConfig.preset(named: "faster_vit_4_21k_768")?.windowSize, [7, 7, 48, 24])
        XCTAssertEqual(ModelConfig.preset(named: "faster_vit_0_224")?.cropPct, 0.875)
    }
}
