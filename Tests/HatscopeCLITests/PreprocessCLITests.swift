// `hatscope preprocess` end to end: a photo becomes a [1, 3, 224, 224] float32 .npy; bad images
// and bad destinations end in one line on stderr, exit 1 and no output file.
import Foundation
import XCTest

final class PreprocessCLITests: XCTestCase {
    /// The imaging fixtures, found from this source file (the CLI test target has no resources).
    private func fixture(_ relative: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("HatImagingTests/Fixtures").appendingPathComponent(relative).path
    }

    private func tempDir() throws -> String {
        let dir = NSTemporaryDirectory() + "hatscope-pre-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir
    }

    func testWritesTheNetworkInputAndView() throws {
        let dir = try tempDir()
        let r = try runHatscope(["preprocess", "--model", "faster_vit_0_224", "--image", fixture("preprocess/chelsea.jpg"),
                                 "--out", dir + "/x.npy", "--save-image", dir + "/seen.png"])
        XCTAssertEqual(r.code, 0, r.err)
        XCTAssertTrue(r.out.contains("[1, 3, 224, 224]"), r.out)
        let npy = try Data(contentsOf: URL(fileURLWithPath: dir + "/x.npy"))
        XCTAssertEqual(Array(npy.prefix(6)), [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59])
        XCTAssertTrue(String(decoding: npy.prefix(128), as: UTF8.self).contains("'shape': (1, 3, 224, 224)"))
        XCTAssertEqual(npy.count % 64, (3 * 224 * 224 * 4) % 64)
        XCTAssertGreaterThan(npy.count, 3 * 224 * 224 * 4)
        let png = try Data(contentsOf: URL(fileURLWithPath: dir + "/seen.png"))
        XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: dir)), ["x.npy", "seen.png"])
    }

    func testBadImagesFailCleanly() throws {
        let dir = try tempDir()
        for bad in ["truncated.jpg", "truncated.png", "huge_20000.png", "over_100mp.jpg", "text.txt", "zero_width.png"] {
            let r = try runHatscope(["preprocess", "--model", "faster_vit_0_224", "--image", fixture("bad/" + bad),
                                     "--out", dir + "/x.npy"])
            XCTAssertEqual(r.code, 1, bad)
            XCTAssertTrue(r.err.hasPrefix("hatscope: "), r.err)
            XCTAssertEqual(r.err.split(separator: "\n").count, 1, r.err)
            XCTAssertFalse(r.err.contains("Fatal error"), r.err)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [])
    }

    func testBadArgumentsAndDestinations() throws {
        let image = fixture("preprocess/coffee.png")
        for args in [["--model", "faster_vit_99", "--image", image, "--out", "/tmp/never.npy"],
                     ["--image", image, "--out", "/tmp/never.npy"],
                     ["--model", "faster_vit_0_224", "--image", "/nonexistent.jpg", "--out", "/tmp/never.npy"],
                     ["--model", "faster_vit_0_224", "--image", image, "--out", "/nonexistent-dir/x.npy"]] {
            let r = try runHatscope(["preprocess"] + args)
            XCTAssertEqual(r.code, 1, args.joined(separator: " "))
            XCTAssertTrue(r.err.hasPrefix("hatscope: "), r.err)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/tmp/never.npy"))
    }

    func testHelpStatesInputsOutputsAndExample() throws {
        let r = try runHatscope(["preprocess", "--help"])
        XCTAssertEqual(r.code, 0)
        for needle in ["--image", "--out", "crop_pct", "Example", ".npy"] {
            XCTAssertTrue(r.out.contains(needle), "help lacks \(needle)")
        }
    }
}
