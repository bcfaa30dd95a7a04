// Parity with the official PyTorch FasterViT on small randomized models (fixtures from
// tools/gen_model_fixtures.py). Tolerances (from the issue): logits max|diff| <= 1e-4 * max|logit|,
// every attention probability max|diff| <= 1e-4.
import Foundation
import HatCheckpoint
import HatCore
import HatRecording
@testable import HatModel
import XCTest

final class ParityTests: XCTestCase {
    /// The engine's settings, as the executable applies them at start.
    override class func setUp() {
        super.setUp()
        EngineOptions.standard.apply()
    }

    static func fixturePath(_ name: String) -> String {
        Bundle.module.resourceURL!.appendingPathComponent("Fixtures").appendingPathComponent(name).path
    }

    struct Case {
        let config: ModelConfig
        let weights: [String: Tensor]
        let expected: [String: Tensor]
    }

    static func load(_ name: String) throws -> Case {
        let exp = try SafeTensors.readFile(path: fixturePath("\(name).expected.safetensors"))
        let json = try XCTUnwrap(exp.metadata["config"]).data(using: .utf8)!
        let config = try JSONDecoder().decode(ModelConfig.self, from: json)
        // A fixture may reuse another case's weights (the same model at another input size).
        let weightsName = exp.metadata["weights"] ?? name
        let weights = try SafeTensors.read(path: fixturePath("\(weightsName).weights.safetensors"))
        return Case(config: config, weights: weights, expected: exp.dictionary)
    }

    static func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    /// Runs one fixture; returns (logit diff / max|logit|, worst probability diff) for the report.
    @discardableResult
    func check(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> (Float, Float) {
        let c = try Self.load(name)
        // The official learned keys are exactly what parameterShapes lists.
        let listed = FasterViT.parameterShapes(for: c.config)
        XCTAssertEqual(Set(listed.map(\.0)), Set(c.weights.keys), "\(name): parameterShapes keys", file: file, line: line)
        for (k, s) in listed { XCTAssertEqual(c.weights[k]?.shape, s, "\(name): shape of \(k)", file: file, line: line) }

        let source = DictionaryWeightSource(c.weights)
        let model = try FasterViT(config: c.config, weights: source)
        XCTAssertEqual(source.unused, [], "\(name): weights never read", file: file, line: line)
        let input = try XCTUnwrap(c.expected["input"])
        let recorder = AttentionRecorder()
        let logits = try model.forward(input, recorder: recorder)
        let want = try XCTUnwrap(c.expected["logits"])
        XCTAssertEqual(logits.shape, want.shape)
        let scale = want.data.map(abs).max() ?? 1
        let logitDiff = Self.maxAbsDiff(logits.data, want.data) / scale
        XCTAssertLessThanOrEqual(logitDiff, 1e-4, "\(name): logits", file: file, line: line)

        // Recording without a recorder gives the same logits.
        let plain = try model.forward(input)
        XCTAssertEqual(plain.data, logits.data, "\(name): recorder changed the result", file: file, line: line)

        let rec = try recorder.recording()
        XCTAssertEqual(rec.logits, logits.data)
        var got: [String: AttentionMaps] = [:]
        for stage in rec.stages {
            for (j, b) in stage.blocks.enumerated() {
                if let w = b.window { got["levels.\(stage.level).blocks.\(j).attn.probs"] = w }
                if let h = b.carrier { got["levels.\(stage.level).blocks.\(j).hat_attn.probs"] = h }
            }
        }
        let probKeys = c.expected.keys.filter { $0.hasSuffix(".probs") }
        XCTAssertEqual(Set(got.keys), Set(probKeys), "\(name): recorded attention modules", file: file, line: line)
        var worst: Float = 0
        for k in probKeys {
            let e = c.expected[k]!
            guard let m = got[k] else { continue }
            XCTAssertEqual([m.groups, m.heads, m.queries, m.keys], e.shape, "\(name): \(k) shape", file: file, line: line)
            let d = Self.maxAbsDiff(m.probs, e.data)
            worst = max(worst, d)
            XCTAssertLessThanOrEqual(d, 1e-4, "\(name): \(k)", file: file, line: line)
            print("  \(k): \(d)")
        }
        print("parity \(name): logits max|diff|/max|logit| = \(logitDiff), worst attention prob diff = \(worst)")
        return (logitDiff, worst)
    }

    func testFixed224CarrierTwo() throws { try check("fixed224_ct2") }
    func testCarrierOneLayerScalePropagation() throws { try check("ct1_ls_prop") }
    func testHatInLevel3LayerScaleNoPropagation() throws { try check("hat4_ls_noprop") }
    func test21kStyleWholeStageWindows() throws { try check("k21_style") }
    func testAnyResNonSquareCarrierGrid() throws { try check("anyres_4x6") }
    func testAnyResPadding() throws { try check("anyres_pad") }
    /// ct1_ls_prop's weights at 64x64: level 2 is one window, carrier weights unused (official
    /// any-res model built at 64x64, checkpoint loaded non-strictly).
    func testSmallerInputLeavesCarrierWeightsUnused() throws { try check("ct1_ls_prop_at64") }
}
