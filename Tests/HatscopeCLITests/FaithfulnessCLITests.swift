// `hatscope faithfulness` on demo images through the real binary: every file with its definitions,
// the pointing game from the sidecar boxes, the sanity check flagging the random map, and shards
// merged into exactly the single run's files.
import Foundation
import XCTest

final class FaithfulnessCLITests: XCTestCase {
    var dir = ""
    var images = ""
    override func setUpWithError() throws {
        dir = try makeTemporaryFolder("hatfaith")
        images = dir + "/images"
        try FileManager.default.createDirectory(atPath: images, withIntermediateDirectories: true)
        for i in [0, 5] {
            try FileManager.default.copyItem(atPath: OutputsE2ETests.demoImage(i), toPath: images + String(format: "/demo_%02d.png", i))
        }
        try FileManager.default.copyItem(atPath: DemoTests.assets.appendingPathComponent("demo/images/labels.json").path,
                                         toPath: images + "/labels.json")
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func json(_ path: String) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
    }

    func testEveryFileWithDefinitionsAndPointing() throws {
        let r = try runHatscope(["faithfulness", "--image", images + "/demo_05.png", "--images", images, "--out", dir + "/f",
                                 "--steps", "4", "--sanity", "0"])
        XCTAssertEqual(r.code, 0, r.err)
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: dir + "/f")),
                       ["faithfulness.csv", "faithfulness.json", "curves.png", "sanity.png", "partial.json"])
        let j = try json(dir + "/f/faithfulness.json")
        let sources = try XCTUnwrap(j["sources"] as? [String: [String: Any]])
        XCTAssertEqual(Set(sources.keys), ["occlusion", "rollout", "carrier", "last_block_stage3", "last_block_stage4", "random"])
        for (name, s) in sources {
            XCTAssertFalse((s["definition"] as? String ?? "").isEmpty, name)
            XCTAssertEqual((s["deletionCurve"] as? [Any])?.count, 5, name)
            let d = try XCTUnwrap((s["deletionAUC"] as? [String: Any])?["mean"] as? Double, name)
            XCTAssertTrue((0 ... 1).contains(d), "\(name): \(d)")
        }
        // The folder's sidecar names demo_00 and demo_05; the --image copy of demo_05 is named by its path.
        XCTAssertEqual((sources["random"]?["pointing"] as? [String: Double])?["trials"], 2)
        XCTAssertEqual(j["images"] as? Int, 3)
        let csv = try String(contentsOfFile: dir + "/f/faithfulness.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(csv.count, 1 + 3 * 6 + 6)
    }

    func testShardsMergeIntoTheSingleRun() throws {
        // Occlusion costs a copy per token: left out here (the test above runs it).
        let common = ["--images", images, "--steps", "4", "--sanity", "2", "--sources", "random,rollout,last_block_stage4"]
        XCTAssertEqual(try runHatscope(["faithfulness", "--out", dir + "/single"] + common).code, 0)
        for k in 1 ... 2 {
            let r = try runHatscope(["faithfulness", "--out", dir + "/p\(k)", "--shard", "\(k)/2"] + common)
            XCTAssertEqual(r.code, 0, r.err)
        }
        let m = try runHatscope(["merge", dir + "/merged", dir + "/p2", dir + "/p1"])
        XCTAssertEqual(m.code, 0, m.err)
        for f in ["faithfulness.json", "faithfulness.csv", "curves.png"] {
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir + "/merged/" + f)),
                           try Data(contentsOf: URL(fileURLWithPath: dir + "/single/" + f)), f)
        }
        let statsPart = try runHatscope(["stats", "--images", images, "--out", dir + "/st", "--shard", "1/2", "--batch", "2"])
        XCTAssertEqual(statsPart.code, 0, statsPart.err)
        assertOneLineFailure(try runHatscope(["merge", dir + "/x", dir + "/p1", dir + "/st"]), mentions: ["different commands"], "stats with faithfulness")
        let other = try runHatscope(["faithfulness", "--out", dir + "/other", "--shard", "2/2", "--images", images, "--steps", "4", "--sanity", "2", "--sources", "random"])
        XCTAssertEqual(other.code, 0, other.err)
        assertOneLineFailure(try runHatscope(["merge", dir + "/x", dir + "/p1", dir + "/other"]), mentions: ["different sources"], "other sources")
        let j = try json(dir + "/merged/faithfulness.json")
        let sources = try XCTUnwrap(j["sources"] as? [String: [String: Any]])
        XCTAssertEqual(Set(sources.keys), ["random", "rollout", "last_block_stage4"])
        // The sanity check: a map that ignores the weights is flagged; attention maps cannot
        // change when only the head is randomised.
        XCTAssertTrue((j["flagged"] as? [String] ?? []).contains("random"))
        let sanity = try XCTUnwrap(sources["random"]?["sanity"] as? [[String: Any]])
        XCTAssertEqual(sanity.map { $0["step"] as? String }, ["head", "levels.3", "levels.2", "levels.1", "levels.0", "patch_embed"])
        XCTAssertEqual(sanity.first?["count"] as? Int, 2)
        XCTAssertEqual(((sources["rollout"]?["sanity"] as? [[String: Any]])?.first?["meanSpearman"] as? Double) ?? 0, 1, accuracy: 1e-12)
        XCTAssertTrue(m.out.contains("FLAGGED"), m.out)
    }

    /// Killed with SIGKILL after it has saved progress (its per-image rows in the journal), then
    /// run again: the same files as an uninterrupted run.
    func testKilledAndRunAgainEndsWithTheSameFiles() throws {
        for i in 0 ..< 12 {
            for copy in 0 ..< 2 {
                try? FileManager.default.copyItem(atPath: OutputsE2ETests.demoImage(i), toPath: images + String(format: "/c%d_%02d.png", copy, i))
            }
        }
        let command = "$H faithfulness --images \(images) --steps 4 --sanity 0 --sources random,rollout --out OUT"
        XCTAssertEqual(try shell(command.replacingOccurrences(of: "OUT", with: dir + "/clean") + " >/dev/null").code, 0)
        let out = dir + "/killed"
        var kills = 0
        for delay in ["0.02", "0.05"] {
            let r = try shell("""
                \(command.replacingOccurrences(of: "OUT", with: out)) >/dev/null 2>&1 & pid=$!
                for i in $(seq 1 5000); do [ -f \(out)/.hatscope-progress/progress.json ] && break; kill -0 $pid 2>/dev/null || break; sleep 0.002; done
                sleep \(delay); kill -9 $pid 2>/dev/null; wait $pid
                """)
            if r.code == 137 { kills += 1 }
        }
        XCTAssertGreaterThanOrEqual(kills, 1, "the run was interrupted")
        let last = try shell(command.replacingOccurrences(of: "OUT", with: out))
        XCTAssertEqual(last.code, 0, last.err)
        XCTAssertTrue(last.err.contains("resuming an unfinished run"), last.err)
        for f in ["faithfulness.json", "faithfulness.csv", "partial.json"] {
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out + "/" + f)),
                           try Data(contentsOf: URL(fileURLWithPath: dir + "/clean/" + f)), f)
        }
    }
}
