// Interventions as options of record, predict, export, explore and tour: applied as the engine
// defines them, named in the recording's provenance, the manifest, the figure titles and predict's
// output in their option spelling, refused in one line when they do not apply or beside
// --recording.
import Foundation
import XCTest
import HatRecording
import HatRecordingFile

final class InterventionsCLITests: XCTestCase {
    var dir: String!
    override func setUpWithError() throws { dir = try makeTemporaryFolder("hatscope-interventions") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    /// demo_00: different colours (a yellow triangle in window 3, a green hexagon in window 0).
    let image = DemoTests.assets.appendingPathComponent("demo/images/demo_00.png").path

    struct Predicted: Decodable {
        struct Entry: Decodable { let index: Int; let name: String; let probability: Double }
        struct Image: Decodable { let logits: [Float]; let top: [Entry] }
        let interventions: [String]
        let results: [Image]
    }

    func predict(_ extra: [String], image: String? = nil) throws -> Predicted {
        let r = try runHatscope(["predict", "--json", "--image", image ?? self.image] + extra)
        XCTAssertEqual(r.code, 0, r.err)
        return try JSONDecoder().decode(Predicted.self, from: Data(r.out.utf8))
    }

    func testRecordStoresTheInterventionsAndRunsWithThem() throws {
        let plainPath = dir + "/plain.safetensors", cutPath = dir + "/cut.safetensors"
        XCTAssertEqual(try runHatscope(["record", "--input", image, "--out", plainPath]).code, 0)
        let r = try runHatscope(["record", "--input", image, "--out", cutPath, "--cut-global", "levels.2",
                                 "--occlude-box", "3:0-1,0-1"])
        XCTAssertEqual(r.code, 0, r.err)
        let plain = try RecordingReader.read(path: plainPath), cut = try RecordingReader.read(path: cutPath)
        XCTAssertEqual(plain.provenance.interventions, [])
        XCTAssertEqual(cut.provenance.interventions, ["--occlude-box 3:0-1,0-1", "--cut-global levels.2"])
        // Carrier attention is the identity in every block; the stored input is the occluded one.
        let stage = try XCTUnwrap(cut.stages.first { $0.level == 2 })
        for block in stage.blocks {
            let maps = try XCTUnwrap(block.carrier)
            for h in 0 ..< maps.heads {
                for q in 0 ..< maps.queries { for k in 0 ..< maps.keys { XCTAssertEqual(maps.at(0, h, q, k), q == k ? 1 : 0, accuracy: 1e-6) } }
            }
        }
        let side = cut.inputWidth, plane = side * cut.inputHeight
        for c in 0 ..< 3 {
            for y in 0 ..< 32 { for x in 0 ..< 32 { XCTAssertEqual(cut.input[c * plane + y * side + x], 0) } }
            XCTAssertEqual(cut.input[c * plane + 40 * side + 40], plain.input[c * plane + 40 * side + 40])
        }
        // predict with the same options gives the recorded logits.
        let p = try predict(["--cut-global", "levels.2", "--occlude-box", "3:0-1,0-1"])
        for (a, b) in zip(p.results[0].logits, cut.logits) { XCTAssertEqual(a, b, accuracy: 1e-6) }
    }

    func testPredictNamesTheInterventionsAndTheyChangeTheDemoAnswer() throws {
        let plain = try predict([])
        XCTAssertEqual(plain.interventions, [])
        XCTAssertEqual(plain.results[0].top[0].name, "different colours")
        // Carriers that attend only to themselves: the demo answers "same colour" (for every
        // held-out image: the windows no longer compare colours).
        let cut = try predict(["--cut-global", "levels.2"])
        XCTAssertEqual(cut.interventions, ["--cut-global levels.2"])
        XCTAssertEqual(cut.results[0].top[0].name, "same colour")
        XCTAssertGreaterThan(cut.results[0].top[0].probability, 0.9)
        // Covering one marked shape: two shapes cannot be seen to share a colour when one is not
        // seen, so "different colours" stays here, and on a same-colour image "same colour" loses.
        let covered = try predict(["--occlude-box", "3:7-13,7-13"])
        XCTAssertEqual(covered.results[0].top[0].name, "different colours")
        let same = DemoTests.assets.appendingPathComponent("demo/images/demo_05.png").path
        let samePlain = try predict([], image: same)
        XCTAssertEqual(samePlain.results[0].top[0].name, "same colour")
        // The square's whole window (1), as the explorer's window brush covers it, and the box of
        // tokens under its ring only.
        let window = try predict(["--occlude-box", "3:0-6,7-13"], image: same)
        XCTAssertEqual(window.results[0].top[0].name, "different colours")
        let ring = try predict(["--occlude-box", "3:1-4,8-12"], image: same)
        XCTAssertEqual(ring.results[0].top[0].name, "different colours")
        XCTAssertGreaterThan(ring.results[0].top[0].probability, 0.9)
        // Covering a window that holds neither shape (0) leaves the answer alone.
        let empty = try predict(["--occlude-box", "3:0-6,0-6"], image: same)
        XCTAssertEqual(empty.results[0].top[0].name, "same colour")
        XCTAssertGreaterThan(empty.results[0].top[0].probability, 0.9)
        let text = try runHatscope(["predict", "--image", image, "--ablate-head", "levels.2.blocks.0.attn:1"])
        XCTAssertTrue(text.out.contains("interventions: --ablate-head levels.2.blocks.0.attn:1"), text.out)
    }

    func testExportNamesThemInTheManifestAndEveryTitle() throws {
        let out = dir + "/figs"
        let r = try runHatscope(["export", "--image", image, "--out", out, "--view", "carrier", "--block", "1",
                                 "--cut-global", "levels.2"])
        XCTAssertEqual(r.code, 0, r.err)
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/manifest.json"))) as? [String: Any]
        XCTAssertEqual(manifest?["interventions"] as? [String], ["--cut-global levels.2"])
        let figures = try XCTUnwrap(manifest?["figures"] as? [[String: Any]])
        XCTAssertFalse(figures.isEmpty)
        for f in figures { XCTAssertTrue((f["title"] as? String)?.hasSuffix("| with --cut-global levels.2") == true, "\(f)") }
        // From a recording made with them: the recording's own, and the same figure bytes.
        let rec = dir + "/cut.safetensors"
        XCTAssertEqual(try runHatscope(["record", "--input", image, "--out", rec, "--cut-global", "levels.2"]).code, 0)
        let again = dir + "/again"
        XCTAssertEqual(try runHatscope(["export", "--recording", rec, "--out", again, "--view", "carrier", "--block", "1"]).code, 0)
        let m2 = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: again + "/manifest.json"))) as? [String: Any]
        XCTAssertEqual(m2?["interventions"] as? [String], ["--cut-global levels.2"])
        let name = try XCTUnwrap(figures.first?["file"] as? String)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out + "/" + name)),
                       try Data(contentsOf: URL(fileURLWithPath: again + "/" + name)))
        // A plain export says it had none.
        let plainOut = dir + "/plain"
        XCTAssertEqual(try runHatscope(["export", "--image", image, "--out", plainOut, "--view", "local"]).code, 0)
        let m3 = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: plainOut + "/manifest.json"))) as? [String: Any]
        XCTAssertEqual(m3?["interventions"] as? [String], [])
    }

    /// A mask with no white pixel (a 0/1 mask saved as an image looks black) occludes nothing: it
    /// is refused in one line, not run as the plain forward under an `--occlude` label. A mask of
    /// another size is resized to the input: an all-white 37 x 53 one occludes every pixel.
    func testAMaskThatOccludesNothingIsRefusedAndAnOddSizedOneIsResized() throws {
        let black = dir + "/black.png", white = dir + "/white.png", zeros = dir + "/zeros.npy", out = dir + "/r.safetensors"
        try makePNG(width: 37, height: 53, rgb: (1, 1, 1)).write(to: URL(fileURLWithPath: black))
        try makePNG(width: 37, height: 53, rgb: (255, 255, 255)).write(to: URL(fileURLWithPath: white))
        assertOneLineFailure(try runHatscope(["predict", "--image", image, "--occlude", black]),
                             mentions: ["--occlude", "black.png", "no white pixel"], "predict, black mask")
        assertOneLineFailure(try runHatscope(["record", "--input", image, "--out", out, "--occlude", white, "--occlude", black]),
                             mentions: ["black.png", "no white pixel"], "record, black mask")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        let covered = try predict(["--occlude", white])
        XCTAssertEqual(covered.interventions, ["--occlude " + white])
        try writeNPY(zeros, shape: [1, 3, 224, 224], value: 0)
        let r = try runHatscope(["predict", "--json", "--input", zeros])
        XCTAssertEqual(r.code, 0, r.err)
        let mean = try JSONDecoder().decode(Predicted.self, from: Data(r.out.utf8))
        XCTAssertEqual(covered.results[0].logits, mean.results[0].logits, "every pixel at the mean colour")
        // "-" means standard input for --image; a mask is a file, and the message says so rather
        // than calling "-" a bad image.
        assertOneLineFailure(try runHatscope(["predict", "--image", image, "--occlude", "-"]),
                             mentions: ["--occlude -", "a mask is read from a file, not standard input"], "mask from stdin")
    }

    func testOnesThatDoNotApplyAreOneLineBeforeAnythingRuns() throws {
        let rec = dir + "/r.safetensors"
        XCTAssertEqual(try runHatscope(["record", "--input", image, "--out", rec]).code, 0)
        let cases: [([String], [String])] = [
            (["predict", "--cut-global", "levels.3"], ["levels.3 has no carrier tokens", "no carrier attention to cut"]),
            (["record", "--out", dir + "/x.safetensors", "--ablate-head", "levels.2.blocks.7.attn:0"], ["levels.2 has blocks 0-2"]),
            (["export", "--out", dir + "/e", "--ablate-head", "levels.2.blocks.0.attn:9"], ["heads 0-3"]),
            (["predict", "--no-propagation", "levels.1"], ["convolutional stage"]),
            (["predict", "--occlude-box", "3:0-20,0-1"], ["14x14 tokens"]),
            (["predict", "--occlude-box", "3-0-1"], ["expected STAGE:R0-R1,C0-C1"]),
            (["predict", "--occlude", dir + "/missing.png"], ["--occlude", "missing.png"]),
            (["export", "--recording", rec, "--out", dir + "/f", "--cut-global", "levels.2"], ["leave out --cut-global"]),
            (["stats", "--recording", rec, "--out", dir + "/s"], []),
        ]
        for (args, words) in cases {
            let r = try runHatscope(args)
            if words.isEmpty { XCTAssertEqual(r.code, 0, "\(args): \(r.err)"); continue }
            assertOneLineFailure(r, mentions: words, args.joined(separator: " "))
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/x.safetensors"))
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/e"))
        }
        // explore and tour refuse them beside --recording before they need a terminal.
        for sub in ["explore", "tour"] {
            assertOneLineFailure(try runHatscope([sub, "--recording", rec, "--ablate-head", "levels.2.blocks.0.attn:0"]),
                                 mentions: ["leave out --ablate-head"], sub)
        }
    }
}
