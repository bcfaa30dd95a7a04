// Issue 17, items 8 and 13, on the real binary: absurd input sizes are refused by one validated
// limit, and sizes that would not fit in memory by an estimate made before allocating; NaN or
// infinite weights are found at load (which tensors, how many) and refused unless allowed, and
// values that go bad during the forward pass are traced to the first module that shows them.
import Foundation
import XCTest

final class LimitsAndWeightsE2ETests: XCTestCase {
    var dir = ""
    override func setUpWithError() throws { dir = try makeTemporaryFolder("hatlimits") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    /// The demo model's configuration (from a recording's metadata) with another resolution.
    func demoConfig(resolution: [Int]) throws -> String {
        let rec = dir + "/demo.safetensors"
        if !FileManager.default.fileExists(atPath: rec) {
            XCTAssertEqual(try shell("$H record --out \(rec)").code, 0)
        }
        let data = try Data(contentsOf: URL(fileURLWithPath: rec))
        let n = data.prefix(8).enumerated().reduce(0) { $0 | (Int($1.element) << (8 * $1.offset)) }
        let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8 ..< 8 + n)) as? [String: Any]
        let text = try XCTUnwrap((header?["__metadata__"] as? [String: String])?["config"])
        var config = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        config["resolution"] = resolution
        let path = dir + "/config-\(resolution[0]).json"
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Item 8: a resolution far past the limit is one line for every command, before any work.
    func testAbsurdResolutionsAreRefusedByOneLimit() throws {
        let config = try demoConfig(resolution: [100000, 100000])
        for c in ["predict", "record --out \(dir)/r.safetensors", "export --out \(dir)/figs", "stats --out \(dir)/st --image -",
                  "bench --repeat 1 --warmup 0", "info"] {
            let r = try shell("timeout 60 $H \(c) --config \(config) </dev/null", timeout: 90)
            assertOneLineFailure(r, mentions: ["4096"], c)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/figs"))
        // The explorer, in a terminal: the same line, the screen never taken.
        let tmux = try TmuxServer(tag: "limits")
        try tmux.start("x", "TERM=xterm-256color $H explore --config \(config) 2>\(dir)/err; echo $? > \(dir)/rc; sleep 20"
            .replacingOccurrences(of: "$H", with: shellQuoted(hatscopeBinary)))
        XCTAssertEqual(tmux.waitForFile(dir + "/rc", timeout: 30), "1")
        assertOneLineFailure((1, "", (try? String(contentsOfFile: dir + "/err", encoding: .utf8)) ?? ""), mentions: ["4096"], "explore")
    }

    /// Item 8: a size within the limit that does not fit in the memory this process may use is
    /// refused from the estimate, not by the allocator.
    func testSizesBeyondTheMemoryAvailableAreRefusedBeforeAllocating() throws {
        let config = try demoConfig(resolution: [4096, 4096])
        // The demo at 4096 x 4096 peaks near 0.8 GB resident (1.3 GB estimated); 1.2 GB of address
        // space is not enough.
        let r = try shell("(ulimit -v 1200000; timeout 60 $H predict --config \(config))", timeout: 90)
        assertOneLineFailure(r, mentions: ["needs about", "available"], "4096 x 4096 under a 1.2 GB limit")
    }

    /// Rewrites element `index` of tensor `name` in a safetensors file (float32) to `value`.
    func patch(_ path: String, _ name: String, index: Int, to value: Float) throws {
        var data = try Data(contentsOf: URL(fileURLWithPath: path))
        let n = data.prefix(8).enumerated().reduce(0) { $0 | (Int($1.element) << (8 * $1.offset)) }
        let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8 ..< 8 + n)) as? [String: Any]
        let entry = try XCTUnwrap(header?[name] as? [String: Any], name)
        let start = try XCTUnwrap((entry["data_offsets"] as? [Int])?.first) + 8 + n + index * 4
        withUnsafeBytes(of: value.bitPattern.littleEndian) { data.replaceSubrange(start ..< start + 4, with: $0) }
        try data.write(to: URL(fileURLWithPath: path))
    }

    /// Item 13: NaN / infinite weights are named by `info` (exit 1) and refused by the commands
    /// unless --allow-nonfinite; then `predict --json` stays valid JSON (null for NaN).
    func testNonFiniteWeightsAreFoundAtLoad() throws {
        let ckpt = dir + "/nan.safetensors"
        XCTAssertEqual(try shell("$H convert \(shellQuoted(DemoTests.assets.appendingPathComponent("demo/fastervit_demo.pth.tar").path)) \(ckpt)").code, 0)
        try patch(ckpt, "head.weight", index: 0, to: .nan)
        try patch(ckpt, "head.weight", index: 1, to: .infinity)
        let info = try shell("$H info \(ckpt)")
        XCTAssertEqual(info.code, 1)
        XCTAssertTrue(info.out.contains("NON-FINITE") && info.out.contains("head.weight: 1 NaN, 1 infinite"), info.out)
        XCTAssertFalse(info.out.contains("values        all finite"))
        assertOneLineFailure((info.code, "", info.err), mentions: ["non-finite"], "info")
        for c in ["predict", "record --out \(dir)/r.safetensors", "export --out \(dir)/figs", "stats --out \(dir)/st --image -"] {
            let r = try shell("$H \(c) --checkpoint \(ckpt) </dev/null")
            let first = r.err.split(separator: "\n").first.map(String.init) ?? ""
            XCTAssertEqual(r.code, 1, c)
            XCTAssertTrue(first.hasPrefix("hatscope: ") && first.contains("non-finite") && first.contains("--allow-nonfinite"), "\(c): \(r.err)")
            XCTAssertTrue(r.err.contains("head.weight: 1 NaN, 1 infinite"), "\(c): the detail names the tensor: \(r.err)")
        }
        let allowed = try shell("$H predict --checkpoint \(ckpt) --allow-nonfinite --json")
        XCTAssertEqual(allowed.code, 0, allowed.err)
        let json = try JSONSerialization.jsonObject(with: Data(allowed.out.utf8)) as? [String: Any]
        let logits = ((json?["results"] as? [[String: Any]])?.first?["logits"] as? [Any]) ?? []
        XCTAssertEqual(logits.count, 2)
        XCTAssertTrue(logits.contains { $0 is NSNull }, "NaN logits are null: \(allowed.out)")
        XCTAssertTrue(allowed.err.contains("hatscope: note:"), allowed.err)
    }

    /// Item 13: finite weights so large that the forward pass overflows: the error names the
    /// first module whose output holds the bad values.
    func testNonFiniteActivationsNameTheFirstModule() throws {
        let ckpt = dir + "/huge.safetensors"
        XCTAssertEqual(try shell("$H convert \(shellQuoted(DemoTests.assets.appendingPathComponent("demo/fastervit_demo.pth.tar").path)) \(ckpt)").code, 0)
        for i in 0 ..< 64 { try patch(ckpt, "levels.2.blocks.0.attn.qkv.weight", index: i, to: 3e38) }
        let r = try shell("$H predict --checkpoint \(ckpt)")
        assertOneLineFailure(r, mentions: ["levels.2.blocks.0.attn", "first seen"], "overflowing weights")
        let allowed = try shell("$H predict --checkpoint \(ckpt) --allow-nonfinite --json")
        XCTAssertEqual(allowed.code, 0, allowed.err)
        XCTAssertTrue(allowed.err.contains("levels.2.blocks.0.attn"), allowed.err)
    }
}
