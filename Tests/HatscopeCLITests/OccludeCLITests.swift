// `hatscope occlude` on the demo through the real binary: one copy per window patch, every value
// in occlusion.json/csv consistent, a copy's probability equal to predicting on the same input
// with those pixels set to 0 (so occlusion is exactly "the pixels at the mean colour"), a figure
// per class, and one-line refusals.
import Foundation
import XCTest
import HatCheckpoint
import HatCore

final class OccludeCLITests: XCTestCase {
    var dir = ""
    override func setUpWithError() throws { dir = try makeTemporaryFolder("hatocc") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func testWindowPatchesOnTheDemoMatchPredictingTheOccludedInput() throws {
        let r = try runHatscope(["occlude", "--out", dir + "/occ", "--patch", "windows", "--top", "2", "--batch", "3"])
        XCTAssertEqual(r.code, 0, r.err)
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: dir + "/occ")),
                       ["occlusion_class_0.png", "occlusion_class_1.png", "occlusion.json", "occlusion.csv"])
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/occ/occlusion.json"))) as? [String: Any])
        XCTAssertEqual(json["tokenGrid"] as? [Int], [14, 14])
        XCTAssertEqual((json["positions"] as? [[String: Any]])?.map { $0["pixels"] as? [Int] ?? [] },
                       [[0, 0, 112, 112], [112, 0, 224, 112], [0, 112, 112, 224], [112, 112, 224, 224]])
        let classes = try XCTUnwrap(json["classes"] as? [[String: Any]])
        XCTAssertEqual(classes.map { $0["index"] as? Int }, [1, 0], "the two classes, most probable first")
        let first = classes[0]
        let clean = try XCTUnwrap(first["cleanProbability"] as? Double)
        let probs = try XCTUnwrap(first["probabilities"] as? [Double])
        let drops = try XCTUnwrap(first["probabilityDrops"] as? [Double])
        XCTAssertEqual(probs.count, 4)
        for (p, d) in zip(probs, drops) { XCTAssertEqual(clean - p, d, accuracy: 1e-12) }
        let map = try XCTUnwrap(first["dropMap"] as? [[Double]])
        XCTAssertEqual(map[0][0], drops[0], accuracy: 1e-6); XCTAssertEqual(map[13][13], drops[3], accuracy: 1e-6)
        XCTAssertEqual(map[6][7], drops[1], accuracy: 1e-6)
        let csv = try String(contentsOfFile: dir + "/occ/occlusion.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(csv.count, 1 + 2 * 4)

        // The top-right window set to 0 by hand, then predicted: the same probability.
        XCTAssertEqual(try runHatscope(["record", "--out", dir + "/r.safetensors"]).code, 0)
        var x = try XCTUnwrap(try SafeTensors.read(path: dir + "/r.safetensors")["input"])
        for ch in 0 ..< 3 { for row in 0 ..< 112 { for col in 112 ..< 224 { x.data[(ch * 224 + row) * 224 + col] = 0 } } }
        try NPY.write(x, to: dir + "/occluded.npy")
        let p = try runHatscope(["predict", "--input", dir + "/occluded.npy", "--json"])
        XCTAssertEqual(p.code, 0, p.err)
        let out = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(p.out.utf8)) as? [String: Any])
        let top = try XCTUnwrap(((out["results"] as? [[String: Any]])?.first?["top"] as? [[String: Any]]))
        let same = try XCTUnwrap(top.first { $0["index"] as? Int == 1 }?["probability"] as? Double)
        XCTAssertEqual(same, probs[1], accuracy: 1e-6, "occlusion = the pixels at 0 after normalisation")
        XCTAssertTrue(r.out.contains("4 occluded copies (+1 clean)"), r.out)
    }

    /// More classes asked for than the model has: all of them are mapped, and it says so.
    func testTopAboveTheClassCountSaysSo() throws {
        let r = try runHatscope(["occlude", "--out", dir + "/t", "--patch", "windows", "--top", "5"])
        XCTAssertEqual(r.code, 0, r.err)
        XCTAssertTrue(r.err.contains("hatscope: note: --top 5: faster_vit_demo_224 has 2 classes; mapping all 2"), r.err)
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: dir + "/t").filter { $0.hasSuffix(".png") }),
                       Set(["occlusion_class_0.png", "occlusion_class_1.png"]))
    }

    func testRefusalsAreOneLine() throws {
        assertOneLineFailure(try runHatscope(["occlude", "--out", dir + "/a", "--class", "7"]), mentions: ["--class 7", "0-1"], "class out of range")
        assertOneLineFailure(try runHatscope(["occlude", "--out", dir + "/a", "--stage", "1", "--patch", "windows"]), mentions: ["no windows"], "windows on a conv stage")
        assertOneLineFailure(try runHatscope(["occlude", "--out", dir + "/a", "--stage", "4", "--patch", "9"]), mentions: ["larger"], "patch too large")
        assertOneLineFailure(try runHatscope(["occlude", "--out", dir + "/a", "--patch", "0"]), mentions: ["--patch"], "bad patch")
        assertOneLineFailure(try runHatscope(["occlude", "--out", dir + "/a", "--class", "1", "--top", "2"]), mentions: ["either"], "both class and top")
        // The same class twice would write its figure twice and its rows twice.
        assertOneLineFailure(try runHatscope(["occlude", "--out", dir + "/a", "--class", "1", "--class", "0", "--class", "1"]),
                             mentions: ["--class 1", "twice"], "a class given twice")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/a"), "nothing written")
    }
}
