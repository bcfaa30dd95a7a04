// Interventions against the official model (fixtures from tools/gen_intervention_fixtures.py: the
// official modules run with hooks that apply each image's interventions inside one batch), and the
// value types' parser and validation. Tolerances: logits max|diff| <= 1e-5 * max|logit|, every
// attention probability max|diff| <= 1e-5.
import Foundation
import HatCheckpoint
import HatCore
@testable import HatModel
import XCTest

final class InterventionTests: XCTestCase {
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
                    return .occludePixels(PixelMask(height: h, width: w, bits: m.data.map { $0 != 0 }, label: pair[1]))
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
        // Occlusion shows in the recorded input; the other images' inputs are untouched.
        for (i, list) in perImage.enumerated() {
            let fed = recordings[i].input, given = Self.slice(input, image: i, images: n)
            let occludes = list.contains { if case .occludePixels = $0 { return true }; if case .occludeTokens = $0 { return true }; return false }
            XCTAssertEqual(fed == given, !occludes, "\(name): image \(i) input", file: file, line: line)
        }
        print("interventions \(name): \(n) images, logits max|diff|/max|logit| = \(worstLogit), worst attention prob diff = \(worstProb)")
    }

    func testFixed224() throws { try check("iv_fixed224") }
    func testSquarePropagationBothStages() throws { try check("iv_square_prop") }
    func testNonSquareAnyRes() throws { try check("iv_nonsquare") }

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
                let row = Array(win.probs[win.rowOffset(g, h, q)..<(win.rowOffset(g, h, q) + win.keys)])
                if q >= lead { XCTAssertEqual(Array(row[0..<lead]), Array(repeating: 0, count: lead)) }
                XCTAssertEqual(row.reduce(0, +), 1, accuracy: 1e-5)
            } } }
        }
    }

    // MARK: - Parser and validation

    func testParserReadsTheCLISpellingAndRoundTrips() throws {
        let cases: [(String, String, Intervention)] = [
            ("ablate-head", "levels.2.blocks.0.attn:3", .ablateHead(level: 2, block: 0, module: .attn, head: 3)),
            ("ablate-head", "levels.3.blocks.11.hat_attn:0", .ablateHead(level: 3, block: 11, module: .hatAttn, head: 0)),
            ("cut-carriers", "levels.2", .cutCarriers(level: 2, block: nil)),
            ("cut-carriers", "levels.2.blocks.4", .cutCarriers(level: 2, block: 4)),
            ("cut-global", "levels.3", .cutGlobal(level: 3, block: nil)),
            ("cut-global", "levels.2.blocks.0", .cutGlobal(level: 2, block: 0)),
            ("no-propagation", "levels.2", .noPropagation(level: 2)),
            ("occlude-box", "3:0-6,7-13", .occludeTokens(TokenBox(stage: 3, rows: 0...6, cols: 7...13))),
        ]
        for (option, value, want) in cases {
            let got = try Intervention.parse(option: option, value: value)
            XCTAssertEqual(got, want, "\(option) \(value)")
            XCTAssertEqual(got.description, "--\(option) \(value)")
            XCTAssertEqual(try Intervention.parse(option: got.option, value: got.argument), got)
            // Codable for manifests and recordings' metadata.
            XCTAssertEqual(try JSONDecoder().decode(Intervention.self, from: JSONEncoder().encode(got)), got)
        }
        XCTAssertEqual(try Intervention.parse(option: "occlude-box", value: "1:5,2-3"),
                       .occludeTokens(TokenBox(stage: 1, rows: 5...5, cols: 2...3)))
        let bad: [(String, String)] = [
            ("ablate-head", "levels.2.blocks.0.attn"), ("ablate-head", "levels.2.blocks.0.mlp:1"),
            ("ablate-head", "levels.2.attn:1"), ("ablate-head", "levels.x.blocks.0.attn:1"),
            ("cut-carriers", "levels.2.block.1"), ("cut-carriers", "2"), ("cut-global", "levels.2.blocks"),
            ("no-propagation", "levels.2.blocks.1"), ("occlude-box", "3:6-0,1-2"), ("occlude-box", "3:0-6"),
            ("occlude-box", "three:0-1,0-1"), ("occlude-box", "3:-1-2,0-1"), ("fade", "levels.2"),
        ]
        for (option, value) in bad {
            XCTAssertThrowsError(try Intervention.parse(option: option, value: value), "\(option) \(value)") { error in
                guard case let .syntax(message)? = error as? InterventionError else { return XCTFail("\(error)") }
                XCTAssertFalse(message.contains("\n"), message)
                XCTAssertTrue(message.contains("--\(option)"), message)
            }
        }
    }

    /// Each refusal is one line naming the intervention and the reason.
    func testValidationRefusesWhatDoesNotApply() throws {
        let fv0 = try XCTUnwrap(ModelConfig.preset(named: "faster_vit_0_224"))      // no propagation
        let fv3 = try XCTUnwrap(ModelConfig.preset(named: "faster_vit_3_224"))      // propagation
        let k21 = try XCTUnwrap(ModelConfig.preset(named: "faster_vit_4_21k_224"))  // no carriers anywhere
        func refuses(_ i: Intervention, _ c: ModelConfig, _ why: String, size h: Int = 224, _ w: Int = 224,
                     file: StaticString = #filePath, line: UInt = #line) {
            XCTAssertThrowsError(try i.validate(config: c, height: h, width: w), file: file, line: line) { error in
                guard case let .notApplicable(m)? = error as? InterventionError else { return XCTFail("\(error)", file: file, line: line) }
                XCTAssertTrue(m.hasPrefix(i.description + ": "), m, file: file, line: line)
                XCTAssertTrue(m.contains(why), m, file: file, line: line)
                XCTAssertFalse(m.contains("\n"), file: file, line: line)
            }
        }
        refuses(.noPropagation(level: 2), fv0, "does not propagate")
        refuses(.noPropagation(level: 3), fv3, "no carrier tokens")
        refuses(.cutCarriers(level: 3, block: nil), fv0, "hierarchical attention (hat) is off")
        var hat4 = fv0
        hat4.hat[3] = true
        refuses(.cutCarriers(level: 3, block: nil), hat4, "at 224x224 the stage is a single 7x7 window")
        refuses(.cutGlobal(level: 2, block: nil), k21, "hierarchical attention (hat) is off")
        refuses(.ablateHead(level: 3, block: 0, module: .hatAttn, head: 0), fv0, "no hat_attn")
        refuses(.ablateHead(level: 2, block: 0, module: .attn, head: 8), fv0, "heads 0-7")
        refuses(.ablateHead(level: 2, block: 6, module: .attn, head: 0), fv0, "blocks 0-5")
        refuses(.cutGlobal(level: 2, block: 6), fv0, "blocks 0-5")
        refuses(.ablateHead(level: 1, block: 0, module: .attn, head: 0), fv0, "convolutional stage")
        refuses(.cutCarriers(level: 4, block: nil), fv0, "no levels.4")
        refuses(.occludeTokens(TokenBox(stage: 3, rows: 0...14, cols: 0...1)), fv0, "14x14 tokens")
        refuses(.occludeTokens(TokenBox(stage: 5, rows: 0...0, cols: 0...0)), fv0, "no stage 5")
        refuses(.occludePixels(PixelMask(height: 2, width: 2, bits: [true, false, false, true])), fv0, "the mask is 2x2")
        // At 448 x 448 level 3 has 2x2 windows: carriers there, and faster_vit_0's hat is off in level 3.
        refuses(.cutGlobal(level: 3, block: nil), fv0, "hierarchical attention (hat) is off", size: 448, 448)
        // And what applies passes.
        XCTAssertNoThrow(try Intervention.cutGlobal(level: 2, block: 5).validate(config: fv0, height: 224, width: 224))
        XCTAssertNoThrow(try Intervention.noPropagation(level: 2).validate(config: fv3, height: 224, width: 224))
        XCTAssertNoThrow(try Intervention.occludeTokens(TokenBox(stage: 1, rows: 0...55, cols: 3...3)).validate(config: fv0, height: 224, width: 224))
        // The engine refuses them the same way before running anything.
        let c = try ParityTests.load("k21_style")
        let model = try FasterViT(config: c.config, weights: DictionaryWeightSource(c.weights))
        XCTAssertThrowsError(try model.forward(try XCTUnwrap(c.expected["input"]), interventions: [.cutCarriers(level: 2, block: nil)])) {
            guard case .notApplicable? = $0 as? InterventionError else { return XCTFail("\($0)") }
        }
    }

    /// --occlude MASK.png: white (every channel >= 128) pixels, resized nearest-neighbour.
    func testMaskImageResizedNearestNeighbour() {
        // 2 x 3 mask: white, grey (127: not white), white / black, white, yellow (blue 0: not white).
        let rgb: [UInt8] = [255, 255, 255, 127, 200, 200, 128, 128, 128,
                            0, 0, 0, 255, 255, 255, 255, 255, 0]
        let m = PixelMask(whiteOf: rgb, width: 3, height: 2, resizedTo: 4, 6, label: "m.png")
        XCTAssertEqual(m.label, "m.png")
        let rows = (0..<4).map { r in (0..<6).map { m.bits[r * 6 + $0] ? "#" : "." }.joined() }
        XCTAssertEqual(rows, ["##..##", "##..##", "..##..", "..##.."])
        XCTAssertEqual(m.count, 12)
        // Shrinking picks floor(i * src / dst): 3 -> 2 columns read source columns 0 and 1.
        let small = PixelMask(whiteOf: rgb, width: 3, height: 2, resizedTo: 2, 2, label: "m")
        XCTAssertEqual(small.bits, [true, false, false, true])
    }

    func testTokenBoxCoversItsPixels() {
        let box = TokenBox(stage: 3, rows: 1...2, cols: 13...13)
        let (rows, cols) = Intervention.pixelSpan(of: box, height: 224, width: 224)
        XCTAssertEqual(rows, 16..<48)
        XCTAssertEqual(cols, 208..<224)
        // Stage 1 tokens are 4 pixels; a box is clipped to the input.
        XCTAssertEqual(Intervention.pixelSpan(of: TokenBox(stage: 1, rows: 0...0, cols: 55...60), height: 224, width: 224).cols, 220..<224)
    }
}
