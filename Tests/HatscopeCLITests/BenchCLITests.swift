// `hatscope bench` end to end on the embedded demo: a batch, interventions, and the one-line
// refusals of interventions that do not apply.
import Foundation
import XCTest

final class BenchCLITests: XCTestCase {
    func value(_ key: String, in out: String) -> Double? {
        for line in out.split(separator: "\n") where line.hasPrefix(key + ": ") {
            return Double(line.dropFirst(key.count + 2).split(separator: " ")[0])
        }
        return nil
    }

    func testBatchReportsTheWholeBatchAndPerImage() throws {
        let r = try runHatscope(["bench", "--batch", "3", "--repeat", "1", "--warmup", "0"])
        XCTAssertEqual(r.code, 0, r.err)
        XCTAssertTrue(r.out.contains("input: [3, 3, 224, 224]"), r.out)
        let batch = try XCTUnwrap(value("forward_ms", in: r.out)), perImage = try XCTUnwrap(value("per_image_ms", in: r.out))
        XCTAssertEqual(perImage, batch / 3, accuracy: 0.01 + batch * 1e-3)
        XCTAssertNotNil(value("images_per_s", in: r.out))
        XCTAssertNotNil(value("forward_record_ms", in: r.out))
        // Where the time goes: the products' operations per image, the same at batch 1, and the
        // floor they put under a forward at the measured sgemm rate.
        let gflop = try XCTUnwrap(value("products_gflop_per_image", in: r.out))
        let one = try runHatscope(["bench", "--repeat", "1", "--warmup", "0"])
        XCTAssertEqual(one.code, 0, one.err)
        XCTAssertEqual(try XCTUnwrap(value("products_gflop_per_image", in: one.out)), gflop, accuracy: gflop * 0.02)
        let rate = try XCTUnwrap(value("sgemm_gflops", in: r.out)), limit = try XCTUnwrap(value("sgemm_limit_ms_per_image", in: r.out))
        XCTAssertGreaterThan(gflop, 0)
        XCTAssertEqual(limit, gflop / rate * 1000, accuracy: 0.01 + limit * 0.01)
        XCTAssertNotNil(value("products_cpu_ms_per_image", in: r.out))
    }

    /// An input holding N images is the batch; one image is repeated to --batch; another count
    /// is refused in one line.
    func testAnInputOfSeveralImagesIsTheBatch() throws {
        let dir = try makeTemporaryFolder("hatbench")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeNPY(dir + "/two.npy", shape: [2, 3, 224, 224], value: 0.5)
        try writeNPY(dir + "/one.npy", shape: [1, 3, 224, 224], value: 0.5)
        let quick = ["--repeat", "1", "--warmup", "0"]
        for (args, shape) in [(["--input", dir + "/two.npy"], "[2, 3, 224, 224]"),
                              (["--input", dir + "/two.npy", "--batch", "2"], "[2, 3, 224, 224]"),
                              (["--input", dir + "/one.npy", "--batch", "3"], "[3, 3, 224, 224]")] {
            let r = try runHatscope(["bench"] + quick + args)
            XCTAssertEqual(r.code, 0, r.err)
            XCTAssertTrue(r.out.contains("input: " + shape), "\(args): \(r.out)")
        }
        assertOneLineFailure(try runHatscope(["bench"] + quick + ["--input", dir + "/two.npy", "--batch", "3"]),
                             mentions: ["holds 2 images", "--batch 3 needs 1 (repeated) or 3"])
    }

    /// A batch that cannot fit is refused before its input is made (one line, at once).
    func testABatchBeyondMemoryIsRefusedBeforeAllocating() throws {
        let r = try runHatscope(["bench", "--batch", "4096", "--resolution", "2048x2048"])
        assertOneLineFailure(r, mentions: ["a batch of 4096", "smaller batch"])
        assertOneLineFailure(try runHatscope(["bench", "--batch", "0"]), mentions: ["--batch must be 1-4096"])
    }

    func testInterventionsRunAndRefusalsAreOneLine() throws {
        let ok = try runHatscope(["bench", "--repeat", "1", "--warmup", "0", "--cut-global", "levels.2",
                                  "--ablate-head", "levels.2.blocks.1.attn:0", "--occlude-box", "3:0-6,0-6",
                                  "--no-propagation", "levels.2"])
        XCTAssertEqual(ok.code, 0, ok.err)
        XCTAssertTrue(ok.out.contains("interventions: --occlude-box 3:0-6,0-6 --ablate-head levels.2.blocks.1.attn:0 --cut-global levels.2 --no-propagation levels.2"), ok.out)
        for (args, says) in [(["--cut-carriers", "levels.3"], "levels.3 has no carrier tokens"),
                             (["--ablate-head", "levels.2.blocks.9.attn:0"], "blocks 0-"),
                             (["--ablate-head", "levels.2.blocks.0:0"], "expected levels.L.blocks.B.attn:H"),
                             (["--occlude-box", "3:0-20,0-1"], "14x14 tokens"),
                             (["--occlude", "/no/such/mask.png"], "--occlude /no/such/mask.png")] {
            let r = try runHatscope(["bench", "--repeat", "1", "--warmup", "0"] + args)
            XCTAssertEqual(r.code, 1, "\(args)")
            XCTAssertEqual(r.err.split(separator: "\n").count, 1, r.err)
            XCTAssertTrue(r.err.hasPrefix("hatscope: ") && r.err.contains(says), r.err)
        }
    }
}
