// `hatscope record` and `hatscope export` end to end on the embedded demo: what they write, and
// that bad input gives one line, exit 1 and no file.
import Foundation
import XCTest

final class RecordExportCLITests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("hatrec-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        dir = d.path
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    /// The safetensors header: name -> shape.
    func safetensorsShapes(_ path: String) throws -> [String: [Int]] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        XCTAssertGreaterThan(data.count, 8)
        let n = data.prefix(8).enumerated().reduce(0) { $0 | (Int($1.element) << (8 * $1.offset)) }
        let json = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + n))) as? [String: Any] ?? [:]
        var shapes: [String: [Int]] = [:]
        for (k, v) in json where k != "__metadata__" {
            shapes[k] = (v as? [String: Any])?["shape"] as? [Int]
        }
        return shapes
    }

    func testRecordWritesEveryAttentionMapWithTheOfficialLayout() throws {
        let out = dir + "/demo.safetensors"
        let r = try runHatscope(["record", "--out", out])
        XCTAssertEqual(r.code, 0, r.err)
        let shapes = try safetensorsShapes(out)
        // The demo: 224 input, stage 3 = 2 x 2 windows of 7 x 7 with 2 x 2 carriers each
        // (T = 4 + 49), 4 heads, 16 carriers; stage 4 = one window of 49 tokens, 8 heads.
        XCTAssertEqual(shapes["input"], [1, 3, 224, 224])
        XCTAssertEqual(shapes["logits"], [1, 2])
        for b in 0..<3 {
            XCTAssertEqual(shapes["levels.2.blocks.\(b).attn.probs"], [4, 4, 53, 53], "block \(b)")
            XCTAssertEqual(shapes["levels.2.blocks.\(b).hat_attn.probs"], [1, 4, 16, 16], "block \(b)")
        }
        XCTAssertEqual(shapes["levels.3.blocks.0.attn.probs"], [1, 8, 49, 49])
        XCTAssertNil(shapes["levels.3.blocks.0.hat_attn.probs"], "stage 4 has no carrier tokens")
        // The convolutional stages' energies and stage 3's propagation (the demo propagates).
        XCTAssertEqual(shapes["levels.0.energy"], [56, 56])
        XCTAssertEqual(shapes["levels.1.energy"], [28, 28])
        XCTAssertEqual(shapes["levels.2.blocks.2.propagation"], [14, 14, 64])
        XCTAssertEqual(shapes.count, 2 + 3 * 2 + 1 + 2 + 1)
    }

    func testRecordRefusesWrongShapeAndNonFiniteInputAndLeavesNoFile() throws {
        let out = dir + "/r.safetensors"
        try writeNPY(dir + "/four.npy", shape: [1, 4, 224, 224], value: 0)
        assertOneLineFailure(try runHatscope(["record", "--input", dir + "/four.npy", "--out", out]), mentions: ["channel"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))

        // A batch is for `bench` (and the library); record writes one image's recording, and
        // every command that shows one image refuses several in one line.
        try writeNPY(dir + "/two.npy", shape: [2, 3, 224, 224], value: 0)
        assertOneLineFailure(try runHatscope(["record", "--input", dir + "/two.npy", "--out", out]), mentions: ["2 images", "takes one"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        for args in [["export", "--out", dir + "/figs"], ["predict"]] {
            assertOneLineFailure(try runHatscope(args + ["--input", dir + "/two.npy"]), mentions: ["2 images", "takes one"], args[0])
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/figs"))

        try writeNPY(dir + "/nan.npy", shape: [1, 3, 224, 224], value: .nan)
        assertOneLineFailure(try runHatscope(["record", "--input", dir + "/nan.npy", "--out", out]), mentions: ["nan"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))

        try writeNPY(dir + "/odd.npy", shape: [1, 3, 100, 100], value: 0)
        let odd = try runHatscope(["record", "--input", dir + "/odd.npy", "--out", out])
        XCTAssertEqual(odd.code, 1)
        XCTAssertEqual(odd.err.split(separator: "\n").count, 1, odd.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))

        assertOneLineFailure(try runHatscope(["record", "--out", dir + "/no/such/folder/r.safetensors"]), mentions: ["folder"])
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".safetensors") || $0.contains(".tmp") }
        XCTAssertEqual(leftovers, [])
    }

    func testExportWritesPNGsAndAManifestThatNamesThem() throws {
        let out = dir + "/figs"
        let r = try runHatscope(["export", "--out", out, "--view", "local", "--view", "carrier", "--block", "1", "--head", "mean"])
        XCTAssertEqual(r.code, 0, r.err)
        let files = try FileManager.default.contentsOfDirectory(atPath: out).sorted()
        let pngs = files.filter { $0.hasSuffix(".png") }
        XCTAssertEqual(pngs.count, 2, "\(files)")
        XCTAssertTrue(files.contains("manifest.json"))
        let manifest = try String(contentsOfFile: out + "/manifest.json", encoding: .utf8)
        for p in pngs {
            XCTAssertTrue(manifest.contains(p), "manifest lacks \(p)")
            let head = try Data(contentsOf: URL(fileURLWithPath: out + "/" + p)).prefix(8)
            XCTAssertEqual(Array(head), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], p)
        }
        XCTAssertTrue(manifest.contains("sha256"))
    }

    func testExportToAFileInsteadOfAFolderIsOneLine() throws {
        let blocker = dir + "/not-a-folder"
        try Data("x".utf8).write(to: URL(fileURLWithPath: blocker))
        let r = try runHatscope(["export", "--out", blocker, "--view", "local"])
        XCTAssertEqual(r.code, 1, r.err)
        XCTAssertEqual(r.err.split(separator: "\n").count, 1, r.err)
        XCTAssertTrue(r.err.hasPrefix("hatscope: "), r.err)
    }
}
