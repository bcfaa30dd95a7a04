// The recording file end to end: `record` writes it; explore, export, stats and tour draw it with
// --recording and never open a checkpoint (the demo assets are hidden and the recorded checkpoint
// is deleted); export from a recording gives the same PNG bytes as from the checkpoint; a
// recording written by tools/record_torch.py from the official PyTorch model matches hatscope's
// own within 1e-5 (the committed one always, a fresh one when HATSCOPE_PYTHON is set).
import Foundation
import XCTest
import HatCheckpoint
import HatRecording
import HatRecordingFile

final class RecordingCLITests: XCTestCase {
    var dir = ""
    /// No embedded demo: a command that tried to load the default model would fail.
    let noDemo = ["HATSCOPE_ASSETS": "/nonexistent-hatscope-assets"]

    override func setUpWithError() throws {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("hatreccli-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        dir = d.path
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    static var fixtures: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/torch_recording").path
    }

    func run(_ args: [String], env: [String: String] = [:], file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let r = try runHatscope(args, env: env)
        XCTAssertEqual(r.code, 0, "\(args.joined(separator: " ")): \(r.err)", file: file, line: line)
        return r.out
    }

    /// An explorer or tour frame as text from the developer tool (`hatscope-dev frame`): the
    /// demo run when `recording` is nil, else the recording file drawn without the model.
    func frame(_ screen: String, recording: String? = nil, _ extra: [String] = [], env: [String: String] = [:],
               file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let args = ["frame", "--screen", screen] + (recording.map { ["--recording", $0] } ?? []) + extra
        let r = try runHatscope(args, env: env, binary: hatscopeDevBinary)
        XCTAssertEqual(r.code, 0, "frame \(screen) \(extra): \(r.err)", file: file, line: line)
        return r.out
    }

    /// Records the demo with a copy of its checkpoint, then deletes the copy.
    func recordDemo(_ name: String, extra: [String] = []) throws -> String {
        let demo = try XCTUnwrap(Self.demoCheckpoint, "the demo checkpoint beside the build")
        let copy = dir + "/model.pth.tar"
        try? FileManager.default.removeItem(atPath: copy)
        try FileManager.default.copyItem(atPath: demo, toPath: copy)
        let out = dir + "/" + name
        _ = try run(["record", "--checkpoint", copy, "--out", out] + extra)
        try FileManager.default.removeItem(atPath: copy)
        return out
    }

    static var demoCheckpoint: String? {
        var d = productsDirectory
        for _ in 0 ..< 6 {
            let p = d.appendingPathComponent("assets/demo/fastervit_demo.pth.tar").path
            if FileManager.default.fileExists(atPath: p) { return p }
            d = d.deletingLastPathComponent()
        }
        return nil
    }

    func testExportFromARecordingGivesTheSamePNGBytes() throws {
        let rec = try recordDemo("demo.safetensors")
        let selections: [[String]] = [
            ["--view", "local", "--view", "reach", "--view", "matrix", "--view", "rollout", "--block", "2", "--head", "1", "--query", "3,9", "--montage"],
            ["--view", "carrier", "--view", "propagation", "--carrier", "5", "--montage", "--shared-scale", "--colormap", "magma"],
            ["--stage", "4", "--window", "0", "--query-index", "10", "--scale", "1"],
            ["--stage", "1"],
            ["--view", "local", "--carrier-slot", "2", "--window", "3", "--opacity", "0.4"],
        ]
        let demo = try XCTUnwrap(Self.demoCheckpoint)
        var compared = 0
        for (i, sel) in selections.enumerated() {
            let a = dir + "/a\(i)", b = dir + "/b\(i)"
            _ = try run(["export", "--checkpoint", demo, "--out", a] + sel)
            _ = try run(["export", "--recording", rec, "--out", b] + sel, env: noDemo)
            let fa = try FileManager.default.contentsOfDirectory(atPath: a).filter { $0.hasSuffix(".png") }.sorted()
            let fb = try FileManager.default.contentsOfDirectory(atPath: b).filter { $0.hasSuffix(".png") }.sorted()
            XCTAssertEqual(fa, fb, "same figures for \(sel)")
            XCTAssertFalse(fa.isEmpty)
            for f in fa {
                XCTAssertEqual(FileManager.default.contents(atPath: a + "/" + f), FileManager.default.contents(atPath: b + "/" + f), f)
                compared += 1
            }
            let manifest = try String(contentsOfFile: b + "/manifest.json", encoding: .utf8)
            XCTAssertTrue(manifest.contains("\"recording\" : \"\(rec)\""), manifest)
        }
        XCTAssertGreaterThanOrEqual(compared, 15, "several views, montages included")
    }

    func testCommandsOnARecordingNeverOpenACheckpoint() throws {
        // The demo as `hatscope` runs it by default, so the explorer's labels match too.
        let rec = dir + "/demo.safetensors"
        _ = try run(["record", "--out", rec])
        // Stats: the same numbers as from the image, byte for byte.
        let image = URL(fileURLWithPath: try XCTUnwrap(Self.demoCheckpoint)).deletingLastPathComponent()
            .appendingPathComponent("images/demo_05.png").path
        _ = try run(["stats", "--image", image, "--out", dir + "/s1"])
        _ = try run(["stats", "--recording", rec, "--out", dir + "/s2"], env: noDemo)
        XCTAssertEqual(FileManager.default.contents(atPath: dir + "/s1/stats.csv"), FileManager.default.contents(atPath: dir + "/s2/stats.csv"))
        // Two recordings pool their queries like two images.
        _ = try run(["stats", "--recording", rec, "--recording", rec, "--out", dir + "/s3"], env: noDemo)
        // Explorer and tour frames: the same as from the checkpoint (labels come from the file),
        // except that the explorer's Notes panel also shows the recording's note on the
        // relative-position buffers, which a live run shows only when they differ.
        for (cmd, extra) in [("explore", ["--size", "120x38"]), ("tour", ["--size", "120x38", "--step", "9"])] {
            let a = try frame(cmd, extra).split(separator: "\n", omittingEmptySubsequences: false)
            let b = try frame(cmd, recording: rec, extra, env: noDemo).split(separator: "\n", omittingEmptySubsequences: false)
            XCTAssertEqual(a.count, b.count, cmd)
            for (i, (x, y)) in zip(a, b).enumerated() where x != y {
                // The status line offers live interventions with a model, the exports without.
                if x.hasPrefix(" o paint occlusions") && y.hasPrefix(" ? help   e export this view") { continue }
                XCTAssertEqual(cmd, "explore", "tour line \(i): \(x) | \(y)")
                XCTAssertEqual(x.prefix(80), y.prefix(80), "explore line \(i): the picture and its scale agree")
                XCTAssertTrue(y.contains("Notes") || y.contains("buffers") || y.contains("geometry") || x.dropFirst(80).allSatisfy { $0 == " " },
                              "explore line \(i) differs only in the notes: \(y)")
            }
        }
    }

    func testRecordingFromFloat16() throws {
        let rec = try recordDemo("half.safetensors", extra: ["--dtype", "f16"])
        let header = try String(decoding: Data(contentsOf: URL(fileURLWithPath: rec)).prefix(8192), as: UTF8.self)
        XCTAssertTrue(header.contains(#""levels.2.blocks.0.attn.probs":{"dtype":"F16""#), header)
        let full = try recordDemo("full.safetensors")
        let a = try RecordingReader.read(path: rec), b = try RecordingReader.read(path: full)
        let m = try XCTUnwrap(a.stages[0].blocks[0].window), n = try XCTUnwrap(b.stages[0].blocks[0].window)
        XCTAssertEqual(m.probs, n.probs.map { Float(Float16($0)) })
        _ = try run(["export", "--recording", rec, "--out", dir + "/h", "--view", "local"], env: noDemo)
    }

    func testProvenanceNamesTheInputAndOnRequestTheCheckpointByHash() throws {
        let plain = try RecordingReader.read(path: try recordDemo("plain.safetensors")).provenance
        XCTAssertNil(plain.checkpoint?.sha256, "hashing the checkpoint is opt-in")
        XCTAssertEqual(plain.checkpoint?.path, dir + "/model.pth.tar")
        XCTAssertEqual(plain.input?.kind, "image")
        XCTAssertEqual(plain.input?.sha256?.count, 64)
        XCTAssertEqual(plain.preprocessing?.height, 224)
        XCTAssertEqual(plain.classNames, [], "no classes.txt beside the copied checkpoint")
        _ = try run(["record", "--out", dir + "/demo.safetensors"])
        let demo0 = try RecordingReader.read(path: dir + "/demo.safetensors").provenance
        XCTAssertEqual(demo0.classNames, ["different colours", "same colour"])
        XCTAssertEqual(demo0.checkpoint?.demo, true)
        XCTAssertEqual(plain.buffers, "stored")
        XCTAssertEqual(plain.interventions, [])
        let demo = try XCTUnwrap(Self.demoCheckpoint)
        let hashed = try RecordingReader.read(path: try recordDemo("hashed.safetensors", extra: ["--hash-checkpoint"])).provenance
        let sha = try run(["info", demo]).split(separator: "\n").first { $0.contains("sha256") }
        XCTAssertEqual(hashed.checkpoint?.sha256?.count, 64)
        XCTAssertTrue(sha?.contains(hashed.checkpoint?.sha256 ?? "-") ?? false, "\(String(describing: sha))")
    }

    func testARecordingAsInputFeedsItsRecordedInput() throws {
        // The one input reader's third kind: --input R feeds R's `input` (its maps are not read).
        let first = dir + "/first.safetensors", second = dir + "/second.safetensors"
        _ = try run(["record", "--out", first])
        _ = try run(["record", "--input", first, "--out", second])
        let a = try RecordingReader.read(path: first), b = try RecordingReader.read(path: second)
        XCTAssertEqual(b.input, a.input)
        XCTAssertEqual(b.logits, a.logits)
        XCTAssertEqual(b.provenance.input?.kind, "recording")
        XCTAssertNil(b.provenance.preprocessing, "fed as is")
    }

    func testBadRecordingsAndOptionClashesAreOneLine() throws {
        let rec = try recordDemo("demo.safetensors")
        func oneLine(_ args: [String], _ words: [String]) throws {
            let r = try runHatscope(args, env: noDemo)
            XCTAssertEqual(r.code, 1, "\(args): \(r.err)")
            XCTAssertEqual(r.err.split(separator: "\n").count, 1, r.err)
            XCTAssertTrue(r.err.hasPrefix("hatscope: "), r.err)
            for w in words { XCTAssertTrue(r.err.contains(w), "\(r.err) should mention \(w)") }
        }
        try oneLine(["export", "--recording", rec, "--checkpoint", "x.pth", "--out", dir + "/o"], ["--recording", "--checkpoint"])
        try oneLine(["explore", "--recording", rec, "--image", "x.png"], ["--input"])
        try oneLine(["stats", "--recording", rec, "--images", dir, "--out", dir + "/o"], ["--images"])
        try oneLine(["tour", "--recording", rec, "--model", "faster_vit_0_224"], ["--model"])
        try oneLine(["export", "--recording", rec, "--recording", rec, "--out", dir + "/o"], ["one recording"])
        try oneLine(["record", "--dtype", "f8", "--out", dir + "/x.safetensors"], ["--dtype"])
        // A truncated recording, a plain safetensors file, a folder.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: rec))
        try bytes.prefix(bytes.count - 100).write(to: URL(fileURLWithPath: dir + "/cut.safetensors"))
        try oneLine(["export", "--recording", dir + "/cut.safetensors", "--out", dir + "/o"], ["cut.safetensors", "not a hatscope recording"])
        try oneLine(["stats", "--recording", Self.fixtures + "/../../../HatModelTests/Fixtures/fixed224_ct2.expected.safetensors", "--out", dir + "/o"],
                    ["format=hatscope-recording"])
        try oneLine(["export", "--recording", dir, "--out", dir + "/o2"], ["not a regular file"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/x.safetensors"))
    }

    func testHostileMapValuesDrawWithoutCrashing() throws {
        // Shapes are checked when a recording opens; values are not (gigabytes), so every command
        // must draw maps full of NaN, infinities and negative numbers.
        // The demo's recording with every map's bytes overwritten in place.
        let bad = dir + "/hostile.safetensors"
        _ = try run(["record", "--out", bad])
        let hostile: [Float] = [.nan, .infinity, -.infinity, -3, 1e30, 0, 0.5]
        let header = try withExtendedLifetime(try MappedFile(path: bad)) { try SafeTensors.header($0.bytes, context: bad) }
        let file = try XCTUnwrap(FileHandle(forUpdatingAtPath: bad))
        for e in header.entries where e.name.hasSuffix(".probs") {
            let values = (0 ..< e.range.count / 4).map { hostile[$0 % hostile.count] }
            try file.seek(toOffset: UInt64(e.range.lowerBound))
            values.withUnsafeBytes { file.write(Data($0)) }
        }
        try file.close()
        _ = try run(["export", "--recording", bad, "--out", dir + "/x", "--montage"], env: noDemo)
        _ = try run(["stats", "--recording", bad, "--out", dir + "/s"], env: noDemo)
        // Every step of the tour (its --help says how many).
        for step in 1 ... (try tourStepCount()) { _ = try frame("tour", recording: bad, ["--size", "100x30", "--step", "\(step)"], env: noDemo) }
        for keys in ["", ">", ">>", ">>>", ">>>>", "m", "S", "T"] {
            _ = try frame("explore", recording: bad, ["--size", "100x30", "--keys", keys], env: noDemo)
        }
    }

    // MARK: - tools/record_torch.py

    /// Every tensor of `a` (record_torch.py) and `b` (hatscope record) within 1e-5 (relative to
    /// the tensor's largest magnitude when that exceeds 1), the same maps, the same architecture.
    func assertSameRecording(_ a: Recording, _ b: Recording, maps expected: Int, file: StaticString = #filePath, line: UInt = #line) {
        func close(_ x: [Float], _ y: [Float], _ what: String) {
            XCTAssertEqual(x.count, y.count, what, file: file, line: line)
            let scale = max(1, y.map(abs).max() ?? 0)
            let d = zip(x, y).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThanOrEqual(d, 1e-5 * scale, "\(what): max |diff| \(d)", file: file, line: line)
        }
        var c = a.config, d = b.config
        (c.name, c.cropPct, c.cropMode) = (d.name, d.cropPct, d.cropMode)  // naming and eval crop are not architecture
        XCTAssertEqual(c, d, file: file, line: line)
        XCTAssertEqual([a.inputHeight, a.inputWidth], [b.inputHeight, b.inputWidth], file: file, line: line)
        XCTAssertEqual(a.input, b.input, "the same input", file: file, line: line)
        close(a.logits, b.logits, "logits")
        for (x, y) in zip(a.convStages, b.convStages) { close(x.energy, y.energy, "levels.\(x.level).energy") }
        var maps = 0
        for (s, t) in zip(a.stages, b.stages) {
            XCTAssertEqual(s.propagation == nil, t.propagation == nil, file: file, line: line)
            if let p = s.propagation, let q = t.propagation { close(p, q, "levels.\(s.level) propagation") }
            XCTAssertEqual(s.blocks.count, t.blocks.count, file: file, line: line)
            for (j, (u, v)) in zip(s.blocks, t.blocks).enumerated() {
                for (m, n, kind) in [(u.window, v.window, "attn"), (u.carrier, v.carrier, "hat_attn")] {
                    XCTAssertEqual(m == nil, n == nil, "levels.\(s.level).blocks.\(j).\(kind)", file: file, line: line)
                    guard let m, let n else { continue }
                    close(m.probs, n.probs, "levels.\(s.level).blocks.\(j).\(kind).probs")
                    maps += 1
                }
            }
        }
        XCTAssertEqual(maps, expected, "maps compared", file: file, line: line)
    }

    /// The committed cases of tools/gen_recording_fixtures.py: name, factory, attention maps.
    static let torchCases = [("small", "faster_vit_0_any_res", 8), ("fixed", "faster_vit_0_224", 5)]

    func hatscopeRecording(_ name: String, dtype: String = "f32") throws -> Recording {
        let f = Self.fixtures
        let out = dir + "/hatscope-\(name)-\(dtype).safetensors"
        _ = try run(["record", "--checkpoint", f + "/\(name).pth.tar", "--config", f + "/\(name).kwargs.json",
                     "--input", f + "/\(name).input.npy", "--out", out, "--dtype", dtype], env: noDemo)
        return try RecordingReader.read(path: out)
    }

    func testCommittedPyTorchRecordingsMatchHatscope() throws {
        for (name, factory, maps) in Self.torchCases {
            let torch = try RecordingReader.read(path: Self.fixtures + "/\(name).recording.safetensors")
            XCTAssertTrue(torch.provenance.producer.hasPrefix("tools/record_torch.py (fastervit 1.0.0, torch 2.5.1)"), torch.provenance.producer)
            XCTAssertEqual(torch.provenance.buffers, "stored")
            XCTAssertEqual(torch.config.name, factory)
            assertSameRecording(torch, try hatscopeRecording(name), maps: maps)
            // And it draws: the explorer opens it without the model.
            let text = try frame("explore", recording: Self.fixtures + "/\(name).recording.safetensors", ["--size", "100x30"], env: noDemo)
            XCTAssertTrue(text.contains(factory), text)
        }
        // The any-res case: a non-square 4 x 6 carrier grid in level 2, a 1 x 2 window grid in level 3.
        let small = try RecordingReader.read(path: Self.fixtures + "/small.recording.safetensors")
        XCTAssertEqual([small.stages[0].carrierRows, small.stages[0].carrierCols, small.stages[1].windowCols], [4, 6, 2])
    }

    func testRecordTorchAgainstHatscopeLive() throws {
        guard let python = ProcessInfo.processInfo.environment["HATSCOPE_PYTHON"], FileManager.default.isExecutableFile(atPath: python) else {
            throw XCTSkip("HATSCOPE_PYTHON is not set: running tools/record_torch.py needs the pinned PyTorch environment "
                          + "(tools/setup_venv.sh); its committed recordings (Fixtures/torch_recording) are still compared")
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let f = Self.fixtures
        for (name, factory, maps) in Self.torchCases {
            for dtype in ["f32", "f16"] {
                let out = dir + "/torch-\(name)-\(dtype).safetensors"
                let p = Process()
                p.executableURL = URL(fileURLWithPath: python)
                p.currentDirectoryURL = URL(fileURLWithPath: root)
                p.arguments = ["tools/record_torch.py", "--model", factory, "--config", f + "/\(name).kwargs.json",
                               "--checkpoint", f + "/\(name).pth.tar", "--input", f + "/\(name).input.npy", "--out", out,
                               "--dtype", dtype, "--threads", "2"]
                let err = Pipe()
                p.standardError = err
                p.standardOutput = FileHandle.nullDevice
                try p.run()
                let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                p.waitUntilExit()
                XCTAssertEqual(p.terminationStatus, 0, text)
                let torch = try RecordingReader.read(path: out)
                XCTAssertEqual(torch.stages[0].blocks[0].window?.element, dtype == "f16" ? .float16 : .float32)
                if dtype == "f32" {
                    assertSameRecording(torch, try hatscopeRecording(name), maps: maps)
                    continue
                }
                // f16: both sides round their float32 values to the nearest half, so they agree
                // within 1e-5 up to one half-ulp where a value sits at a rounding boundary
                // (<= 2.5e-4 below 0.5).
                let ours = try hatscopeRecording(name, dtype: "f16")
                for (s, t) in zip(torch.stages, ours.stages) {
                    for (u, v) in zip(s.blocks, t.blocks) {
                        for (m, n) in [(u.window, v.window), (u.carrier, v.carrier)] {
                            guard let m, let n else { continue }
                            XCTAssertLessThanOrEqual(zip(m.probs, n.probs).map { abs($0 - $1) }.max() ?? 0, 5e-4, "\(name)")
                        }
                    }
                }
            }
        }
    }
}
