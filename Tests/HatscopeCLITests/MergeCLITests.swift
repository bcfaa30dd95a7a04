// `hatscope merge` against hostile parts through the real binary: a part from a stream is read
// once, a device or non-JSON part is refused at its first bytes, an OUT that holds another
// partial result (`hatscope merge parts/*`, OUT forgotten) or an unfinished run is refused and
// left as it was, and hand-edited partial.json files (huge or negative counts, impossible
// layouts, lists and indices) are one line each, never a crash or a hang.
import Foundation
import XCTest

final class MergeCLITests: XCTestCase {
    /// Three shards of `stats` over three demo images, made once for the class.
    nonisolated(unsafe) static var parts = ""
    var dir = ""

    override class func setUp() {
        super.setUp()
        guard let d = try? makeTemporaryFolder("hatmergeparts") else { return }
        let images = d + "/images"
        try? FileManager.default.createDirectory(atPath: images, withIntermediateDirectories: true)
        for n in [0, 3, 5] {
            try? FileManager.default.copyItem(atPath: OutputsE2ETests.demoImage(n), toPath: images + String(format: "/demo_%02d.png", n))
        }
        for k in 1 ... 3 {
            _ = try? runHatscope(["stats", "--images", images, "--batch", "1", "--shard", "\(k)/3", "--out", d + "/\(k)"])
        }
        parts = d
    }

    override class func tearDown() {
        try? FileManager.default.removeItem(atPath: parts)
        super.tearDown()
    }

    override func setUpWithError() throws {
        dir = try makeTemporaryFolder("hatmerge")
        for k in 1 ... 3 {
            XCTAssertTrue(FileManager.default.fileExists(atPath: Self.parts + "/\(k)/partial.json"), "shard \(k) was made")
        }
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    /// `hatscope args` killed after `seconds` (a hang fails the test instead of stalling the suite).
    func runBounded(_ args: [String], seconds: Int = 60) throws -> (code: Int32, out: String, err: String) {
        let r = try shell("timeout -s KILL \(seconds) \"$H\" " + args.map(shellQuoted).joined(separator: " "), timeout: Double(seconds + 30))
        XCTAssertNotEqual(r.code, 137, "hatscope \(args.joined(separator: " ")) did not end within \(seconds) s")
        return r
    }

    func partial(_ k: Int) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.parts + "/\(k)/partial.json"))
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    func write(_ object: [String: Any], to path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
    }

    func testAPartFromAStreamIsReadOnce() throws {
        let p = Self.parts
        let r = try shell("timeout -s KILL 60 \"$H\" merge \(shellQuoted(dir + "/m")) <(cat \(shellQuoted(p + "/1/partial.json"))) "
                          + "\(shellQuoted(p + "/2")) \(shellQuoted(p + "/3"))", timeout: 90)
        XCTAssertEqual(r.code, 0, "a part read through a pipe: \(r.err)")
        let whole = try runHatscope(["merge", dir + "/w", p + "/1", p + "/2", p + "/3"])
        XCTAssertEqual(whole.code, 0, whole.err)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir + "/m/stats.json")),
                       try Data(contentsOf: URL(fileURLWithPath: dir + "/w/stats.json")))
    }

    func testADeviceOrAnotherKindOfFileIsRefusedAtItsFirstBytes() throws {
        // /dev/zero never ends: it must be refused for what it starts with, not read to a size limit.
        assertOneLineFailure(try runBounded(["merge", dir + "/m", "/dev/zero"]), mentions: ["/dev/zero", "not a hatscope partial result"], "/dev/zero")
        assertOneLineFailure(try runBounded(["merge", dir + "/m", OutputsE2ETests.demoImage(0)]), mentions: ["not a hatscope partial result"], "a PNG")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/m"))
    }

    func testAnOutFolderHoldingAnotherPartialIsNotReplaced() throws {
        // `hatscope merge parts/*` forgets OUT: the first shard would become OUT and lose its part.
        for k in 1 ... 3 {
            try FileManager.default.copyItem(atPath: Self.parts + "/\(k)", toPath: dir + "/p\(k)")
        }
        let before = try Data(contentsOf: URL(fileURLWithPath: dir + "/p1/partial.json"))
        assertOneLineFailure(try runHatscope(["merge", dir + "/p1", dir + "/p2", dir + "/p3"]),
                             mentions: ["p1", "partial result", "not among the parts"], "OUT holds shard 1")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir + "/p1/partial.json")), before, "shard 1's part is kept")
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: dir + "/p1")), ["partial.json"])

        // Merging in steps into the same folder names it as a part too: allowed.
        XCTAssertEqual(try runHatscope(["merge", dir + "/acc", dir + "/p1", dir + "/p2"]).code, 0)
        let step = try runHatscope(["merge", dir + "/acc", dir + "/acc", dir + "/p3"])
        XCTAssertEqual(step.code, 0, step.err)
        XCTAssertFalse(step.err.contains("missing"), step.err)
    }

    func testAnOutFolderHoldingAnUnfinishedRunIsRefused() throws {
        try FileManager.default.createDirectory(atPath: dir + "/run/.hatscope-progress", withIntermediateDirectories: true)
        try Data("{}".utf8).write(to: URL(fileURLWithPath: dir + "/run/.hatscope-progress/progress.json"))
        assertOneLineFailure(try runHatscope(["merge", dir + "/run", Self.parts + "/1"]), mentions: ["unfinished run"], "progress in OUT")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/run"), [".hatscope-progress"])
    }

    func testHandEditedPartsAreOneLineNeverACrashOrAHang() throws {
        let huge = Int.max
        typealias Edit = (inout [String: Any]) -> Void
        func summary(_ d: inout [String: Any], _ f: (inout [String: Any]) -> Void) {
            var s = d["summary"] as! [String: Any]; f(&s); d["summary"] = s
        }
        func layoutStage(_ d: inout [String: Any], _ key: String, _ value: Any) {
            summary(&d) { s in
                var l = s["layout"] as! [String: Any]
                var stages = l["stages"] as! [[String: Any]]
                stages[0][key] = value
                l["stages"] = stages; s["layout"] = l
            }
        }
        func heads(_ d: inout [String: Any], _ f: (inout [String: Any]) -> Void) {
            summary(&d) { s in
                var hs = s["heads"] as! [[String: Any]]
                for i in hs.indices { f(&hs[i]) }
                s["heads"] = hs
            }
        }
        func list(_ d: inout [String: Any], _ key: String, _ value: Any) {
            var l = d["list"] as! [String: Any]; l[key] = value; d["list"] = l
        }
        // Alone, each edit must be refused; `withShard2` edits are also merged with an intact part.
        let cases: [(String, [String], Edit)] = [
            ("heads per stage negative", ["heads"], { layoutStage(&$0, "heads", -3) }),
            ("a billion blocks in a stage", ["blocks"], { layoutStage(&$0, "blocks", 1_000_000_000) }),
            ("a stage level 99", ["level"], { layoutStage(&$0, "level", 99) }),
            ("a head outside the layout", ["head"], { heads(&$0) { $0["head"] = 99 } }),
            ("no keys", ["keys"], { heads(&$0) { $0["keys"] = 0 } }),
            ("block size 0", ["block"], { list(&$0, "blockSize", 0) }),
            ("block size negative", ["block"], { list(&$0, "blockSize", -4) }),
            ("list count and blocks disagree", ["list"], { list(&$0, "count", 1_000_000_000_000) }),
            ("a covered index outside the list", ["outside"], { $0["covered"] = [[huge, "x.png"]] }),
            ("a covered index negative", ["outside"], { $0["covered"] = [[-1, "x.png"]] }),
        ]
        for (what, words, edit) in cases {
            var d = try partial(1)
            edit(&d)
            try write(d, to: dir + "/bad/partial.json")
            assertOneLineFailure(try runBounded(["merge", dir + "/m", dir + "/bad"]), mentions: words, what)
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/m"), "\(what): nothing written")
        }
        // Counts that only overflow when added to another part's.
        let overflows: [(String, Edit)] = [
            ("recordings near Int.max", { summary(&$0) { $0["recordings"] = huge } }),
            ("queries near Int.max", { heads(&$0) { $0["queries"] = huge } }),
            ("images near Int.max", { d in summary(&d) { $0["recordings"] = huge }; heads(&d) { $0["images"] = huge } }),
        ]
        for (what, edit) in overflows {
            var d = try partial(1)
            edit(&d)
            try write(d, to: dir + "/bad/partial.json")
            assertOneLineFailure(try runBounded(["merge", dir + "/m", Self.parts + "/2", dir + "/bad"]), mentions: ["bad"], what)
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/m"), "\(what): nothing written")
        }
    }
}
