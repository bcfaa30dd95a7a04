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
