import XCTest
import Foundation
@testable import HatRecording

final class ModelConfigTests: XCTestCase {
    func testElevenPresetsWithDistinctNames() {
        XCTAssertEqual(ModelConfig.presets.count, 11)
        XCTAssertEqual(Set(ModelConfig.presets.map(\.name)).count, 11)
        XCTAssertEqual(ModelConfig.preset(named: "faster_vit_4_21k_768")?.windowSize, [7, 7, 48, 24])
        XCTAssertEqual(ModelConfig.preset(named: "faster_vit_0_224")?.cropPct, 0.875)
    }
}

final class ModelConfigCodingTests: XCTestCase {
    func testEveryPresetRoundTrips() throws {
        for p in ModelConfig.presets {
            let data = try JSONEncoder().encode(p)
            XCTAssertEqual(try ModelConfig.decodeJSON(data), p, p.name)
        }
    }

    func testOfficialKeywordNamesAndDefaults() throws {
        // As the official FasterViT(...) constructor spells them; omitted fields take its defaults.
        let json = """
        {"dim": 32, "in_dim": 16, "depths": [1, 1, 2, 1], "num_heads": [2, 2, 4, 8], "window_size": 7,
         "ct_size": 1, "layer_scale": 1e-5, "do_propagation": true, "resolution": 224, "num_classes": 10}
        """
        let c = try ModelConfig.decodeJSON(Data(json.utf8))
        XCTAssertEqual(c.inDim, 16)
        XCTAssertEqual(c.heads, [2, 2, 4, 8])
        XCTAssertEqual(c.windowSize, [7, 7, 7, 7])
        XCTAssertEqual(c.ctSize, 1)
        XCTAssertEqual(c.layerScale, 1e-5)
        XCTAssertTrue(c.doPropagation)
        XCTAssertEqual(c.resolution, [224, 224])
        XCTAssertEqual(c.numClasses, 10)
        XCTAssertEqual(c.hat, [false, false, true, false])
        XCTAssertEqual(c.mlpRatio, 4)
        XCTAssertEqual(c.name, "custom")
    }

    func testUnusableConfigurationsSayWhy() {
        func message(_ json: String) -> String {
            do { _ = try ModelConfig.decodeJSON(Data(json.utf8)); return "" } catch { return "\(error)" }
        }
        XCTAssertTrue(message(#"{"dim": 32, "in_dim": 16, "depths": [1,1,2,1]}"#).contains("heads"))
        XCTAssertTrue(message(#"{"dim": 30, "in_dim": 16, "depths": [1,1,2,1], "heads": [2,2,7,8]}"#).contains("do not split"))
        XCTAssertTrue(message(#"{"dim": 32, "in_dim": 16, "depths": [1,1,2], "heads": [2,2,4,8]}"#).contains("4"))
        XCTAssertTrue(message(#"{"dim": "x"}"#).contains("dim"))
        XCTAssertFalse(message("not json").isEmpty)
    }
}
