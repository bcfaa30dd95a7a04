// Issue 16 on the real binary and the demo model: `stats --shard K/N` parts merged by `hatscope
// merge` give exactly the single run's files; merge refuses parts of other runs or overlapping
// parts with one line and reports missing shards; a run killed with SIGKILL at random moments and
// started again with the same command ends with the same result; another command into an
// unfinished run's folder is refused.
import Foundation
import XCTest

final class DatasetCLITests: XCTestCase {
    var dir = ""
    var images = ""
    override func setUpWithError() throws {
        dir = try makeTemporaryFolder("hatdata")
        images = dir + "/images"
        try FileManager.default.createDirectory(atPath: images, withIntermediateDirectories: true)
        for i in 0 ..< 12 {
            try FileManager.default.copyItem(atPath: OutputsE2ETests.demoImage(i), toPath: images + String(format: "/img_%02d.png", i))
        }
        // A corrupt image in the middle of the list: skipped with its reason, never the end of a run.
        try Data("not an image".utf8).write(to: URL(fileURLWithPath: images + "/img_05b.png"))
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func stats(_ out: String, _ extra: String = "") throws -> (code: Int32, out: String, err: String) {
        try shell("$H stats --images \(images) --out \(out) --batch 2 \(extra)")
    }

    func json(_ path: String) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
    }

    func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    func testShardsMergedGiveTheSingleRunToTheLastBit() throws {
        let single = try stats(dir + "/single")
        XCTAssertEqual(single.code, 0, single.err)
        for k in 1 ... 3 {
            let r = try stats(dir + "/part\(k)", "--shard \(k)/3")
            XCTAssertEqual(r.code, 0, r.err)
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/part\(k)"), ["partial.json"], "a shard writes its part only")
        }
        XCTAssertTrue(try json(dir + "/part2/partial.json")["skipped"].map { "\($0)".contains("img_05b.png") } ?? false,
                      "the shard holding the corrupt image lists it")
        let merged = try shell("$H merge \(dir)/merged \(dir)/part3 \(dir)/part1/partial.json \(dir)/part2")
        XCTAssertEqual(merged.code, 0, merged.err)
        XCTAssertEqual(merged.err, "")
        for file in ["stats.json", "stats.csv", "scatter_distance.png", "heatmap_window_distance.png"] {
            XCTAssertEqual(try bytes(dir + "/merged/" + file), try bytes(dir + "/single/" + file), file)
        }
        // The sums themselves: equal as exact values, hence to the last bit.
        let a = try json(dir + "/merged/partial.json"), b = try json(dir + "/single/partial.json")
        XCTAssertEqual(try JSONSerialization.data(withJSONObject: a["summary"]!, options: .sortedKeys),
                       try JSONSerialization.data(withJSONObject: b["summary"]!, options: .sortedKeys))
        XCTAssertEqual(a["covered"] as? [[Any]] != nil, true)
        XCTAssertEqual((a["covered"] as? [Any])?.count, 12)
        let s = try json(dir + "/single/stats.json")
        XCTAssertEqual(s["recordings"] as? Int, 12)
        XCTAssertEqual((s["skipped"] as? [[String: Any]])?.first?["input"] as? String, "img_05b.png")
    }

    func testMergeRefusesPartsOfOtherRunsAndReportsMissingShards() throws {
        for (k, batch) in [(1, 2), (3, 2)] { XCTAssertEqual(try stats(dir + "/p\(k)", "--shard \(k)/3 --batch \(batch)").code, 0) }
        XCTAssertEqual(try stats(dir + "/b3", "--shard 2/3 --batch 3").code, 0)
        let missing = try shell("$H merge \(dir)/m \(dir)/p1 \(dir)/p3")
        XCTAssertEqual(missing.code, 0, missing.err)
        XCTAssertEqual(missing.err, "hatscope: note: missing shard 2/3 (4 of 13 images not covered); the results cover the other shards only\n")
        XCTAssertEqual((try json(dir + "/m/stats.json")["coverage"] as? [String])?.first?.hasPrefix("missing shard 2/3"), true)

        assertOneLineFailure(try shell("$H merge \(dir)/x \(dir)/p1 \(dir)/b3"), mentions: ["different batch (2 vs 3)"], "other batch size")
        assertOneLineFailure(try shell("$H merge \(dir)/x \(dir)/p1 \(dir)/p1/partial.json"), mentions: ["overlap", "img_00.png"], "the same part twice")
        let root = DemoTests.assets.deletingLastPathComponent().path
        let other = try shell("$H stats --checkpoint \(root)/Tests/HatModelTests/Fixtures/fixed224_ct2.weights.safetensors "
                              + "--config \(root)/Tests/StatsReference/fixed224_ct2.config.json --images \(images) --out \(dir)/other --batch 2 --shard 2/3")
        XCTAssertEqual(other.code, 0, other.err)
        assertOneLineFailure(try shell("$H merge \(dir)/x \(dir)/p1 \(dir)/other"), mentions: ["different model configurations"], "another model")
        assertOneLineFailure(try shell("$H merge \(dir)/x \(images)/img_00.png"), mentions: ["not a hatscope partial result"], "a PNG")
        assertOneLineFailure(try shell("$H merge \(dir)/x \(dir)/nothing-here"), mentions: ["nothing-here"], "a missing part")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/x"), "a refused merge writes nothing")
    }

    /// Killed with SIGKILL at seeded random moments, then started again with the same command,
    /// until it finishes: the files are those of an uninterrupted run and no temporary is left.
    /// Each kill comes a random 0-120 ms after the run has saved progress (or after its start,
    /// once progress exists): in start-up, in a forward pass, or while progress is written.
    /// HATSCOPE_KILL_SEED replays a run's kill times.
    func testKilledAtRandomMomentsTheSameCommandEndsWithTheSameResult() throws {
        for copy in 1 ... 7 {
            for i in 0 ..< 12 {
                try FileManager.default.copyItem(atPath: OutputsE2ETests.demoImage(i), toPath: images + String(format: "/copy%d_%02d.png", copy, i))
            }
        }
        let command = "$H stats --images \(images) --out OUT --batch 2 --jobs 1"
        XCTAssertEqual(try shell(command.replacingOccurrences(of: "OUT", with: dir + "/clean") + " >/dev/null").code, 0)
        // A linear congruential sequence from the seed: the kill delays of a run can be replayed.
        var state = UInt64(ProcessInfo.processInfo.environment["HATSCOPE_KILL_SEED"] ?? "") ?? 16
        let out = dir + "/killed"
        var kills = 0, resumed = 0, finished = false
        for _ in 0 ..< 12 {
            let run = command.replacingOccurrences(of: "OUT", with: out) + " >/dev/null 2>\(dir)/err"
            let script: String
            if kills < 5 {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                let delay = String(format: "%.3f", Double((state >> 33) % 121) / 1000)
                script = """
                    \(run) & pid=$!
                    for i in $(seq 1 5000); do [ -f \(out)/.hatscope-progress/progress.json ] && break; kill -0 $pid 2>/dev/null || break; sleep 0.002; done
                    sleep \(delay); kill -9 $pid 2>/dev/null; wait $pid
                    """
            } else {
                script = run
            }
            let r = try shell(script)
            let err = (try? String(contentsOfFile: dir + "/err", encoding: .utf8)) ?? ""
            if err.contains("resuming an unfinished run") { resumed += 1 }
            if r.code == 137 { kills += 1; continue }
            XCTAssertEqual(r.code, 0, err)
            finished = true
            break
        }
        XCTAssertTrue(finished)
        XCTAssertGreaterThanOrEqual(kills, 3, "the run was interrupted")
        XCTAssertGreaterThanOrEqual(resumed, 2, "restarts continued saved progress")
        for file in ["stats.json", "stats.csv", "partial.json", "scatter_entropy.png"] {
            XCTAssertEqual(try bytes(out + "/" + file), try bytes(dir + "/clean/" + file), file)
        }
        let left = try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasPrefix(".") }
        XCTAssertEqual(left, [], "no progress and no temporary left")
    }

    /// An unfinished run's folder belongs to that run: another command into it is refused with one
    /// line and its progress is kept.
    func testAnotherCommandIntoAnUnfinishedRunIsRefused() throws {
        let out = dir + "/unfinished"
        // Stop the run as soon as its first block is saved.
        let r = try shell("""
            $H stats --images \(images) --out \(out) --batch 1 --jobs 1 >/dev/null 2>&1 & pid=$!
            for i in $(seq 1 2000); do [ -f \(out)/.hatscope-progress/progress.json ] && break; sleep 0.005; done
            kill -9 $pid; wait $pid; exit 0
            """)
        XCTAssertEqual(r.code, 0)
        guard FileManager.default.fileExists(atPath: out + "/.hatscope-progress/progress.json") else {
            throw XCTSkip("the run finished before it could be stopped")
        }
        assertOneLineFailure(try stats(out, "--shard 1/2"), mentions: ["unfinished run", "remove"], "another shard")
        assertOneLineFailure(try shell("$H faithfulness --images \(images) --out \(out) --sources random --sanity 0"),
                             mentions: ["unfinished run", "different commands (stats vs faithfulness)"], "another command")
        // Commands without progress of their own would mix their files with the run's.
        assertOneLineFailure(try shell("$H occlude --out \(out)"), mentions: ["unfinished run"], "occlude")
        assertOneLineFailure(try shell("$H export --out \(out)"), mentions: ["unfinished run"], "export")
        assertOneLineFailure(try shell("$H stats --recording /dev/null --out \(out)"), mentions: ["unfinished run"], "stats of recordings")
        assertOneLineFailure(try shell("$H stats --images \(images) --out \(out) --batch 1 --model faster_vit_0_224 --checkpoint /nonexistent"),
                             mentions: ["nonexistent"], "a failing command")
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/.hatscope-progress/progress.json"), "the progress is kept")
        let resumed = try shell("$H stats --images \(images) --out \(out) --batch 1 --jobs 1")
        XCTAssertEqual(resumed.code, 0, resumed.err)
        XCTAssertTrue(resumed.err.contains("resuming an unfinished run"), resumed.err)
    }

    func testSpecialFilesInTheFolderAreSkippedNeverWaitedFor() throws {
        // A FIFO named like an image (nobody writes to it) would block the decoding thread forever.
        XCTAssertEqual(mkfifo(images + "/img_06b.png", 0o644), 0)
        let r = try shell("timeout -s KILL 60 $H stats --images \(images) --out \(dir)/fifo --batch 2", timeout: 90)
        XCTAssertEqual(r.code, 0, r.err)
        XCTAssertTrue(r.err.contains("skipped img_06b.png: not a regular file (a FIFO)"), r.err)
        // --images naming something that is not a folder says so.
        assertOneLineFailure(try shell("$H stats --images \(images)/img_06b.png --out \(dir)/x"), mentions: ["not a folder"], "a FIFO as --images")
        assertOneLineFailure(try shell("$H stats --images \(images)/img_00.png --out \(dir)/x"), mentions: ["not a folder"], "a file as --images")
    }
}
