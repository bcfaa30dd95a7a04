// Issue 17, items 5-7, on the real binary: concurrent runs into one folder cannot produce a
// manifest that lies; stats skips unusable images (listed in stats.json and on stderr, each on
// its own line) and completes; a failing command leaves no output and no folder it created.
import Foundation
import XCTest

final class OutputsE2ETests: XCTestCase {
    var dir = ""
    override func setUpWithError() throws { dir = try makeTemporaryFolder("hatout") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    static func demoImage(_ n: Int) -> String {
        DemoTests.assets.appendingPathComponent(String(format: "demo/images/demo_%02d.png", n)).path
    }

    /// Item 5: four exports of four images into one folder at once. Each run either finishes or
    /// is refused with one line; the manifest left names one image, and every PNG it lists is
    /// exactly what exporting that image alone writes.
    func testConcurrentExportsIntoOneFolderNeverMixTheirFiles() throws {
        let shared = dir + "/shared"
        let script = (1 ... 4).map { i in
            "($H export --all --scale 1 --image \(shellQuoted(Self.demoImage(i))) --out \(shared) "
                + ">/dev/null 2>\(dir)/err\(i); echo $? > \(dir)/rc\(i)) &"
        }.joined(separator: " ") + " wait"
        XCTAssertEqual(try shell(script).code, 0)
        var succeeded: [Int] = []
        for i in 1 ... 4 {
            let rc = try String(contentsOfFile: "\(dir)/rc\(i)", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            let err = try String(contentsOfFile: "\(dir)/err\(i)", encoding: .utf8)
            if rc == "0" { succeeded.append(i); continue }
            assertOneLineFailure((1, "", err), mentions: ["another hatscope run"], "run \(i)")
        }
        XCTAssertFalse(succeeded.isEmpty)
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: shared + "/manifest.json"))) as? [String: Any]
        let image = ((manifest?["source"] as? [String: Any])?["image"] as? String) ?? ""
        let named = try XCTUnwrap((1 ... 4).first { Self.demoImage($0) == image }, "manifest image \(image)")
        XCTAssertTrue(succeeded.contains(named))
        let alone = dir + "/alone"
        XCTAssertEqual(try shell("$H export --all --scale 1 --image \(shellQuoted(image)) --out \(alone)").code, 0)
        let figures = (manifest?["figures"] as? [[String: Any]] ?? []).compactMap { $0["file"] as? String }
        XCTAssertEqual(figures.count, try FileManager.default.contentsOfDirectory(atPath: alone).count - 1)
        for f in figures {
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: shared + "/" + f)),
                           try Data(contentsOf: URL(fileURLWithPath: alone + "/" + f)), "\(f) comes from another run")
        }
    }

    /// Item 6: stats over good and corrupt images completes, lists the bad ones and says so.
    func testStatsSkipsCorruptImagesAndCompletes() throws {
        let images = dir + "/images"
        try FileManager.default.createDirectory(atPath: images, withIntermediateDirectories: true)
        for i in 1 ... 3 {
            try FileManager.default.copyItem(atPath: Self.demoImage(i), toPath: images + "/good\(i).png")
        }
        try Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3]).write(to: URL(fileURLWithPath: images + "/bad1.png"))
        try Data("not an image".utf8).write(to: URL(fileURLWithPath: images + "/bad2.jpg"))
        let out = dir + "/stats"
        let r = try shell("$H stats --images \(images) --out \(out) --jobs 1")
        XCTAssertEqual(r.code, 0, r.err)
        let lines = r.err.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.filter { $0.hasPrefix("hatscope: note: skipped ") }.count, 2, r.err)
        XCTAssertTrue(lines.allSatisfy { $0.hasPrefix("hatscope: ") }, "every stderr line stands alone: \(r.err)")
        XCTAssertTrue(r.out.contains("3 of 5 inputs"), r.out)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/stats.json"))) as? [String: Any]
        let skipped = (json?["skipped"] as? [[String: Any]] ?? []).compactMap { $0["input"] as? String }
        XCTAssertEqual(skipped.map { ($0 as NSString).lastPathComponent }, ["bad1.png", "bad2.jpg"])
        XCTAssertEqual(json?["recordings"] as? Int, 3)
        // One input that cannot be used: its error, one line, exit 1, no folder.
        assertOneLineFailure(try shell("$H stats --image \(images)/bad1.png --out \(dir)/none"), mentions: ["bad1.png", "corrupt"], "one bad input")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/none"))
        // Several, none usable: each named, then the summary, exit 1, no folder.
        let none = try shell("$H stats --image \(images)/bad1.png --image \(images)/bad2.jpg --out \(dir)/none")
        XCTAssertEqual(none.code, 1, none.err)
        XCTAssertTrue(none.err.split(separator: "\n").last?.hasPrefix("hatscope: no input could be used") ?? false, none.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/none"))
    }

    /// Item 7: failures leave nothing: no folder created by a failed export, no .npy when the
    /// --save-image half cannot be written.
    func testFailuresLeaveNoPartialOutputs() throws {
        let figs = dir + "/figs/deeper"
        assertOneLineFailure(try shell("$H export --out \(figs) --block 99"), mentions: ["block"], "export --block 99")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/figs"), "the folders it created are removed")
        assertOneLineFailure(try shell("$H export --out \(figs) --image /nonexistent.png"), mentions: ["nonexistent"], "missing image")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/figs"))
        let npy = dir + "/x.npy"
        let r = try shell("$H preprocess --model faster_vit_0_224 --image \(shellQuoted(Self.demoImage(1))) --out \(npy) --save-image \(dir)/missing/seen.png")
        assertOneLineFailure(r, mentions: ["missing"], "preprocess --save-image into a missing folder")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [], "no .npy without its image")
    }
}
