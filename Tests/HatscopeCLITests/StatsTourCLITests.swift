// End-to-end tests of `hatscope stats` and `hatscope tour` through the built binary.
//
// The statistics are checked against Tests/StatsReference/<case>.json, computed by
// tools/gen_stats_reference.py from the OFFICIAL attention probabilities of the model parity
// fixtures, with the geometry pushed through the official windowing functions. So this checks the
// whole path: checkpoint -> our forward pass -> recording -> statistics -> stats.csv.
import Foundation
import XCTest

final class StatsTourCLITests: XCTestCase {
    /// The repository root (this file is Tests/HatscopeCLITests/<name>.swift).
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    func tempDir() throws -> String {
        let d = NSTemporaryDirectory() + "hatscope-stats-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: d) }
        return d
    }

    /// CSV rows as dictionaries keyed by the header.
    func readCSV(_ path: String) throws -> [[String: String]] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let lines = text.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        guard let header = lines.first else { return [] }
        return lines.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, $0)) }
    }

    func testStatsMatchTheOfficialAttentionOfEveryFixture() throws {
        // Relative tolerance 1e-4 (CSV keeps 6 significant digits; our attention matches the
        // official to ~1e-6). Shares near 0 are compared with an absolute floor of 1e-7.
        for name in ["fixed224_ct2", "anyres_pad", "anyres_4x6", "k21_style", "hat4_ls_noprop", "ct1_ls_prop"] {
            let out = try tempDir()
            let fixtures = root + "/Tests/HatModelTests/Fixtures/"
            let r = try runHatscope(["stats", "--checkpoint", fixtures + name + ".weights.safetensors",
                                     "--config", root + "/Tests/StatsReference/\(name).config.json",
                                     "--input", fixtures + name + ".expected.safetensors", "--out", out])
            XCTAssertEqual(r.code, 0, "\(name): \(r.err)")
            let rows = try readCSV(out + "/stats.csv")
            let data = try Data(contentsOf: URL(fileURLWithPath: root + "/Tests/StatsReference/\(name).json"))
            let ref = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: [String: [Any]]])
            XCTAssertEqual(rows.count, (ref["window"]?.count ?? 0) + (ref["carrier"]?.count ?? 0), name)
            for row in rows {
                let key = "\(row["level"]!)/\(row["block"]!)/\(row["head"]!)"
                let expected = try XCTUnwrap(ref[row["attention"]!]?[key], "\(name) \(key)")
                let columns = ["mean_distance_px", "normalized_entropy", "carrier_share", "padding_share"]
                for (i, col) in columns.enumerated() {
                    let got = row[col].flatMap(Double.init)
                    let want = expected[i] as? Double
                    XCTAssertEqual(got == nil, want == nil, "\(name) \(row["attention"]!) \(key) \(col): presence")
                    if let g = got, let w = want {
                        XCTAssertLessThanOrEqual(abs(g - w), 1e-4 * max(abs(w), 1e-3), "\(name) \(row["attention"]!) \(key) \(col): \(g) vs \(w)")
                    }
                }
                XCTAssertEqual(Int(row["queries"]!), expected[4] as? Int, "\(name) \(key) queries")
            }
            for chart in ["scatter_distance.png", "heatmap_window_distance.png", "stats.json"] {
                XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/" + chart), "\(name): \(chart)")
            }
        }
    }

    func testStatsParallelJobsGiveTheSameNumbers() throws {
        let fixtures = root + "/Tests/HatModelTests/Fixtures/"
        let input = fixtures + "fixed224_ct2.expected.safetensors"
        var csv: [String] = []
        for jobs in ["1", "2"] {
            let out = try tempDir()
            let r = try runHatscope(["stats", "--checkpoint", fixtures + "fixed224_ct2.weights.safetensors",
                                     "--config", root + "/Tests/StatsReference/fixed224_ct2.config.json",
                                     "--input", input, "--input", input, "--input", input, "--jobs", jobs, "--out", out])
            XCTAssertEqual(r.code, 0, r.err)
            XCTAssertTrue(r.out.contains("3 recording(s)"), r.out)
            csv.append(try String(contentsOfFile: out + "/stats.csv", encoding: .utf8))
        }
        XCTAssertEqual(csv[0], csv[1])
    }

    func testStatsUserErrorsAreOneLine() throws {
        let out = try tempDir()
        for args in [["stats", "--out", out],
                     ["stats", "--images", out + "/nope", "--out", out],
                     ["stats", "--images", out, "--out", out],
                     ["stats", "--image", "x.png", "--out", out, "--jobs", "-1"]] {
            let r = try runHatscope(args)
            XCTAssertNotEqual(r.code, 0, args.joined(separator: " "))
            XCTAssertFalse(r.err.contains("Fatal error"), r.err)
        }
        let empty = try runHatscope(["stats", "--images", out, "--out", out])
        XCTAssertTrue(empty.err.hasPrefix("hatscope: --images"), empty.err)
        XCTAssertEqual(empty.err.split(separator: "\n").count, 1, empty.err)
    }

    func testHelpStatesInputsOutputsAndExamples() throws {
        for sub in ["stats", "tour"] {
            let r = try runHatscope([sub, "--help"])
            XCTAssertEqual(r.code, 0)
            XCTAssertTrue(r.out.contains("Inputs:"), sub)
            XCTAssertTrue(r.out.contains("Examples:"), sub)
        }
        XCTAssertTrue(try runHatscope(["stats", "--help"]).out.contains("stats.csv"))
    }

    func testTourPrintsAFrameOfEachStep() throws {
        let n = try tourStepCount()
        for step in 1 ... n {
            let r = try shell("$D frame --screen tour --synthetic --size 120x40 --step \(step)")
            XCTAssertEqual(r.code, 0, r.err)
            XCTAssertTrue(r.out.contains("step \(step)/\(n)"), r.out)
        }
        let bad = try shell("$D frame --screen tour --synthetic --size 120x40 --step \(n + 1)")
        XCTAssertNotEqual(bad.code, 0)
    }

    func testTourWithoutATerminalSaysSo() throws {
        let r = try runHatscope(["tour"])
        XCTAssertEqual(r.code, 1)
        XCTAssertTrue(r.err.contains("needs a terminal"), r.err)
    }
}
