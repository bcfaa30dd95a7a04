// `hatscope info` and `hatscope convert` end to end on checkpoints written by the official code
// (Tests/HatCheckpointTests/Fixtures, tools/gen_checkpoint_fixtures.py).
import Foundation
import XCTest

final class CheckpointCLITests: XCTestCase {
    func fixture(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("HatCheckpointTests/Fixtures").appendingPathComponent(name).path
    }

    func tempDir() throws -> String {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("hatckptcli-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d.path
    }

    func testInfoDescribesTinyFasterViT() throws {
        let r = try runHatscope(["info", fixture("tiny_fastervit.pth.tar")])
        XCTAssertEqual(r.code, 0, r.err)
        for needle in ["zip format", "'module.' prefix removed", "variant       custom",
                       "165,890 learned", "input 96x96", "carrier tokens 2x2 = 4", "mapping       ok",
                       "args: argparse.Namespace (1 fields)", "epoch: 3", "crop_pct 1.0"] {
            XCTAssertTrue(r.out.contains(needle), "info lacks '\(needle)':\n\(r.out)")
        }
        // The convolutional stages' head counts are in no tensor (and never used): an inferred
        // configuration must not print a guess as if it were the model's.
        XCTAssertTrue(r.out.contains("heads [?, ?, 4, 8] (stages 1-2 are convolutional: "), r.out)
    }

    /// torch.save(model) of the same model: info reads it as data and describes the same network;
    /// a forward on it gives the same logits as on its saved state dict.
    func testAWholePickledModelLoadsLikeItsStateDict() throws {
        let r = try runHatscope(["info", fixture("whole_fastervit.pt")])
        XCTAssertEqual(r.code, 0, r.err)
        for needle in ["a whole pickled fastervit.models.faster_vit.FasterViT module (read as data, nothing run)",
                       "variant       custom", "165,890 learned", "mapping       ok"] {
            XCTAssertTrue(r.out.contains(needle), "info lacks '\(needle)':\n\(r.out)")
        }
        let whole = try runHatscope(["predict", "--checkpoint", fixture("whole_fastervit.pt"), "--json"])
        let saved = try runHatscope(["predict", "--checkpoint", fixture("tiny_fastervit.pth.tar"), "--json"])
        XCTAssertEqual(whole.code, 0, whole.err)
        XCTAssertEqual(saved.code, 0, saved.err)
        func logits(_ json: String) throws -> [Double] {
            let o = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
            let first = try XCTUnwrap((o?["results"] as? [[String: Any]])?.first)
            return try XCTUnwrap(first["logits"] as? [Double])
        }
        let a = try logits(whole.out), b = try logits(saved.out)
        XCTAssertFalse(a.isEmpty)
        XCTAssertEqual(a, b)
    }

    /// The first image's logits of `hatscope predict --json ARGS` (which must succeed).
    private func predictLogits(_ args: [String]) throws -> [Double] {
        let r = try runHatscope(["predict", "--json"] + args)
        XCTAssertEqual(r.code, 0, "\(args): \(r.err)")
        let o = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any]
        let first = try XCTUnwrap((o?["results"] as? [[String: Any]])?.first)
        return try XCTUnwrap(first["logits"] as? [Double])
    }

    /// The network inside a larger model's state dict: a Lightning checkpoint ('model.*' beside a
    /// loss module's tensor) is found on its own; of two (a distillation checkpoint's 'student.*'
    /// and 'teacher.*') the user chooses with --submodule. Same logits as the plain state dict.
    func testAFasterViTInsideALargerModelIsFound() throws {
        let want = try predictLogits(["--checkpoint", fixture("tiny_fastervit.pth.tar")])
        let info = try runHatscope(["info", fixture("lightning_tiny.ckpt")])
        XCTAssertEqual(info.code, 0, info.err)
        for needle in ["from 'state_dict', the FasterViT under 'model.'", "1 tensor outside it left out: criterion.weight",
                       "pytorch-lightning_version: '2.4.0'", "variant       custom", "mapping       ok"] {
            XCTAssertTrue(info.out.contains(needle), "info lacks '\(needle)':\n\(info.out)")
        }
        XCTAssertEqual(try predictLogits(["--checkpoint", fixture("lightning_tiny.ckpt")]), want)
        assertOneLineFailure(try runHatscope(["predict", "--checkpoint", fixture("distill_tiny.pth")]),
                             mentions: ["2 FasterViTs", "'student.'", "'teacher.'", "--submodule"])
        XCTAssertEqual(try predictLogits(["--checkpoint", fixture("distill_tiny.pth"), "--submodule", "teacher"]), want)
        XCTAssertEqual(try predictLogits(["--checkpoint", fixture("distill_tiny.pth"), "--submodule", "student."]), want)
        assertOneLineFailure(try runHatscope(["info", "--submodule", "pupil", fixture("distill_tiny.pth")]),
                             mentions: ["--submodule pupil", "'student.'", "'teacher.'"])
        // convert writes the chosen network alone, and the file loads like the original.
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let c = try runHatscope(["convert", "--submodule", "teacher", fixture("distill_tiny.pth"), dir + "/t.safetensors"])
        XCTAssertEqual(c.code, 0, c.err)
        XCTAssertTrue(c.out.contains("132 tensors"), c.out)
        XCTAssertEqual(try predictLogits(["--checkpoint", dir + "/t.safetensors"]), want)
    }

    /// A LightningModule keeping timm's EMA copy beside the network ('model.*' and
    /// 'model_ema.module.*', written by timm's ModelEmaV3): the network loads by default and `info`
    /// names the copy; --ema loads the copy, like a training checkpoint's 'state_dict_ema'.
    func testAnEMACopyBesideTheNetworkIsTheEMAWeights() throws {
        let ckpt = fixture("lightning_ema_tiny.ckpt")
        // The network under 'model.' is the tiny fixture's; the EMA copy moved half way to other weights.
        let network = try predictLogits(["--checkpoint", fixture("tiny_fastervit.pth.tar")])
        XCTAssertEqual(try predictLogits(["--checkpoint", ckpt]), network)
        let copy = try predictLogits(["--checkpoint", ckpt, "--submodule", "model_ema.module"])
        XCTAssertNotEqual(copy, network)
        XCTAssertEqual(try predictLogits(["--checkpoint", ckpt, "--ema"]), copy)
        let info = try runHatscope(["info", ckpt])
        XCTAssertEqual(info.code, 0, info.err)
        XCTAssertTrue(info.out.contains("'model_ema.module.' holds an EMA copy of the network (use --ema to load it)"), info.out)
        let infoEMA = try runHatscope(["info", "--ema", ckpt])
        XCTAssertEqual(infoEMA.code, 0, infoEMA.err)
        XCTAssertTrue(infoEMA.out.contains("the FasterViT under 'model_ema.module.'"), infoEMA.out)
        // Without an EMA copy anywhere, --ema still says what is missing.
        assertOneLineFailure(try runHatscope(["predict", "--ema", "--checkpoint", fixture("distill_tiny.pth")]),
                             mentions: ["--ema", "state_dict_ema"])
    }

    /// Names and values inside a checkpoint are the file author's text: `info` prints their
    /// control characters escaped, never as bytes a terminal would act on (a window title, a
    /// cleared screen, a clipboard write).
    func testInfoEscapesTheCheckpointsOwnText() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let header = #"{"__metadata__":{"\u001b]0;pwned\u0007":"\u001b[2J\u001b]52;c;ZWNobyBoaQ==\u0007"},"#
            + #""w\u001b[31m":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#
        var bytes = [UInt8]()
        let h = Array(header.utf8)
        for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: h.count >> (8 * i))) }
        bytes += h + [0, 0, 128, 63]
        let path = dir + "/evil.safetensors"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let r = try runHatscope(["info", path])
        XCTAssertFalse(r.out.utf8.contains(0x1B) || r.out.utf8.contains(0x07), r.out)
        XCTAssertFalse(r.err.utf8.contains(0x1B), r.err)
        XCTAssertTrue(r.out.contains("\\x1B]0;pwned\\x07"), r.out)
    }

    func testInfoRefusesTheOsSystemPickle() throws {
        let marker = "/tmp/hatscope_checkpoint_test_marker"
        try? FileManager.default.removeItem(atPath: marker)
        let r = try runHatscope(["info", fixture("evil_os_system.pt")])
        XCTAssertEqual(r.code, 1)
        XCTAssertTrue(r.err.hasPrefix("hatscope: refused unsafe pickle"), r.err)
        XCTAssertEqual(r.err.split(separator: "\n").count, 1)
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker))
    }

    func testInfoMismatchListsKeysAndFails() throws {
        let r = try runHatscope(["info", "--model", "faster_vit_0_224", fixture("tiny_fastervit.pth.tar")])
        XCTAssertEqual(r.code, 1)
        XCTAssertTrue(r.out.contains("mapping       MISMATCH"), r.out)
        XCTAssertTrue(r.out.contains("mis-shaped  patch_embed.conv_down.0.weight expected [64, 3, 3, 3] got [8, 3, 3, 3]"), r.out)
        XCTAssertTrue(r.err.hasPrefix("hatscope: "), r.err)
    }

    func testConvertWritesSafetensorsAtomically() throws {
        let dir = try tempDir()
        let out = dir + "/tiny.safetensors"
        let r = try runHatscope(["convert", fixture("tiny_fastervit.pth.tar"), out])
        XCTAssertEqual(r.code, 0, r.err)
        XCTAssertTrue(r.out.contains("132 tensors"), r.out)
        // The converted file describes the same model.
        let info = try runHatscope(["info", out])
        XCTAssertEqual(info.code, 0, info.err)
        XCTAssertTrue(info.out.contains("safetensors format"), info.out)
        XCTAssertTrue(info.out.contains("mapping       ok"), info.out)
        XCTAssertTrue(info.out.contains("metadata state_dict: state_dict"), info.out)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["tiny.safetensors"])
        // A failing conversion leaves nothing behind.
        let bad = try runHatscope(["convert", fixture("evil_os_system.pt"), dir + "/evil.safetensors"])
        XCTAssertEqual(bad.code, 1)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["tiny.safetensors"])
        let missing = try runHatscope(["convert", fixture("tiny_fastervit.pth.tar"), "/nonexistent-dir/x.safetensors"])
        XCTAssertEqual(missing.code, 1)
        XCTAssertTrue(missing.err.hasPrefix("hatscope: "), missing.err)
    }
}
