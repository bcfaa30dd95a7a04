// ModelRun's batches on the embedded demo model: a batch's recordings are those of each image run
// alone (to float rounding), an input that cannot join the batch is left out with its reason
// while the others run, and copies with interventions equal the input with those pixels at 0.
import XCTest
import HatCore
import HatRecording
import HatSystem
@testable import HatPipeline

final class ModelRunBatchTests: XCTestCase {
    func demo() throws -> (ModelRun, [NetworkInput]) {
        let run = try ModelRun(try ModelLoader.load(ModelRequest()))
        let dir = (try DemoAssets.defaultImage as NSString).deletingLastPathComponent
        let inputs = try ["demo_00.png", "demo_05.png"].map { try NetworkInputReader.read(dir + "/" + $0, config: run.config) }
        return (run, inputs)
    }

    func testABatchRecordsEachImageAsAloneAndLeavesOutWhatCannotJoin() throws {
        let (run, inputs) = try demo()
        let odd = NetworkInput(path: "odd.npy", kind: .npy, tensor: Tensor(zeros: [1, 3, 256, 256]), preprocessed: nil)
        let results = run.record(batch: [inputs[0], odd, inputs[1]])
        XCTAssertEqual(results.count, 3)
        guard case let .failure(e) = results[1] else { return XCTFail("the 256 x 256 input cannot join a 224 x 224 batch") }
        XCTAssertTrue("\(e)".contains("odd.npy"), "\(e)")
        for (i, k) in [(0, 0), (2, 1)] {
            let batched = try results[i].get(), alone = try run.record(inputs[k])
            XCTAssertEqual(batched.logits.count, 2)
            for (a, b) in zip(batched.logits, alone.logits) { XCTAssertEqual(a, b, accuracy: 1e-5 * max(1, abs(b))) }
            let w1 = try XCTUnwrap(batched.stages[0].blocks[0].window), w2 = try XCTUnwrap(alone.stages[0].blocks[0].window)
            XCTAssertEqual(w1.count, w2.count)
            XCTAssertLessThan(zip(w1.probs, w2.probs).map { abs($0 - $1) }.max() ?? 1, 1e-5)
        }
    }

    func testCopiesWithInterventionsEqualTheOccludedInput() throws {
        let (run, inputs) = try demo()
        let x = inputs[1].tensor
        let mask = PixelMask(height: 224, width: 224, tokens: [0, 15, 100], cols: 14, stride: 16)
        let copies = try run.logits(copiesOf: x, interventions: [[], [.occludePixels(mask)], [.occludeTokens(TokenBox(stage: 3, rows: 0 ... 6, cols: 7 ... 13))]],
                                    batch: 2)
        var occluded = x
        for ch in 0 ..< 3 { for i in 0 ..< 224 * 224 where mask.bits[i] { occluded.data[ch * 224 * 224 + i] = 0 } }
        let alone = try run.net.forward(occluded).data
        for (a, b) in zip(copies[1], alone) { XCTAssertEqual(a, b, accuracy: 1e-5 * max(1, abs(b))) }
        let clean = try run.net.forward(x).data
        for (a, b) in zip(copies[0], clean) { XCTAssertEqual(a, b, accuracy: 1e-5 * max(1, abs(b))) }
        XCTAssertNotEqual(copies[2], copies[0], "the top-right window hidden changes the answer's logits")
        // The same call gives the same bits.
        XCTAssertEqual(try run.logits(copiesOf: x, interventions: [[], [.occludePixels(mask)], []], batch: 2)[1], copies[1])
    }
}
