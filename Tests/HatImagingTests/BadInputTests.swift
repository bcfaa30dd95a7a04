// Bad inputs end in typed errors with one-line messages, never a crash, exit() or huge allocation;
// writes that fail leave nothing behind.
import Foundation
import XCTest
@testable import HatImaging

final class BadInputTests: XCTestCase {
    private func loadError(_ name: String) -> ImageError? {
        do {
            _ = try ImageIO.load(path: Fixture.path("bad/" + name))
            XCTFail("\(name) decoded without error")
            return nil
        } catch let e as ImageError {
            XCTAssertFalse(e.description.contains("\n"), "multi-line message for \(name)")
            return e
        } catch {
            XCTFail("\(name): untyped error \(error)")
            return nil
        }
    }

    func testTruncatedAndCorruptFilesAreCorrupt() {
        for name in ["truncated.png", "truncated_header.png", "truncated.jpg", "truncated_progressive.jpg",
                     "truncated_header.jpg", "corrupt_idat.png", "random_after_png_signature.png",
                     "random_after_jpeg_marker.jpg"] {
            guard let e = loadError(name) else { continue }
            guard case .corrupt = e else { XCTFail("\(name): \(e)"); continue }
        }
    }

    func testNonImagesAreNamedAsSuch() {
        for name in ["random.bin", "text.txt", "empty.bin"] {
            guard let e = loadError(name) else { continue }
            XCTAssertEqual(e, .notAnImage(path: Fixture.path("bad/" + name)))
            XCTAssertTrue(e.description.contains("not a PNG or JPEG"), e.description)
        }
    }

    func testZeroSizes() {
        XCTAssertEqual(loadError("zero_width.png"), .empty(format: "PNG", width: 0, height: 10))
        // libjpeg itself rejects a zero dimension in the frame header ("Empty JPEG image").
        guard let e = loadError("zero_height.jpg") else { return }
        switch e {
        case .empty, .corrupt: break
        default: XCTFail("zero_height.jpg: \(e)")
        }
    }

    func testOversizedHeadersAreRejectedBeforeDecoding() {
        let limits = ImageLimits.standard
        XCTAssertEqual(loadError("huge_20000.png"), .tooLarge(format: "PNG", width: 20000, height: 20000, limits: limits))
        XCTAssertEqual(loadError("huge_20000.jpg"), .tooLarge(format: "JPEG", width: 20000, height: 20000, limits: limits))
        XCTAssertEqual(loadError("over_100mp.png"), .tooLarge(format: "PNG", width: 16000, height: 7000, limits: limits))
        XCTAssertEqual(loadError("over_100mp.jpg"), .tooLarge(format: "JPEG", width: 16000, height: 7000, limits: limits))
    }

    func testCustomLimitsApply() throws {
        let bytes = try Fixture.bytes("formats/rgb8.png")  // 67 x 45
        XCTAssertThrowsError(try ImageIO.decode(bytes, limits: ImageLimits(maxSide: 50, maxPixels: 1_000_000)))
        XCTAssertThrowsError(try ImageIO.decode(bytes, limits: ImageLimits(maxSide: 100, maxPixels: 1000)))
        XCTAssertNoThrow(try ImageIO.decode(bytes, limits: ImageLimits(maxSide: 67, maxPixels: 67 * 45)))
    }

    func testMissingFileAndFolder() {
        XCTAssertThrowsError(try ImageIO.load(path: "/nonexistent/hatscope/x.png")) { e in
            guard case ImageError.unreadable = e else { return XCTFail("\(e)") }
        }
        XCTAssertThrowsError(try ImageIO.load(path: NSTemporaryDirectory())) { e in
            guard case ImageError.unreadable = e else { return XCTFail("\(e)") }
        }
    }

    func testEveryTruncationOfAPNGAndAJPEGFailsCleanly() throws {
        // Cut a good file at many points: each prefix must either throw a typed error or (when
        // only trailing bytes are missing) decode; none may crash.
        for name in ["formats/rgb8_interlaced.png", "formats/progressive.jpg", "formats/baseline420.jpg"] {
            let full = try Fixture.bytes(name)
            for cut in stride(from: 0, to: full.count, by: max(1, full.count / 60)) {
                do { _ = try ImageIO.decode(Array(full[0..<cut])) } catch is ImageError {} catch {
                    XCTFail("\(name)[..<\(cut)]: \(error)")
                }
            }
        }
    }

    func testRandomlyCorruptedFilesNeverCrash() throws {
        // Seeded byte flips in valid files: every outcome must be an image or an ImageError.
        var state: UInt64 = 0x9E3779B97F4A7C15
        func next() -> Int { state = state &* 6364136223846793005 &+ 1442695040888963407; return Int(state >> 33) }
        // HAT_FUZZ_ROUNDS raises the count for a longer local run (e.g. under --sanitize=address).
        let rounds = ProcessInfo.processInfo.environment["HAT_FUZZ_ROUNDS"].flatMap { Int($0) } ?? 60
        var decoded = 0, rejected = 0
        for name in ["formats/rgb8_interlaced.png", "formats/pal4.png", "formats/progressive.jpg",
                     "formats/baseline420.jpg", "formats/cmyk.jpg", "formats/gray16.png"] {
            let original = try Fixture.bytes(name)
            for _ in 0..<rounds {
                var bytes = original
                for _ in 0..<(1 + next() % 6) {
                    // Keep the 3-byte magic so the decoders, not the sniffer, see the damage.
                    bytes[3 + next() % (bytes.count - 3)] = UInt8(truncatingIfNeeded: next())
                }
                do { _ = try ImageIO.decode(bytes); decoded += 1 } catch is ImageError { rejected += 1 } catch {
                    XCTFail("\(name): untyped error \(error)")
                }
            }
        }
        XCTAssertEqual(decoded + rejected, 6 * rounds)
        XCTAssertGreaterThan(rejected, 0)
    }

    func testWriteIntoMissingOrReadOnlyFolderFailsAndLeavesNothing() throws {
        let image = RGBImage(width: 4, height: 3, fill: (1, 2, 3))
        XCTAssertThrowsError(try ImageIO.writePNG(image, to: "/nonexistent-hatscope-folder/out.png")) { e in
            guard case ImageError.unwritable = e else { return XCTFail("\(e)") }
        }
        let dir = NSTemporaryDirectory() + "hatimaging-ro-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { chmod(dir, 0o755); try? FileManager.default.removeItem(atPath: dir) }
        chmod(dir, 0o555)
        let target = dir + "/out.png"
        if access(dir, W_OK) == 0 {
            // Running as root: permission bits do not stop writes; the missing-folder case above covers the path.
            try ImageIO.writePNG(image, to: target)
        } else {
            XCTAssertThrowsError(try ImageIO.writePNG(image, to: target)) { e in
                guard case ImageError.unwritable = e else { return XCTFail("\(e)") }
            }
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [])
        }
    }

    func testAtomicWriteReplacesAndLeavesNoTemporaryFiles() throws {
        let dir = NSTemporaryDirectory() + "hatimaging-w-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/figure.png"
        try ImageIO.writePNG(RGBImage(width: 5, height: 5, fill: (9, 9, 9)), to: path)
        let second = RGBImage(width: 3, height: 2, fill: (200, 100, 50))
        try ImageIO.writePNG(second, to: path)
        XCTAssertEqual(try ImageIO.load(path: path), second)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["figure.png"])
    }

    func testWritingOverAFolderFails() throws {
        let dir = NSTemporaryDirectory() + "hatimaging-d-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir + "/sub", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        XCTAssertThrowsError(try ImageIO.writePNG(RGBImage(width: 1, height: 1), to: dir + "/sub"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["sub"])
    }
}
