// Interventions in the engine against the official model (fixtures from
// tools/gen_intervention_fixtures.py: the official modules run with hooks that apply each image's
// interventions inside one batch). Tolerances: logits max|diff| <= 1e-5 * max|logit|, every
// attention probability max|diff| <= 1e-5. The value types' parser and validation:
// HatRecordingTests/InterventionTests.
import Foundation
import HatCheckpoint
import HatCore
@testable import HatModel
import HatRecording
import XCTest

final class InterventionTests: XCTestCase {
    override class func setUp() {
        super.setUp()
        EngineOptions.standard.apply()
    }

    /// The fixture's per-image lists, read through the CLI parser (masks from their tensors).
    static func lists(_ c: ParityTests.Case, metadata: [String: String]) throws -> [[Intervention]] {
        let json = try XCTUnwrap(metadata["interventions"]).data(using: .utf8)!
        let raw = try JSONDecoder().decode([[[String]]].self, from: json)
        let h = c.config.resolution[0], w = c.config.resolution[1]
        return try raw.map { items in
            try items.map { pair in
                if pair[0] == "occlude" {
                    let m = try XCTUnwrap(c.expected[pair[1]])
                    XCTAssertEqual(m.shape, [h, w])
                    let mask = PixelMask(height: h, width: w, bits: m.data.map { $0 != 0 }, label: pair[1])
                    // A mask made from an image: the --occlude rule (white where every channel
                    // >= 128, nearest-neighbour resize) gives the mask PyTorch's interpolate gave.
                    let source = "mask_image." + pair[1].dropFirst("mask.".count)
                    if let image = c.expected[source] {
                        let resized = PixelMask(whiteOf: image.data.map { UInt8($0) }, width: image.shape[1], height: image.shape[0],
                                                resizedTo: h, w, label: pair[1])
                        XCTAssertEqual(resized.bits, mask.bits, "\(source) resized as --occlude does")
                        XCTAssertGreaterThan(mask.count, 0)
                    }
                    return .occludePixels(mask)
                }
                let item = try Intervention.parse(option: pair[0], value: pair[1])
                XCTAssertEqual(item.option, pair[0])
                XCTAssertEqual(item.argument, pair[1], "the CLI spelling round-trips")
                return item
            }
        }
    }

    /// Image i's part of a batch map stored [images * groups, heads, q, k].
    static func slice(_ t: Tensor, image: Int, images: Int) -> [Float] {
        let per = t.count / images
        return Array(t.data[(image * per)..<((image + 1) * per)])
    }

    /// Every recorded map of one image by official name.
    static func maps(_ r: Recording) -> [String: AttentionMaps] {
        var out: [String: AttentionMaps] = [:]
        for stage in r.stages {
            for (j, b) in stage.blocks.enumerated() {
                if let m = b.window { out["levels.\(stage.level).blocks.\(j).attn.probs"] = m }
                if let m = b.carrier { out["levels.\(stage.level).blocks.\(j).hat_attn.probs"] = m }
            }
        }
        return out
    }

    func check(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let exp = try SafeTensors.readFile(path: ParityTests.fixturePath("\(name).expected.safetensors"))
        let c = try ParityTests.load(name)
        let perImage = try Self.lists(c, metadata: exp.metadata)
        let model = try FasterViT(config: c.config, weights: DictionaryWeightSource(c.weights))
        let input = try XCTUnwrap(c.expected["input"])
        let n = input.shape[0]
        XCTAssertEqual(perImage.count, n)
        XCTAssertTrue(perImage[0].isEmpty, "image 0 is the plain batch parity case")
        let want = try XCTUnwrap(c.expected["logits"])
        let scale = want.data.map(abs).max() ?? 1
        let probKeys = c.expected.keys.filter { $0.hasSuffix(".probs") }

        // The whole batch, one list per image.
        let recorder = AttentionRecorder()
        let logits = try model.forward(input, recorder: recorder, perImage: perImage)
        XCTAssertEqual(logits.shape, want.shape)
        var worstLogit = ParityTests.maxAbsDiff(logits.data, want.data) / scale
        var worstProb: Float = 0
        let recordings = try recorder.recordings()
        for (i, rec) in recordings.enumerated() {
            let got = Self.maps(rec)
            XCTAssertEqual(Set(got.keys), Set(probKeys), "\(name): recorded modules", file: file, line: line)
            for k in probKeys {
                guard let m = got[k], let e = c.expected[k] else { continue }
                let d = ParityTests.maxAbsDiff(m.probs, Self.slice(e, image: i, images: n))
                XCTAssertLessThanOrEqual(d, 1e-5, "\(name): image \(i) (\(perImage[i])) \(k)", file: file, line: line)
                worstProb = max(worstProb, d)
            }
        }
        XCTAssertLessThanOrEqual(worstLogit, 1e-5, "\(name): batch logits", file: file, line: line)

        // Each image alone with its own list: the official result too.
        for i in 0..<n {
            let alone = try model.forward(BatchTests.image(input, i), interventions: perImage[i])
            let d = ParityTests.maxAbsDiff(alone.data, Array(want.data[(i * want.shape[1])..<((i + 1) * want.shape[1])])) / scale
            XCTAssertLessThanOrEqual(d, 1e-5, "\(name): image \(i) alone (\(perImage[i]))", file: file, line: line)
            worstLogit = max(worstLogit, d)
        }
        // Each recording names its interventions; occlusion shows in the recorded input and the
        // other images' inputs are untouched.
        for (i, list) in perImage.enumerated() {
            XCTAssertEqual(recordings[i].provenance.interventions, list.map(\.description), "\(name): image \(i)", file: file, line: line)
            let fed = recordings[i].input, given = Self.slice(input, image: i, images: n)
            let occludes = list.contains { if case .occludePixels = $0 { return true }; if case .occludeTokens = $0 { return true }; return false }
            XCTAssertEqual(fed == given, !occludes, "\(name): image \(i) input", file: file, line: line)
        }
        print("interventions \(name): \(n) images, logits max|diff|/max|logit| = \(worstLogit), worst attention prob diff = \(worstProb)")
    }

    func testFixed224() throws { try check("iv_fixed224") }
    func testSquarePropagationBothStages() throws { try check("iv_square_prop") }
    func testNonSquareAnyRes() throws { try check("iv_nonsquare") }
    /// ct_size 1 with padding in both stages, and a mask resized from a 37 x 53 image.
    func testPaddedStagesWithOneCarrierPerWindow() throws { try check("iv_pad_ct1") }

    /// With no intervention the engine runs exactly its plain path; an intervention on one image
    /// of a batch leaves the others exactly as without it.
    func testNoInterventionIsThePlainForward() throws {
        let c = try ParityTests.load("iv_nonsquare")
        let model = try FasterViT(config: c.config, weights: DictionaryWeightSource(c.weights))
        let input = try XCTUnwrap(c.expected["input"])
        let plain = try model.forward(input)
        XCTAssertEqual(try model.forward(input, interventions: []).data, plain.data)
        XCTAssertEqual(try model.forward(input, perImage: Array(repeating: [], count: input.shape[0])).data, plain.data)
        var lists: [[Intervention]] = Array(repeating: [], count: input.shape[0])
        lists[2] = [.cutGlobal(level: 2, block: nil)]
        let one = try model.forward(input, perImage: lists)
        let k = c.config.numClasses
        for i in 0..<input.shape[0] where i != 2 {
            XCTAssertEqual(Array(one.data[(i * k)..<((i + 1) * k)]), Array(plain.data[(i * k)..<((i + 1) * k)]), "image \(i)")
        }
        XCTAssertNotEqual(Array(one.data[(2 * k)..<(3 * k)]), Array(plain.data[(2 * k)..<(3 * k)]))
        XCTAssertThrowsError(try model.forward(input, perImage: [[], []])) {
            XCTAssertEqual($0 as? InterventionError, .batchMismatch(images: input.shape[0], lists: 2))
        }
    }

    func testCutsAreExactInTheRecording() throws {
        let c = try ParityTests.load("iv_square_prop")
        let model = try FasterViT(config: c.config, weights: DictionaryWeightSource(c.weights))
        let x = BatchTests.image(try XCTUnwrap(c.expected["input"]), 0)
        let recorder = AttentionRecorder()
        _ = try model.forward(x, recorder: recorder, interventions: [.cutGlobal(level: 2, block: 1), .cutCarriers(level: 3, block: nil)])
        let rec = try recorder.recording()
        let carrier = try XCTUnwrap(rec.stages[0].blocks[1].carrier)
        for h in 0..<carrier.heads { for q in 0..<carrier.queries { for k in 0..<carrier.keys {
            XCTAssertEqual(carrier.at(0, h, q, k), q == k ? 1 : 0)
        } } }
        XCTAssertNotEqual(try XCTUnwrap(rec.stages[0].blocks[0].carrier).at(0, 0, 0, 1), 0, "block 0 untouched")
        for b in rec.stages[1].blocks {
            let win = try XCTUnwrap(b.window)
            let lead = rec.stages[1].carriersPerWindow
            for g in 0..<win.groups { for h in 0..<win.heads { for q in 0..<win.queries {
                let row = win.row(g, h, q)
                if q >= lead { XCTAssertEqual(Array(row[0..<lead]), Array(repeating: 0, count: lead)) }
                XCTAssertEqual(row.reduce(0, +), 1, accuracy: 1e-5)
            } } }
        }
    }

    /// The engine refuses an intervention that does not apply before running anything.
    func testEngineRefusesWhatDoesNotApply() throws {
        let c = try ParityTests.load("k21_style")
        let model = try FasterViT(config: c.config, weights: DictionaryWeightSource(c.weights))
        XCTAssertThrowsError(try model.forward(try XCTUnwrap(c.expected["input"]), interventions: [.cutCarriers(level: 2, block: nil)])) {
            guard case let .notApplicable(m)? = $0 as? InterventionError else { return XCTFail("\($0)") }
            XCTAssertTrue(m.hasPrefix("--cut-carriers levels.2: levels.2 has no carrier tokens"), m)
        }
    }
}
