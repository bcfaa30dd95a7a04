// The intervention value types: the CLI spelling (parse and back), Codable, the one-line refusals
// of what does not apply to a configuration and input size, mask images and token boxes.
import Foundation
import HatRecording
import XCTest

final class InterventionTests: XCTestCase {
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

    /// A range written largest first says so and how to write it, instead of the general form.
    func testABackwardsRangeIsNamed() {
        for (value, needle) in [("3:6-0,1-2", "rows 6-0 run backwards: write 0-6"),
                                ("3:0-1,9-4", "columns 9-4 run backwards: write 4-9")] {
            XCTAssertThrowsError(try Intervention.parse(option: "occlude-box", value: value)) { error in
                XCTAssertEqual(error as? InterventionError, .syntax("--occlude-box \(value): \(needle)"))
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
        let g = ModelGeometry(config: ModelConfig.preset(named: "faster_vit_0_224")!, inputHeight: 224, inputWidth: 224)
        let (rows, cols) = Intervention.pixelSpan(of: box, geometry: g)
        XCTAssertEqual(rows, 16..<48)
        XCTAssertEqual(cols, 208..<224)
        // Stage 1 tokens are 4 pixels, stage 4 tokens 32; a box is clipped to the input.
        XCTAssertEqual(Intervention.pixelSpan(of: TokenBox(stage: 1, rows: 0...0, cols: 55...60), geometry: g).cols, 220..<224)
        XCTAssertEqual(Intervention.pixelSpan(of: TokenBox(stage: 4, rows: 6...6, cols: 0...1), geometry: g).rows, 192..<224)
        XCTAssertEqual(Intervention.tokenGrid(stage: 2, geometry: g)?.rows, 28)
        XCTAssertNil(Intervention.tokenGrid(stage: 0, geometry: g))
    }
}
