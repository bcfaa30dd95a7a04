// Variant inference on the state_dict key/shape lists of all 11 official presets (built with the
// official constructors: Fixtures/variant_shapes.json), with and without the derived buffers, and
// the strict mapping against FasterViT.parameterShapes.
import Foundation
import HatCore
import HatRecording
import HatModel
import XCTest

final class VariantInferenceTests: XCTestCase {
    static let official: [String: [String: [Int]]] = {
        let data = try! Data(contentsOf: URL(fileURLWithPath: Fixtures.path("variant_shapes.json")))
        let raw = try! JSONSerialization.jsonObject(with: data) as! [String: [String: [NSNumber]]]
        return raw.mapValues { $0.mapValues { $0.map(\.intValue) } }
    }()

    func testEveryPresetInfersItself() throws {
        XCTAssertEqual(Set(Self.official.keys), Set(ModelConfig.presets.map(\.name)))
        for preset in ModelConfig.presets {
            let r = try VariantInference.analyze(shapes: Self.official[preset.name]!)
            XCTAssertEqual(r.config, preset, preset.name)
            XCTAssertEqual(r.candidates, [preset.name], preset.name)
            XCTAssertEqual(r.notes, [], preset.name)
            XCTAssertEqual(r.observedWindows, [preset.windowSize[2], preset.windowSize[3]], preset.name)
            if preset.hat[2] { XCTAssertEqual(r.observedCtSize, 2); XCTAssertEqual(r.observedResolution, 224) }
        }
    }

    /// Without buffers the 21k family cannot be told apart (documented); every other preset still can.
    func testLearnedTensorsOnly() throws {
        let family = ["faster_vit_4_21k_224", "faster_vit_4_21k_384", "faster_vit_4_21k_512", "faster_vit_4_21k_768"]
        for preset in ModelConfig.presets {
            let learned = Self.official[preset.name]!.filter { !WeightMapping.isDerived($0.key) }
            let r = try VariantInference.analyze(shapes: learned)
            if family.contains(preset.name) {
                XCTAssertEqual(r.candidates, family)
                XCTAssertEqual(r.config.name, "faster_vit_4_21k_224")
                XCTAssertTrue(r.notes.first?.contains("--model") ?? false)
            } else {
                XCTAssertEqual(r.config, preset, preset.name)
            }
        }
    }

    func testStrictMappingAcceptsEveryOfficialStateDict() throws {
        for preset in ModelConfig.presets {
            XCTAssertNoThrow(try WeightMapping.verify(file: Self.official[preset.name]!,
                                                      expected: FasterViT.parameterShapes(for: preset)), preset.name)
        }
    }

    func testStrictMappingReportsMissingUnexpectedMisshaped() throws {
        let preset = ModelConfig.preset(named: "faster_vit_0_224")!
        var file = Self.official[preset.name]!
        file["head.bias"] = nil
        file["levels.2.blocks.0.attn.qkv.weight"] = [768, 255]
        file["extra.weight"] = [3]
        file["levels.2.blocks.0.attn.pos_emb_funct.relative_position_index"] = [1, 1] // derived: ignored
        XCTAssertThrowsError(try WeightMapping.verify(file: file, expected: FasterViT.parameterShapes(for: preset))) { e in
            guard case let WeightError.mapping(missing, unexpected, misshaped) = e else { return XCTFail("\(e)") }
            XCTAssertEqual(missing.map(\.0), ["head.bias"])
            XCTAssertEqual(unexpected.map(\.0), ["extra.weight"])
            XCTAssertEqual(misshaped.map(\.0), ["levels.2.blocks.0.attn.qkv.weight"])
            let text = "\(e)"
            XCTAssertTrue(text.contains("mis-shaped  levels.2.blocks.0.attn.qkv.weight expected [768, 256] got [768, 255]"), text)
        }
        // A completely different model: the report stays one screenful.
        let other = Self.official["faster_vit_6_224"]!
        XCTAssertThrowsError(try WeightMapping.verify(file: other, expected: FasterViT.parameterShapes(for: preset))) { e in
            XCTAssertLessThanOrEqual("\(e)".split(separator: "\n").count, 23)
        }
    }

    func testCustomConfigurationsAndErrors() throws {
        // A faster_vit_0 body with a 2-class head: same architecture, custom name.
        var s = Self.official["faster_vit_0_224"]!
        s["head.weight"] = [2, 512]; s["head.bias"] = [2]
        let r = try VariantInference.analyze(shapes: s)
        XCTAssertEqual(r.config.name, "custom")
        XCTAssertEqual(r.config.numClasses, 2)
        XCTAssertEqual(r.config.depths, [2, 3, 6, 5])
        // Remove a stage-3 block: no preset, custom with the observed depths.
        let pruned = s.filter { !$0.key.hasPrefix("levels.3.blocks.4.") }
        let c = try VariantInference.infer(shapes: pruned)
        XCTAssertEqual(c.name, "custom")
        XCTAssertEqual(c.depths, [2, 3, 6, 4])
        XCTAssertEqual(c.windowSize, [7, 7, 7, 7])
        XCTAssertNoThrow(try WeightMapping.verify(file: pruned, expected: FasterViT.parameterShapes(for: c)))
        // Not FasterViT at all.
        XCTAssertThrowsError(try VariantInference.infer(shapes: ["conv.weight": [4, 3, 3, 3]]))
        var gap = s
        gap = gap.filter { !$0.key.hasPrefix("levels.1.blocks.1.") }
        XCTAssertThrowsError(try VariantInference.infer(shapes: gap))
    }
}

final class MappingReportTests: XCTestCase {
    func testReportSharesLinesAmongKinds() {
        let missing = (0..<50).map { ("m\($0)", [1]) }
        let e = WeightError.mapping(missing: missing, unexpected: [("u", [2])], misshaped: [("s", [3], [4])])
        let lines = WeightMapping.report(e, limit: 10)
        XCTAssertEqual(lines.count, 1 + 10 + 1)
        XCTAssertEqual(lines.filter { $0.contains("missing ") }.count, 8)
        XCTAssertTrue(lines.contains("  unexpected  u [2]"))
        XCTAssertTrue(lines.contains("  mis-shaped  s expected [3] got [4]"))
        XCTAssertEqual(lines.last, "  ... and 42 more")
        XCTAssertEqual(WeightMapping.report(.mapping(missing: [("a", [1])], unexpected: [], misshaped: [])).count, 2)
    }
}

final class AnyResolutionMappingTests: XCTestCase {
    /// A 224 checkpoint run at 224x320 (non-square carrier grid: no hat_pos_embed) or 112x112 (one
    /// window in stage 3: no carrier tokens) still maps; its skipped tensors are optional, not errors.
    func testSkippedCarrierPartsAreOptional() throws {
        let preset = ModelConfig.preset(named: "faster_vit_0_224")!
        let file = VariantInferenceTests.official[preset.name]!
        for res in [[224, 320], [112, 112], [224, 224]] {
            var c = preset
            c.resolution = res
            let expected = FasterViT.parameterShapes(for: c)
            let optional = WeightMapping.optionalShapes(for: c)
            XCTAssertNoThrow(try WeightMapping.verify(file: file, expected: expected, optional: optional), "\(res)")
            if res == [224, 224] { XCTAssertTrue(optional.isEmpty) }
            if res == [224, 320] { XCTAssertTrue(optional.allSatisfy { $0.0.contains("hat_pos_embed") }, "\(optional.map(\.0))") }
            // Without the optional list the skipped parts would be reported as unexpected.
            if !optional.isEmpty { XCTAssertThrowsError(try WeightMapping.verify(file: file, expected: expected)) }
        }
        // Optional tensors must still have the right shape.
        var c = preset; c.resolution = [224, 320]
        var bad = file
        let key = WeightMapping.optionalShapes(for: c)[0].0
        bad[key] = [1]
        XCTAssertThrowsError(try WeightMapping.verify(file: bad, expected: FasterViT.parameterShapes(for: c),
                                                      optional: WeightMapping.optionalShapes(for: c)))
    }
}
