// The stored relative-position buffers: the geometry against buffers the official code wrote, how
// stored index values become table entries (copy_ into int64, torch's negative indexing), the
// general gather against a naive lookup, hostile indices, and the buffer report (`info`).
import Foundation
import HatCheckpoint
import HatCore
@testable import HatModel
import HatRecording
import XCTest

final class RelativePositionBufferTests: XCTestCase {
    /// A freshly built official model's buffers (the non-square fixture was saved without
    /// touching them): windows of 4, carrier bias grids of side 4 and 2.
    func testGeometryEqualsTheOfficialBuffers() throws {
        let sd = try StoredBufferParityTests.load("nonsquare").stateDict
        var checked = 0
        for (k, t) in sd.tensors {
            if k.hasSuffix("relative_coords_table") {
                let side = try XCTUnwrap(RelativeGeometry.coordsSide(t.shape), k)
                let want = RelativeGeometry.coords(side: side)
                XCTAssertLessThanOrEqual(ParityTests.maxAbsDiff(t.data, want), 2.4e-7, k)   // at most one ulp of 1
                checked += 1
            } else if k.hasSuffix("relative_position_index") {
                let side = try XCTUnwrap(RelativeGeometry.indexSide(t.shape), k)
                XCTAssertEqual(t.data.map { Int32($0) }, RelativeGeometry.index(side: side), k)
                checked += 1
            }
        }
        XCTAssertEqual(checked, 16)
    }

    func testStoredIndexValuesBecomeTableEntriesAsTorchWouldUseThem() throws {
        // side 2: a 3x3 = 9-entry table. copy_ truncates toward zero; negatives wrap.
        XCTAssertEqual(try StoredRelativeBuffers.tableEntries([0, 3.7, 8.99, -1, -9, -0.5, -8.2, -9.9], side: 2, name: "x"),
                       [0, 3, 8, 8, 0, 0, 1, 0])
        for bad: Float in [9, -10.5, -10, .nan, .infinity, 1e20] {
            XCTAssertThrowsError(try StoredRelativeBuffers.tableEntries([0, bad], side: 2, name: "levels.2.blocks.0.attn.pos_emb_funct.relative_position_index")) {
                guard case let ModelError.buffer(m) = $0 else { return XCTFail("\($0)") }
                XCTAssertTrue(m.contains("relative_position_index: entry 1"), m)
                XCTAssertTrue(m.contains("9-entry"), m)
            }
        }
    }

    /// Dense bias by the definition: bias[h, lead + p, lead + q] = table[h, index[p, q]].
    func naive(_ b: AttentionBias, index: [Int32], tokens t: Int) -> [Float] {
        let ww = b.side * b.side, span = (2 * b.side - 1) * (2 * b.side - 1), lead = t - ww
        var out = [Float](repeating: 0, count: b.heads * t * t)
        for h in 0..<b.heads {
            for p in 0..<ww {
                for q in 0..<ww { out[(h * t + lead + p) * t + lead + q] = b.table[h * span + Int(index[p * ww + q])] }
            }
        }
        return out
    }

    /// Side 32 (3 x 1024^2 token pairs) is past `AttentionBias.pairLimit`: the lookup per window;
    /// the others keep the bias per token pair.
    func testStoredIndexGatherAndGeometryFastPathMatchTheDefinition() {
        var rng = SystemRandomNumberGenerator()
        for (side, lead) in [(1, 0), (2, 1), (4, 4), (7, 4), (3, 0), (32, 2)] {
            let span = (2 * side - 1) * (2 * side - 1), heads = 3, t = lead + side * side
            let table = (0..<(heads * span)).map { _ in Float.random(in: -4...4, using: &rng) }
            let geometry = AttentionBias(heads: heads, side: side, table: table)
            XCTAssertEqual(geometry.pairs == nil, heads * side * side * side * side > AttentionBias.pairLimit)
            XCTAssertEqual(geometry.dense(tokens: t), naive(geometry, index: RelativeGeometry.index(side: side), tokens: t), "side \(side)")
            let index = (0..<(side * side * side * side)).map { _ in Int32.random(in: 0..<Int32(span), using: &rng) }
            let stored = AttentionBias(heads: heads, side: side, table: table, index: index)
            XCTAssertEqual(stored.dense(tokens: t), naive(stored, index: index, tokens: t), "side \(side)")
        }
    }

    /// The model takes the geometry's fast path when the stored index equals it, the gather when not.
    func testOnlyADifferingIndexTakesTheGather() throws {
        let ema = try StoredBufferParityTests.load("ema")
        let source = DictionaryWeightSource(WeightMapping.modelTensors(ema.stateDict.tensors, buffers: .stored))
        let model = try FasterViT(config: ema.config, weights: source)
        XCTAssertNotNil(model.stages[0].blocks[0].windowBias.index, "EMA-truncated index")
        let fresh = try StoredBufferParityTests.load("nonsquare")
        let plain = try FasterViT(config: fresh.config,
                                  weights: DictionaryWeightSource(WeightMapping.modelTensors(fresh.stateDict.tensors, buffers: .stored)))
        XCTAssertNil(plain.stages[0].blocks[0].windowBias.index, "a stored index equal to the geometry")
    }

    func testAnIndexOutsideTheTableFailsToLoadWithItsName() throws {
        let f = try StoredBufferParityTests.load("perturbed")
        var tensors = WeightMapping.modelTensors(f.stateDict.tensors, buffers: .stored)
        let key = "levels.2.blocks.1.attn.pos_emb_funct.relative_position_index"
        var t = try XCTUnwrap(tensors[key])
        t.data[5] = 49
        tensors[key] = t
        XCTAssertThrowsError(try FasterViT(config: f.config, weights: DictionaryWeightSource(tensors))) {
            XCTAssertTrue("\($0)".contains(key + ": entry 5 is 49.0, outside the 49-entry bias table"), "\($0)")
        }
        // --buffers geometry does not read it.
        XCTAssertNoThrow(try FasterViT(config: f.config, weights: DictionaryWeightSource(WeightMapping.modelTensors(tensors, buffers: .geometry))))
        // info says so.
        var all = f.stateDict.tensors
        all[key] = t
        let lines = BufferAudit(config: f.config, tensors: all, resolution: f.config.resolution, choice: .stored).lines()
        XCTAssertTrue(lines.contains { $0.hasPrefix("relative_position_index: 1 of 256 entries differ from the 4x4 window geometry in 1 block (levels.2.blocks.1.attn), 1 of them outside the bias table") }, "\(lines)")
    }

    /// A buffer with a shape no module of this input has is not read (not even checked, like the
    /// official loader skips it): the geometry is used.
    func testBuffersOfAnotherShapeAreIgnored() throws {
        let f = try StoredBufferParityTests.load("nonsquare")
        var tensors = WeightMapping.modelTensors(f.stateDict.tensors, buffers: .stored)
        for k in Array(tensors.keys) where k.hasSuffix("relative_position_index") {
            tensors[k] = Tensor(shape: [9, 9], data: [Float](repeating: 1e6, count: 81))
        }
        for k in Array(tensors.keys) where k.hasSuffix("relative_coords_table") {
            tensors[k] = Tensor(shape: [1, 3, 5, 2], data: [Float](repeating: .nan, count: 30))
        }
        let model = try FasterViT(config: f.config, weights: DictionaryWeightSource(tensors))
        let logits = try model.forward(try XCTUnwrap(f.expected["input"]))
        let want = try XCTUnwrap(f.expected["logits"])
        XCTAssertLessThanOrEqual(ParityTests.maxAbsDiff(logits.data, want.data) / (want.data.map(abs).max() ?? 1), 1e-5)
    }

    func testModelTensorsKeepLearnedTensorsAndTheForwardBuffersOnRequest() {
        let all = ["a.weight", "b.relative_coords_table", "b.relative_position_index", "b.relative_bias", "n.num_batches_tracked"]
        let d = Dictionary(uniqueKeysWithValues: all.map { ($0, Tensor(zeros: [1])) })
        XCTAssertEqual(Set(WeightMapping.modelTensors(d, buffers: .stored).keys),
                       ["a.weight", "b.relative_coords_table", "b.relative_position_index"])
        XCTAssertEqual(Set(WeightMapping.modelTensors(d, buffers: .geometry).keys), ["a.weight"])
    }

    // MARK: the report

    func audit(_ name: String, resolution: [Int]? = nil, choice: BufferChoice = .stored) throws -> (BufferAudit, LoadedStateDict) {
        let f = try StoredBufferParityTests.load(name)
        return (BufferAudit(config: f.config, tensors: f.stateDict.tensors, resolution: resolution ?? f.config.resolution,
                            choice: choice), f.stateDict)
    }

    func testReportNamesTheEMATruncatedIndex() throws {
        let (a, _) = try audit("ema")
        let index = a.entries.filter { $0.kind == .index }
        XCTAssertEqual(index.map(\.differing), [76, 76, 76])
        XCTAssertEqual(index.map(\.entries), [256, 256, 256])
        XCTAssertTrue(index.allSatisfy(\.oneBelow))
        let lines = a.lines()
        XCTAssertTrue(lines.contains { $0.hasPrefix("relative_position_index: 76 of 256 entries differ from the 4x4 window geometry in 2 blocks (levels.2.blocks.0.attn, levels.3.blocks.0.attn), each one below it (typical of an EMA that blended integer buffers") }, "\(lines)")
        XCTAssertTrue(lines.contains { $0.hasPrefix("relative_position_index: 76 of 256 entries differ from the 4x4 carrier grid geometry in 1 block (levels.2.blocks.0.hat_attn)") }, "\(lines)")
        // The EMA blended the caches of training forwards into stale values.
        XCTAssertTrue(lines.contains { $0.hasPrefix("  attn: 512 of 800 values differ from what its MLP gives") }, "\(lines)")
        XCTAssertTrue(a.forwardBuffersDiffer)
        XCTAssertTrue(a.summary().contains("they differ from the geometry: relative_position_index in 3 modules (up to 76 entries, one below: EMA-truncated)"), a.summary())
        XCTAssertTrue(a.summary().contains("--buffers geometry recomputes them"), a.summary())
        let (g, _) = try audit("ema", choice: .geometry)
        XCTAssertTrue(g.summary().hasPrefix("buffers: recomputed from the geometry (--buffers geometry); the checkpoint's differ: relative_position_index in 3 modules"), g.summary())
    }

    func testReportNamesHalfPrecisionTables() throws {
        let (a, sd) = try audit("bf16")
        let lines = a.lines(storedTypes: sd.storedTypes.mapValues(\.rawValue))
        XCTAssertTrue(lines.contains { $0.hasPrefix("relative_coords_table: 84 of 98 values differ from the 4x4 window geometry in 3 blocks")
            && $0.hasSuffix("(stored as bfloat16)") }, "\(lines)")
        XCTAssertTrue(lines.contains("5 of 10 stored relative_coords_table / relative_position_index buffers equal the geometry"), "\(lines)")
        XCTAssertFalse(a.entries.contains { $0.kind == .index && $0.differing > 0 })
    }

    func testReportOnFreshBuffersAndOnAnotherResolution() throws {
        let (fresh, _) = try audit("nonsquare")
        XCTAssertFalse(fresh.forwardBuffersDiffer)
        XCTAssertEqual(fresh.summary(), "buffers: the checkpoint's, equal to the geometry")
        XCTAssertTrue(fresh.lines().contains("  12 of 12 equal what the position MLPs give"), "\(fresh.lines())")

        let (other, _) = try audit("perturbed", resolution: [160, 160])
        let lines = other.lines()
        XCTAssertTrue(lines.contains("relative_position_index in 2 blocks (levels.2.blocks.0.hat_attn, levels.2.blocks.1.hat_attn) is shaped for a 4x4 grid, this input needs 6x6: recomputed from the geometry, as the official any-res loader (strict=False) skips it"), "\(lines)")
        XCTAssertTrue(lines.contains("relative_bias in 2 blocks (levels.2.blocks.0.hat_attn, levels.2.blocks.1.hat_attn) has shape [1, 2, 16, 16], this input needs [1, 2, 36, 36]: never read"), "\(lines)")
    }

    func testReportWithoutStoredBuffers() {
        let config = ModelConfig.presets[0]
        let a = BufferAudit(config: config, tensors: [:], resolution: config.resolution, choice: .stored)
        XCTAssertEqual(a.lines(), ["no relative_coords_table / relative_position_index stored: computed from the geometry"])
        XCTAssertEqual(a.summary(), "buffers: none stored for this input, computed from the geometry")
    }
}
