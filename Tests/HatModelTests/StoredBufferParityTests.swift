// Parity on checkpoints as the official training stack writes them, whose stored buffers
// (relative_coords_table, relative_position_index) differ from the geometry: bfloat16 and float16
// storage, timm's ModelEmaV2 through CheckpointSaver, perturbed float buffers with arbitrary
// indices, a non-square any-res build (fixtures: tools/gen_buffer_fixtures.py). The official forward
// reads the stored buffers, so the model runs on them (`BufferChoice.stored`); `.geometry` must give
// what the official model gives with its own, freshly computed buffers. Tolerances (issue 12):
// logits max|diff| <= 1e-5 * max|logit|, every attention probability max|diff| <= 1e-5.
import Foundation
import HatCheckpoint
import HatCore
@testable import HatModel
import HatRecording
import XCTest

final class StoredBufferParityTests: XCTestCase {
    struct Fixture {
        let config: ModelConfig
        let expected: [String: Tensor]
        let stateDict: LoadedStateDict
    }

    static func load(_ name: String) throws -> Fixture {
        let exp = try SafeTensors.readFile(path: ParityTests.fixturePath("buffers_\(name).expected.safetensors"))
        let config = try JSONDecoder().decode(ModelConfig.self, from: Data(try XCTUnwrap(exp.metadata["config"]).utf8))
        let file = try XCTUnwrap(exp.metadata["checkpoint"])
        let sd = try StateDictLoader.load(path: ParityTests.fixturePath(file), ema: exp.metadata["ema"] == "1")
        return Fixture(config: config, expected: exp.dictionary, stateDict: sd)
    }

    func model(_ f: Fixture, _ choice: BufferChoice) throws -> (FasterViT, DictionaryWeightSource) {
        let source = DictionaryWeightSource(WeightMapping.modelTensors(f.stateDict.tensors, buffers: choice))
        return (try FasterViT(config: f.config, weights: source), source)
    }

    /// Stored buffers: the official logits and maps. Geometry: the official logits of a model that
    /// kept its own buffers, and maps that differ from the stored-buffer ones by more than the
    /// tolerance unless `storedIsGeometry` (the fixture really exercises the stored buffers).
    func check(_ name: String, storedIsGeometry: Bool = false, file: StaticString = #filePath, line: UInt = #line) throws {
        let f = try Self.load(name)
        let (stored, source) = try model(f, .stored)
        XCTAssertEqual(source.unused, [], "\(name): every given tensor is read", file: file, line: line)
        XCTAssertTrue(source.used.contains { $0.hasSuffix("relative_position_index") }, "\(name): the stored index is read", file: file, line: line)
        _ = try ParityTests.compare(stored, expected: f.expected, name: name, logitTolerance: 1e-5, probabilityTolerance: 1e-5,
                                file: file, line: line)

        let (geometry, plain) = try model(f, .geometry)
        XCTAssertFalse(plain.tensors.keys.contains { WeightMapping.isDerived($0) }, file: file, line: line)
        let input = try XCTUnwrap(f.expected["input"])
        let recorder = AttentionRecorder()
        let logits = try geometry.forward(input, recorder: recorder)
        let want = try XCTUnwrap(f.expected["logits_geometry"])
        let scale = want.data.map(abs).max() ?? 1
        XCTAssertLessThanOrEqual(ParityTests.maxAbsDiff(logits.data, want.data) / scale, 1e-5,
                                 "\(name): --buffers geometry logits", file: file, line: line)
        var moved: Float = 0
        for stage in try recorder.recording().stages {
            for (j, b) in stage.blocks.enumerated() {
                for (kind, maps) in [("attn", b.window), ("hat_attn", b.carrier)] {
                    guard let maps, let e = f.expected["levels.\(stage.level).blocks.\(j).\(kind).probs"] else { continue }
                    moved = max(moved, ParityTests.maxAbsDiff(maps.probs, e.data))
                }
            }
        }
        if storedIsGeometry {
            XCTAssertLessThanOrEqual(moved, 1e-5, "\(name): stored buffers equal the geometry", file: file, line: line)
        } else {
            XCTAssertGreaterThan(moved, 1e-4, "\(name): the stored buffers change the attention", file: file, line: line)
        }
        print("buffers \(name): geometry buffers move the attention by \(moved)")
    }

    func testBFloat16Storage() throws { try check("bf16") }
    func testFloat16Storage() throws { try check("fp16") }
    /// timm's ModelEmaV2 truncated the blended int64 index: entries one below the geometry.
    func testModelEmaV2CheckpointSaverEMAWeights() throws { try check("ema") }
    /// Noisy tables, random int64 indices (negatives wrap) and float32 indices with fractions.
    func testPerturbedBuffersAndArbitraryIndices() throws { try check("perturbed") }
    func testNonSquareAnyResBuild() throws { try check("nonsquare", storedIsGeometry: true) }

    /// The perturbed checkpoint at 160 x 160: the carrier buffers (4x4 grid) do not fit the 6x6
    /// carrier grid there and are recomputed, the window buffers are still the stored ones, as the
    /// official any-res loader (strict=False) leaves them.
    func testBuffersShapedForAnotherResolutionAreRecomputed() throws {
        let f = try Self.load("perturbed")
        let exp = try SafeTensors.readFile(path: ParityTests.fixturePath("buffers_perturbed_at160.expected.safetensors"))
        let (stored, _) = try model(f, .stored)
        _ = try ParityTests.compare(stored, expected: exp.dictionary, name: "perturbed_at160", logitTolerance: 1e-5,
                                probabilityTolerance: 1e-5)
    }
}
