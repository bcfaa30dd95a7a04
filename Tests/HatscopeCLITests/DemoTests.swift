// The embedded demo end to end: `hatscope predict` on every shipped demo image must agree with the
// labels (>= 11 of 12) and with the official PyTorch model (top-1 on all, logits within tolerance).
// The reference comes from tools/demo/export.py (PyTorch + timm eval transform on the same PNGs).
import XCTest
import Foundation

final class DemoTests: XCTestCase {
    /// The repository's assets/ folder, found from this source file (Tests/HatscopeCLITests/...).
    static let assets = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("assets")

    struct Labels: Decodable {
        struct Entry: Decodable { let label: Int; let `class`: String }
        let classes: [String]
        let images: [String: Entry]
    }

    struct Reference: Decodable {
        struct Entry: Decodable { let logits: [Float]; let top1: Int; let label: Int }
        let classes: [String]
        let images: [String: Entry]
    }

    /// The subset of `predict --json` the test reads.
    struct PredictOutput: Decodable {
        struct Entry: Decodable { let index: Int; let name: String; let probability: Double }
        struct Image: Decodable { let image: String; let logits: [Float]; let top: [Entry] }
        let model: String
        let classes: Int
        let results: [Image]
    }

    func decode<T: Decodable>(_ type: T.Type, _ url: URL) throws -> T {
        try JSONDecoder().decode(type, from: Data(contentsOf: url))
    }

    func testPredictMatchesLabelsAndPyTorchOnEveryDemoImage() throws {
        let imagesDir = Self.assets.appendingPathComponent("demo/images")
        let labels = try decode(Labels.self, imagesDir.appendingPathComponent("labels.json"))
        let reference = try decode(Reference.self, Self.assets.appendingPathComponent("demo/reference_logits.json"))
        let names = labels.images.keys.sorted()
        XCTAssertEqual(names.count, 12, "expected a dozen demo images")
        XCTAssertEqual(Set(names), Set(reference.images.keys), "labels.json and reference_logits.json list different images")

        // No --checkpoint: the embedded demo model, found relative to the executable.
        var args = ["predict", "--json", "--top", "2"]
        for n in names { args += ["--image", imagesDir.appendingPathComponent(n).path] }
        let r = try runHatscope(args)
        XCTAssertEqual(r.code, 0, r.err)
        let out = try JSONDecoder().decode(PredictOutput.self, from: Data(r.out.utf8))
        XCTAssertEqual(out.classes, labels.classes.count)
        XCTAssertEqual(out.results.count, names.count)

        var matchesLabel = 0
        for (name, result) in zip(names, out.results) {
            XCTAssertTrue(result.image.hasSuffix(name), "results out of order: \(result.image) vs \(name)")
            guard let ref = reference.images[name], let truth = labels.images[name], let best = result.top.first else {
                XCTFail("\(name): missing reference, label or prediction"); continue
            }
            if best.index == truth.label { matchesLabel += 1 }
            XCTAssertEqual(best.index, ref.top1, "\(name): top-1 differs from PyTorch")
            XCTAssertEqual(best.name, labels.classes[best.index], "\(name): class name")
            XCTAssertEqual(result.logits.count, ref.logits.count)
            // float32 engine vs PyTorch float32: a few 1e-4 of drift at most on O(1..10) logits.
            for (a, b) in zip(result.logits, ref.logits) {
                XCTAssertEqual(a, b, accuracy: 1e-3 + 1e-3 * abs(b), "\(name): logits \(result.logits) vs PyTorch \(ref.logits)")
            }
        }
        XCTAssertGreaterThanOrEqual(matchesLabel, 11, "only \(matchesLabel)/12 demo images classified as labelled")
    }

    func testPredictWithoutArgumentsUsesDemoModelAndImage() throws {
        let r = try runHatscope(["predict"])
        XCTAssertEqual(r.code, 0, r.err)
        XCTAssertTrue(r.out.contains("demo_"), "default image not named in output: \(r.out)")
        let classes = try String(contentsOf: Self.assets.appendingPathComponent("demo/classes.txt"), encoding: .utf8)
            .split(separator: "\n").map(String.init)
        XCTAssertTrue(classes.contains { r.out.contains($0) }, "no demo class name in output: \(r.out)")
        XCTAssertTrue(r.out.contains("%"), r.out)
    }

    func testMissingAssetsIsOneCleanError() throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("hatscope-no-assets-\(getpid())")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        let r = try runHatscope(["predict"], env: ["HATSCOPE_ASSETS": empty.path])
        XCTAssertEqual(r.code, 1)
        XCTAssertTrue(r.err.hasPrefix("hatscope: "), r.err)
        XCTAssertTrue(r.err.contains("HATSCOPE_ASSETS"), r.err)
        XCTAssertEqual(r.err.split(separator: "\n").count, 1, r.err)
        XCTAssertFalse(r.err.contains("Fatal error"))
    }

    func testImagenetClassNamesAreComplete() throws {
        let text = try String(contentsOf: Self.assets.appendingPathComponent("imagenet_classes.txt"), encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        XCTAssertEqual(lines.count, 1000)
        XCTAssertTrue(lines.first?.hasPrefix("tench") ?? false)
        XCTAssertTrue(lines.last?.hasPrefix("toilet tissue") ?? false)
        XCTAssertFalse(lines.contains { $0.trimmingCharacters(in: .whitespaces).isEmpty })
    }
}
