// The recorder's geometry and options, the preset key lists, and input validation.
import Foundation
import HatCheckpoint
import HatCore
import HatRecording
@testable import HatModel
import XCTest

final class RecorderTests: XCTestCase {
    override class func setUp() {
        super.setUp()
        EngineOptions.standard.apply()
    }

    func model(_ name: String) throws -> (FasterViT, Tensor) {
        let c = try ParityTests.load(name)
        return (try FasterViT(config: c.config, weights: DictionaryWeightSource(c.weights)), c.expected["input"]!)
    }

    func testNonSquareGeometry() throws {
        let (net, x) = try model("anyres_4x6")   // 128x192 input
        let recorder = AttentionRecorder()
        _ = try net.forward(x, recorder: recorder)
        let rec = try recorder.recording()
        XCTAssertEqual(rec.inputHeight, 128)
        XCTAssertEqual(rec.inputWidth, 192)
        XCTAssertEqual(rec.convStages.map(\.level), [0, 1])
        XCTAssertEqual(rec.convStages[0].energy.count, 32 * 48)
        XCTAssertTrue(rec.convStages[1].energy.allSatisfy { $0 >= 0 && $0.isFinite })

        let s2 = rec.stages[0]
        XCTAssertEqual([s2.level, s2.stride, s2.height, s2.width, s2.paddedHeight, s2.paddedWidth], [2, 16, 8, 12, 8, 12])
        XCTAssertEqual([s2.windowRows, s2.windowCols, s2.carrierRows, s2.carrierCols], [2, 3, 4, 6])
        XCTAssertEqual(s2.windowRects[4], PixelRect(x0: 64, y0: 64, width: 64, height: 64))
        // Carrier (1, 2): pooled with kernel 2, stride 2 on the 8x12 map -> input pixels (64, 32) 32x32,
        // from window 1 (row 0, col 1).
        let ct = s2.carriers[1 * 6 + 2]
        XCTAssertEqual(ct.box, PixelRect(x0: 64, y0: 32, width: 32, height: 32))
        XCTAssertEqual(ct.window, 1)
        // Swapped-order quirk: window 0 receives grid cells 0, 1, 4, 5 (not 0, 1, 6, 7).
        XCTAssertEqual(s2.windowCarriers[0], [0, 1, 4, 5])
        XCTAssertEqual(s2.windowCarriers.count, 6)
        XCTAssertEqual(Set(s2.windowCarriers.flatMap { $0 }), Set(0..<24))
        XCTAssertNotNil(s2.propagation)   // propagation on: level 2's last block adds the carriers back
        let s3 = rec.stages[1]
        XCTAssertEqual([s3.height, s3.width, s3.paddedHeight, s3.paddedWidth, s3.windowRows, s3.windowCols], [4, 6, 4, 8, 1, 2])
        XCTAssertEqual([s3.carrierRows, s3.carrierCols], [2, 4])
        XCTAssertTrue(rec.notes.contains { $0.contains("not square") })
        // Every attention row sums to 1.
        for stage in rec.stages {
            for b in stage.blocks {
                for m in [b.window, b.carrier].compactMap({ $0 }) {
                    for r in 0..<(m.groups * m.heads * m.queries) {
                        let s = m.probs[(r * m.keys)..<((r + 1) * m.keys)].reduce(0, +)
                        XCTAssertEqual(s, 1, accuracy: 1e-5)
                    }
                }
            }
        }
        XCTAssertEqual(rec.logits.count, 10)
    }

    func testRecordingGeometryIsTheOneGeometry() throws {
        // The engine runs on ModelGeometry and records it; a synthetic recording of the same
        // configuration and size has the very same geometry, swapped carrier order included.
        for name in ["anyres_4x6", "anyres_pad", "fixed224_ct2", "hat4_ls_noprop"] {
            let (net, x) = try model(name)
            let recorder = AttentionRecorder()
            _ = try net.forward(x, recorder: recorder)
            let rec = try recorder.recording()
            let g = ModelGeometry(config: net.config, inputHeight: x.shape[2], inputWidth: x.shape[3])
            XCTAssertEqual(rec.stages.map(\.geometry), g.stages, name)
            XCTAssertEqual(rec.convStages.map(\.geometry), g.convStages, name)
            let synthetic = SyntheticRecording.make(config: net.config, resolution: [x.shape[2], x.shape[3]])
            XCTAssertEqual(synthetic.stages.map(\.geometry), rec.stages.map(\.geometry), name)
            XCTAssertEqual(synthetic.convStages.map(\.geometry), rec.convStages.map(\.geometry), name)
        }
        let (net, x) = try model("anyres_4x6")
        let synthetic = SyntheticRecording.make(config: net.config, resolution: [x.shape[2], x.shape[3]])
        XCTAssertEqual(synthetic.stages[0].windowCarriers[0], [0, 1, 4, 5])
    }

    func testPropagationTermRecorded() throws {
        let (net, x) = try model("ct1_ls_prop")   // 128x128, level 2: 8x8 tokens, window 4, ct 1
        let recorder = AttentionRecorder()
        _ = try net.forward(x, recorder: recorder)
        let s2 = try recorder.recording().stages[0]
        let prop = try XCTUnwrap(s2.propagation)
        XCTAssertEqual(prop.count, 8 * 8 * s2.channels)
        // ct 1: every token of a window receives the same vector (nearest upsampling of 1x1).
        let c = s2.channels
        for r in 0..<4 { for q in 0..<4 {
            XCTAssertEqual(Array(prop[((r * 8 + q) * c)..<((r * 8 + q + 1) * c)]), Array(prop[0..<c]))
        } }
        XCTAssertNotEqual(Array(prop[((4 * 8 + 4) * c)..<((4 * 8 + 5) * c)]), Array(prop[0..<c]))
        XCTAssertNil(try recorder.recording().stages[1].propagation)   // level 3 has no carriers here
    }

    func testBlockSelectionAndBudget() throws {
        let (net, x) = try model("hat4_ls_noprop")
        let pick = AttentionRecorder(options: RecorderOptions(blocks: [BlockID(level: 2, block: 1)]))
        _ = try net.forward(x, recorder: pick)
        let rec = try pick.recording()
        XCTAssertNil(rec.stages[0].blocks[0].window)
        XCTAssertNotNil(rec.stages[0].blocks[1].window)
        XCTAssertNil(rec.stages[1].blocks[0].window)
        XCTAssertNotNil(rec.stages[0].blocks[0].carrier)   // carrier maps are always kept
        XCTAssertTrue(rec.notes.contains { $0.contains("levels.2.blocks.0") })

        let tight = AttentionRecorder(options: RecorderOptions(maxAttentionBytes: 1000))
        _ = try net.forward(x, recorder: tight)
        let r2 = try tight.recording()
        XCTAssertEqual(r2.stages.map { $0.blocks.map { $0.window != nil } }, [[false, true], [false, true]])
        XCTAssertTrue(r2.notes.contains { $0.contains("budget") })
    }

    func testPresetKeyListsMatchOfficial() throws {
        let url = URL(fileURLWithPath: ParityTests.fixturePath("preset_keys.json"))
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: [String: Any]]
        XCTAssertEqual(json.count, 11)
        for preset in ModelConfig.presets {
            let want = try XCTUnwrap(json[preset.name], preset.name)
            let lines = FasterViT.parameterShapes(for: preset).map { "\($0.0):" + $0.1.map(String.init).joined(separator: ",") }.sorted()
            XCTAssertEqual(lines.count, want["count"] as? Int, preset.name)
            let text = Array(lines.joined(separator: "\n").utf8)
            let hex = text.withUnsafeBytes { SHA256.hex($0) }
            XCTAssertEqual(hex, want["sha256"] as? String, "\(preset.name): key list differs from the official state_dict")
        }
    }

    func testBadInputs() throws {
        let (net, x) = try model("k21_style")   // built for 128x128
        XCTAssertThrowsError(try net.forward(Tensor(zeros: [3, 128, 128]))) { XCTAssertEqual($0 as? ModelError, .inputShape([3, 128, 128])) }
        XCTAssertThrowsError(try net.forward(Tensor(zeros: [0, 3, 128, 128]))) { XCTAssertEqual($0 as? ModelError, .inputShape([0, 3, 128, 128])) }
        XCTAssertThrowsError(try net.forward(Tensor(zeros: [1, 4, 128, 128]))) { XCTAssertEqual($0 as? ModelError, .channels(4)) }
        XCTAssertThrowsError(try net.forward(Tensor(zeros: [1, 3, 100, 128]))) {
            guard case .resolution(100, 128, _)? = $0 as? ModelError else { return XCTFail("\($0)") }
        }
        var bad = x
        bad.data[5] = .nan
        bad.data[7] = .infinity
        XCTAssertThrowsError(try net.forward(bad)) { XCTAssertEqual($0 as? ModelError, .nonFinite(count: 2)) }
        // One non-finite value anywhere (vector body or scalar tail, any sign) is found; huge
        // finite values are not flagged.
        for (i, v) in [(0, -Float.infinity), (x.data.count - 1, Float.nan), (x.data.count - 9, Float.infinity)] {
            var one = x
            one.data[i] = v
            XCTAssertThrowsError(try net.forward(one)) { XCTAssertEqual($0 as? ModelError, .nonFinite(count: 1), "\(v) at \(i)") }
        }
        XCTAssertTrue(FasterViT.allFinite([Float.greatestFiniteMagnitude, -.greatestFiniteMagnitude, 1, 2, 3, 4, 5, 6, 7, 8, 9]))
        XCTAssertFalse(FasterViT.allFinite([1, 2, 3, 4, 5, 6, 7, 8, -.nan]))
        XCTAssertTrue(FasterViT.allFinite([]))
        // A larger input runs (any-res: level 2 becomes 16x16 in 2x2 windows of 8).
        XCTAssertNoThrow(try net.forward(Tensor(zeros: [1, 3, 256, 256])))
        // A model built without carrier tokens (ct1_ls_prop's configuration at 64x64: level 2 is one
        // window) cannot run where level 2 needs them.
        let c = try ParityTests.load("ct1_ls_prop")
        var small = c.config
        small.resolution = [64, 64]
        let noCarriers = try FasterViT(config: small, weights: DictionaryWeightSource(c.weights))
        XCTAssertNoThrow(try noCarriers.forward(Tensor(zeros: [1, 3, 64, 64])))
        XCTAssertThrowsError(try noCarriers.forward(Tensor(zeros: [1, 3, 128, 128]))) {
            guard case .resolution(128, 128, let why)? = $0 as? ModelError else { return XCTFail("\($0)") }
            XCTAssertTrue(why.contains("level 2"), why)
        }
    }

    func testBuildingAModelLeavesProcessSettingsAlone() throws {
        // BLAS threads are the caller's (EngineOptions), not the model initialiser's.
        BLAS.setThreads(2)
        defer { EngineOptions.standard.apply() }
        let chosen = BLAS.threads   // 2, or less where OpenBLAS allows fewer
        _ = try model("k21_style")
        XCTAssertEqual(BLAS.threads, chosen)
        EngineOptions(reuseFreedBuffers: false, blasThreads: nil).apply()
        XCTAssertEqual(BLAS.threads, chosen)
        EngineOptions.standard.apply()
        XCTAssertEqual(BLAS.threads, 1)
    }

    func testMissingWeightIsNamed() throws {
        let c = try ParityTests.load("k21_style")
        var w = c.weights
        w.removeValue(forKey: "levels.2.blocks.1.attn.qkv.weight")
        XCTAssertThrowsError(try FasterViT(config: c.config, weights: DictionaryWeightSource(w))) {
            XCTAssertTrue(String(describing: $0).contains("levels.2.blocks.1.attn.qkv.weight"), "\($0)")
        }
        var odd = c.config
        odd.heads[2] = 3
        XCTAssertThrowsError(try FasterViT(config: odd, weights: DictionaryWeightSource(c.weights))) {
            guard case .configuration? = $0 as? ModelError else { return XCTFail("\($0)") }
        }
    }
}
