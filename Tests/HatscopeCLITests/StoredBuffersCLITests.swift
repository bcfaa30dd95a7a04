// The real binary on checkpoints whose stored buffers differ from the geometry (written by the
// official stack, tools/gen_buffer_fixtures.py): `record` without --config matches the official
// logits and every attention map (1e-5 relative / 1e-5 absolute), `--buffers geometry` gives the
// official result of a model that kept its own buffers, `info` names what differs, and a checkpoint
// saved at a non-square carrier grid takes its resolution from the input.
import Foundation
import HatCheckpoint
import HatCore
import XCTest

final class StoredBuffersCLITests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("hatbuf-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        dir = d.path
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func fixture(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("HatModelTests/Fixtures").appendingPathComponent(name).path
    }

    var demoImage: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("assets/demo/images/demo_05.png").path
    }

    /// The expected file of `name`, its checkpoint path, and its input written as .npy.
    func load(_ name: String) throws -> (expected: SafeTensorsFile, checkpoint: String, input: String) {
        let exp = try SafeTensors.readFile(path: fixture("buffers_\(name).expected.safetensors"))
        let input = dir + "/\(name).npy"
        try NPY.write(try XCTUnwrap(exp.dictionary["input"]), to: input)
        return (exp, fixture(try XCTUnwrap(exp.metadata["checkpoint"])), input)
    }

    func maxDiff(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) } }

    /// `record` the case and compare with the official logits (`logitsKey`) and, when
    /// `probabilities`, every attention map.
    @discardableResult
    func record(_ name: String, expected: String? = nil, extra: [String] = [], logitsKey: String = "logits",
                probabilities: Bool = true, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let c = try load(name)
        let want = expected.map { try? SafeTensors.readFile(path: fixture("buffers_\($0).expected.safetensors")) } ?? c.expected
        let exp = try XCTUnwrap(want, file: file, line: line)
        let input = dir + "/\(expected ?? name).in.npy"
        try NPY.write(try XCTUnwrap(exp.dictionary["input"]), to: input)
        let out = dir + "/\(name).safetensors"
        let ema = c.expected.metadata["ema"] == "1" ? ["--ema"] : []
        let r = try runHatscope(["record", "--checkpoint", c.checkpoint, "--input", input, "--out", out] + ema + extra)
        XCTAssertEqual(r.code, 0, r.err, file: file, line: line)
        let got = try SafeTensors.readFile(path: out)
        let logits = try XCTUnwrap(got.dictionary["logits"], file: file, line: line).data
        let official = try XCTUnwrap(exp.dictionary[logitsKey], file: file, line: line).data
        let scale = official.map(abs).max() ?? 1
        XCTAssertLessThanOrEqual(maxDiff(logits, official) / scale, 1e-5, "\(name) \(extra): logits", file: file, line: line)
        if probabilities {
            let keys = exp.dictionary.keys.filter { $0.hasSuffix(".probs") }
            XCTAssertEqual(Set(keys), Set(got.dictionary.keys.filter { $0.hasSuffix(".probs") }), file: file, line: line)
            for k in keys {
                XCTAssertLessThanOrEqual(maxDiff(try XCTUnwrap(got.dictionary[k]).data, exp.dictionary[k]!.data), 1e-5,
                                         "\(name): \(k)", file: file, line: line)
            }
        }
        // The recording's provenance names the buffers the forward ran on (docs/recording-format.md).
        let provenance = try JSONSerialization.jsonObject(with: Data(try XCTUnwrap(got.metadata["provenance"]).utf8)) as? [String: Any]
        XCTAssertEqual(provenance?["buffers"] as? String, extra.contains("geometry") ? "geometry" : "stored", file: file, line: line)
        XCTAssertTrue(got.metadata["notes"]?.contains("buffers: ") ?? false, file: file, line: line)
        return r.out
    }

    func testRecordMatchesTheOfficialForwardOnStoredBuffers() throws {
        let bf16 = try record("bf16")
        XCTAssertTrue(bf16.contains("note: buffers: the checkpoint's, used as the official forward uses them; they differ from the geometry: relative_coords_table in 5 modules"), bf16)
        try record("fp16")
        let ema = try record("ema")
        XCTAssertTrue(ema.contains("relative_position_index in 3 modules (up to 76 entries, one below: EMA-truncated)"), ema)
        try record("perturbed")
        // The same file at 160 x 160: carrier buffers shaped for 128 x 128 are recomputed.
        try record("perturbed", expected: "perturbed_at160")
    }

    func testGeometryOptionGivesTheOfficialModelWithItsOwnBuffers() throws {
        for name in ["bf16", "fp16", "ema", "perturbed"] {
            let out = try record(name, extra: ["--buffers", "geometry"], logitsKey: "logits_geometry", probabilities: false)
            XCTAssertTrue(out.contains("note: buffers: recomputed from the geometry (--buffers geometry); the checkpoint's differ"), out)
        }
        let help = try runHatscope(["record", "--help"])
        XCTAssertTrue(help.out.contains("--buffers <stored|geometry>"), help.out)
        XCTAssertTrue(help.out.contains("ModelEmaV2"), help.out)
        let bad = try runHatscope(["record", "--buffers", "fresh", "--out", dir + "/x.safetensors"])
        XCTAssertEqual(bad.code, 1)
        XCTAssertEqual(bad.err, "hatscope: --buffers must be stored or geometry (got 'fresh')\n")
    }

    func testInfoComparesTheChosenWeightsBuffersWithTheGeometry() throws {
        let ema = try load("ema").checkpoint
        let r = try runHatscope(["info", "--ema", ema])
        XCTAssertEqual(r.code, 0, r.err)
        for needle in ["buffers       stored (--buffers)",
                       "relative_position_index: 76 of 256 entries differ from the 4x4 window geometry in 2 blocks (levels.2.blocks.0.attn, levels.3.blocks.0.attn), each one below it (typical of an EMA that blended integer buffers",
                       "relative_bias caches (what the official deploy mode adds",
                       "amp_scaler: ", "metric: 12.5", "args: argparse.Namespace"] {
            XCTAssertTrue(r.out.contains(needle), "info --ema lacks '\(needle)':\n\(r.out)")
        }
        // The regular weights never went through the EMA.
        let plain = try runHatscope(["info", ema])
        XCTAssertTrue(plain.out.contains("6 of 6 stored relative_coords_table / relative_position_index buffers equal the geometry"), plain.out)
        let bf16 = try runHatscope(["info", try load("bf16").checkpoint, "--buffers", "geometry"])
        XCTAssertTrue(bf16.out.contains("buffers       geometry (--buffers)"), bf16.out)
        XCTAssertTrue(bf16.out.contains("(stored as bfloat16)"), bf16.out)
    }

    func testNonSquareCheckpointTakesItsResolutionFromTheInput() throws {
        try record("nonsquare")   // the tensor's 128 x 192, no --config
        let c = try load("nonsquare")
        // An image needs --resolution; a square carrier grid is refused, naming what fits.
        let noSize = try runHatscope(["record", "--checkpoint", c.checkpoint, "--input", demoImage, "--out", dir + "/a.safetensors"])
        XCTAssertEqual(noSize.code, 1)
        XCTAssertEqual(noSize.err.split(separator: "\n").count, 1, noSize.err)
        XCTAssertTrue(noSize.err.hasPrefix("hatscope: ") && noSize.err.contains("no hat_pos_embed")
                      && noSize.err.contains("--resolution HxW") && noSize.err.contains("e.g. 128x192"), noSize.err)
        let square = try runHatscope(["record", "--checkpoint", c.checkpoint, "--input", demoImage, "--resolution", "128x128",
                                      "--out", dir + "/b.safetensors"])
        XCTAssertEqual(square.code, 1)
        XCTAssertTrue(square.err.contains("at 128x128 level 2's carrier grid is 4x4, square") && square.err.contains("e.g. 128x192"), square.err)
        for bad in ["128", "128x", "axb", "100x192", "0x64"] {
            let r = try runHatscope(["record", "--checkpoint", c.checkpoint, "--resolution", bad, "--out", dir + "/c.safetensors"])
            XCTAssertEqual(r.code, 1, bad)
            XCTAssertTrue(r.err.hasPrefix("hatscope: --resolution"), r.err)
        }
        let clash = try runHatscope(["record", "--checkpoint", c.checkpoint, "--input", c.input, "--resolution", "192x128",
                                     "--out", dir + "/d.safetensors"])
        XCTAssertTrue(clash.code == 1 && clash.err.contains("--resolution 192x128 but the input tensor is 128x192"), clash.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/a.safetensors"))

        // With --resolution an image is preprocessed to that size: the same as `preprocess` at it.
        let viaImage = dir + "/image.safetensors"
        let r = try runHatscope(["record", "--checkpoint", c.checkpoint, "--input", demoImage, "--resolution", "128x192", "--out", viaImage])
        XCTAssertEqual(r.code, 0, r.err)
        let cfg = dir + "/cfg.json"
        try Data(try XCTUnwrap(c.expected.metadata["config"]).utf8).write(to: URL(fileURLWithPath: cfg))
        let x = dir + "/x.npy"
        let p = try runHatscope(["preprocess", "--config", cfg, "--resolution", "128x192", "--image", demoImage, "--out", x])
        XCTAssertEqual(p.code, 0, p.err)
        XCTAssertEqual(try NPY.read(path: x).shape, [1, 3, 128, 192])
        let viaTensor = dir + "/tensor.safetensors"
        XCTAssertEqual(try runHatscope(["record", "--checkpoint", c.checkpoint, "--input", x, "--out", viaTensor]).code, 0)
        XCTAssertEqual(try SafeTensors.read(path: viaImage)["logits"], try SafeTensors.read(path: viaTensor)["logits"])

        // info shows it at the resolution the buffers name.
        let info = try runHatscope(["info", c.checkpoint])
        XCTAssertEqual(info.code, 0, info.err)
        XCTAssertTrue(info.out.contains("shown at 128x192") && info.out.contains("input 128x192") && info.out.contains("mapping       ok"), info.out)
    }

    func testExportManifestAndExplorerSayWhichBuffers() throws {
        let c = try load("ema")
        let out = dir + "/figs"
        let r = try runHatscope(["export", "--checkpoint", c.checkpoint, "--ema", "--input", c.input, "--out", out,
                                 "--view", "matrix", "--buffers", "geometry"])
        XCTAssertEqual(r.code, 0, r.err)
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/manifest.json"))) as? [String: Any]
        let buffers = try XCTUnwrap(manifest?["buffers"] as? [String: String])
        XCTAssertEqual(buffers["choice"], "geometry")
        XCTAssertTrue(buffers["comparison"]?.contains("EMA-truncated") ?? false, "\(buffers)")

        let frame = try shell("$D frame --checkpoint \(shellQuoted(c.checkpoint)) --ema --size 150x60")
        XCTAssertEqual(frame.code, 0, frame.err)
        let text = frame.out.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
        XCTAssertTrue(text.contains("Notes") && text.contains("EMA-truncated"), frame.out)
    }
}
