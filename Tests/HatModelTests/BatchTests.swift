// Batch forward: a batch of N distinct images gives, image by image, the logits and recording of N
// single-image forwards, on every parity fixture (square, non-square any-res, padded, propagation,
// no carriers, carrier weights unused). The convolutional stages run image by image and agree
// bitwise; the transformer stages do not: OpenBLAS's sgemm rounds a row differently depending on
// where it sits in the product (its edge kernels sum in another order), and a batch stacks every
// image's rows into one product. Measured differences stay below 6e-7 (tolerance 1e-6: logits,
// energies and propagation terms relative to their largest magnitude, probabilities absolute).
// Parity of a batch with the official model at batch N: InterventionTests
// (tools/gen_intervention_fixtures.py).
import Foundation
import HatCheckpoint
import HatCore
@testable import HatModel
import XCTest

final class BatchTests: XCTestCase {
    override class func setUp() {
        super.setUp()
        EngineOptions.standard.apply()
    }

    /// `n` distinct images derived from the fixture input (mirrored, scaled, shifted), [n, 3, H, W].
    static func distinctBatch(_ x: Tensor, _ n: Int) -> Tensor {
        let h = x.shape[2], w = x.shape[3], plane = h * w
        var data: [Float] = []
        for i in 0..<n {
            for ch in 0..<3 {
                for r in 0..<h {
                    for c in 0..<w {
                        let v = x.data[ch * plane + r * w + (i % 2 == 1 ? w - 1 - c : c)]
                        data.append(v * (1 + 0.25 * Float(i)) + 0.1 * Float(i))
                    }
                }
            }
        }
        return Tensor(shape: [n, 3, h, w], data: data)
    }

    static func image(_ batch: Tensor, _ i: Int) -> Tensor {
        let per = batch.count / batch.shape[0]
        return Tensor(shape: [1] + batch.shape.dropFirst(), data: Array(batch.data[(i * per)..<((i + 1) * per)]))
    }

    func check(_ name: String, images n: Int = 3, file: StaticString = #filePath, line: UInt = #line) throws {
        let c = try ParityTests.load(name)
        let model = try FasterViT(config: c.config, weights: DictionaryWeightSource(c.weights))
        let batch = Self.distinctBatch(try XCTUnwrap(c.expected["input"]), n)
        let recorder = AttentionRecorder()
        let logits = try model.forward(batch, recorder: recorder)
        XCTAssertEqual(logits.shape, [n, c.config.numClasses], file: file, line: line)
        let recordings = try recorder.recordings()
        XCTAssertEqual(recordings.count, n, file: file, line: line)
        // Without the recorder: the same logits.
        XCTAssertEqual(try model.forward(batch).data, logits.data, "\(name): recorder changed the batch result", file: file, line: line)
        /// max |a - b| / max |b| (1 when b is all zeros).
        func relative(_ a: [Float], _ b: [Float]) -> Float {
            ParityTests.maxAbsDiff(a, b) / max(b.map(abs).max() ?? 1, .leastNormalMagnitude)
        }
        var worstLogit: Float = 0, worstProb: Float = 0, worstTerm: Float = 0
        for i in 0..<n {
            let single = AttentionRecorder()
            let one = try model.forward(Self.image(batch, i), recorder: single)
            let k = c.config.numClasses
            let alone = try single.recording(), got = recordings[i]
            worstLogit = max(worstLogit, relative(Array(logits.data[(i * k)..<((i + 1) * k)]), one.data))
            XCTAssertEqual(got.logits, Array(logits.data[(i * k)..<((i + 1) * k)]), file: file, line: line)
            XCTAssertEqual(got.input, alone.input, "\(name): image \(i) input", file: file, line: line)
            XCTAssertEqual(got.notes, alone.notes, file: file, line: line)
            XCTAssertEqual(got.convStages.count, alone.convStages.count, file: file, line: line)
            for (a, b) in zip(got.convStages, alone.convStages) { worstTerm = max(worstTerm, relative(a.energy, b.energy)) }
            XCTAssertEqual(got.stages.count, alone.stages.count, file: file, line: line)
            for (a, b) in zip(got.stages, alone.stages) {
                XCTAssertEqual(a.blocks.count, b.blocks.count, file: file, line: line)
                XCTAssertEqual(a.propagation == nil, b.propagation == nil, file: file, line: line)
                if let p = a.propagation, let q = b.propagation { worstTerm = max(worstTerm, relative(p, q)) }
                for (x, y) in zip(a.blocks, b.blocks) {
                    for (m, e) in [(x.window, y.window), (x.carrier, y.carrier)] {
                        XCTAssertEqual(m == nil, e == nil, file: file, line: line)
                        guard let m, let e else { continue }
                        XCTAssertEqual([m.groups, m.heads, m.queries, m.keys], [e.groups, e.heads, e.queries, e.keys], file: file, line: line)
                        worstProb = max(worstProb, ParityTests.maxAbsDiff(m.probs, e.probs))
                    }
                }
            }
        }
        XCTAssertLessThanOrEqual(worstLogit, 1e-6, "\(name): logits", file: file, line: line)
        XCTAssertLessThanOrEqual(worstProb, 1e-6, "\(name): attention", file: file, line: line)
        XCTAssertLessThanOrEqual(worstTerm, 1e-6, "\(name): energies / propagation", file: file, line: line)
        print("batch \(name): \(n) images against single forwards: logits \(worstLogit) relative, probabilities \(worstProb), energies/propagation \(worstTerm) relative")
        XCTAssertNotEqual(recordings[0].logits, recordings[1].logits, "\(name): the images must differ", file: file, line: line)
    }

    func testFixed224() throws { try check("fixed224_ct2") }
    func testCarrierOnePropagation() throws { try check("ct1_ls_prop") }
    func testHatInLevel3() throws { try check("hat4_ls_noprop") }
    func testNoCarriers() throws { try check("k21_style") }
    func testNonSquareAnyRes() throws { try check("anyres_4x6", images: 4) }
    func testPadded() throws { try check("anyres_pad") }
    func testCarrierWeightsUnused() throws { try check("ct1_ls_prop_at64", images: 2) }

    func testBatchOfOneIsTheSingleForward() throws {
        let c = try ParityTests.load("anyres_4x6")
        let model = try FasterViT(config: c.config, weights: DictionaryWeightSource(c.weights))
        let x = try XCTUnwrap(c.expected["input"])
        XCTAssertEqual(try model.forward(x).data, try model.forward(x, perImage: [[]]).data)
        XCTAssertEqual(try model.forward(x).data, try model.forward(x, interventions: []).data)
    }
}
