// Faithfulness sums merged exactly, flags, the CSV/JSON report and the figures.
import XCTest
import HatRecording
@testable import HatViews

final class FaithfulnessSummaryTests: XCTestCase {
    /// Summaries add exactly whatever the grouping; flags follow the last step's mean correlation;
    /// the report carries every definition and every image.
    func testSummaryMergesExactlyAndReports() throws {
        func row(_ i: Int) -> FaithfulnessRow {
            let s = FaithfulnessScores(deletionAUC: 0.1 * Double(i) + 0.01, insertionAUC: 0.7 + 0.01 * Double(i),
                                       pointingHit: i % 2 == 0, sanity: [1, 0.9, 0.3 + 0.1 * Double(i)])
            let r = FaithfulnessScores(deletionAUC: 0.5, insertionAUC: 0.5, pointingHit: nil, sanity: [1, 1, 1])
            return FaithfulnessRow(classIndex: i % 2, className: i % 2 == 0 ? "a" : "b, c", probability: 0.9,
                                   sources: ["occlusion": s, "random": r])
        }
        let curves: [String: (deletion: [Double], insertion: [Double])] = ["occlusion": ([0.9, 0.5, 0.1], [0.1, 0.6, 0.9])]
        var one = FaithfulnessSummary(steps: 2, sanitySteps: ["head", "levels.3", "levels.2"])
        for i in 0 ..< 5 { one.add(row(i), curves: curves) }
        var a = FaithfulnessSummary(steps: 2, sanitySteps: ["head", "levels.3", "levels.2"]), b = a
        for i in [4, 1] { a.add(row(i), curves: curves) }
        for i in [3, 0, 2] { b.add(row(i), curves: curves) }
        var merged = FaithfulnessSummary()
        try merged.merge(b); try merged.merge(FaithfulnessSummary()); try merged.merge(a)
        XCTAssertEqual(merged, one)
        XCTAssertEqual(one.sources["occlusion"]?.pointingHits, 3)
        XCTAssertEqual(one.sources["occlusion"]?.pointingTrials, 5)
        XCTAssertEqual(one.sources["random"]?.pointingTrials, 0)
        XCTAssertEqual(one.flagged, [.occlusion, .random], "occlusion's last correlations average 0.5")
        var otherSteps = FaithfulnessSummary(steps: 3, sanitySteps: [])
        otherSteps.add(row(0), curves: [:])
        XCTAssertThrowsError(try merged.merge(otherSteps))

        let report = FaithfulnessReport(model: "m", inputHeight: 224, inputWidth: 224, tokens: 196, summary: one,
                                        rows: (0 ..< 5).map { .init(index: $0, name: "img\($0).png", row: row($0)) },
                                        skipped: [("bad.png", "corrupt")], coverage: [], seed: 0)
        let csv = report.csv().split(separator: "\n")
        XCTAssertEqual(csv.count, 1 + 10 + 2)
        XCTAssertTrue(csv[0].hasPrefix("image,index,source,class,class_name,probability,deletion_auc,insertion_auc,pointing_hit,sanity_head"))
        XCTAssertTrue(csv.contains { $0.hasPrefix("img1.png,1,occlusion,1,\"b, c\",") })
        XCTAssertTrue(csv.last?.hasPrefix("(mean of 5 images),,random") ?? false)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: report.json()) as? [String: Any])
        XCTAssertEqual((json["perImage"] as? [Any])?.count, 5)
        XCTAssertEqual(json["flagged"] as? [String], ["occlusion", "random"])
        let defs = try XCTUnwrap(json["definitions"] as? [String: String])
        for key in ["deletion", "insertion", "auc", "pointing", "sanity", "flagged", "removing a token"] { XCTAssertNotNil(defs[key], key) }
        let occ = try XCTUnwrap((json["sources"] as? [String: Any])?["occlusion"] as? [String: Any])
        XCTAssertEqual(occ["definition"] as? String, SaliencySource.occlusion.definition)
        XCTAssertEqual((occ["deletionCurve"] as? [Double])?.count, 3)
        // The figures draw every source and a legend (their pixels are checked by eye in the README).
        let curvesPNG = FaithfulnessCharts.curves(one, model: "m", tokens: 196, scale: 1)
        let sanityPNG = FaithfulnessCharts.sanity(one, model: "m", scale: 1)
        XCTAssertGreaterThan(curvesPNG.width, 600)
        XCTAssertGreaterThan(sanityPNG.height, 300)
        let orange = FaithfulnessCharts.color(.occlusion)
        XCTAssertTrue(stride(from: 0, to: curvesPNG.pixels.count, by: 3).contains {
            curvesPNG.pixels[$0] == orange.0 && curvesPNG.pixels[$0 + 1] == orange.1 && curvesPNG.pixels[$0 + 2] == orange.2
        }, "the occlusion curve is drawn")
    }

    /// Sums read from a hand-edited part: curves shorter than their steps (indexed when merged and
    /// reported) and counts that overflow when added are errors, never a trap, and a failed
    /// merge leaves the summary as it was.
    func testSumsThatCannotBeTrueAreRefusedWhenMerged() throws {
        let row = FaithfulnessRow(classIndex: 0, className: "a", probability: 0.9,
                                  sources: ["random": FaithfulnessScores(deletionAUC: 0.5, insertionAUC: 0.5, pointingHit: true, sanity: [1])])
        var good = FaithfulnessSummary(steps: 2, sanitySteps: ["head"])
        good.add(row, curves: ["random": ([0.9, 0.5, 0.1], [0.1, 0.6, 0.9])])

        var short = good
        short.sources["random"]?.deletionCurve.removeLast()
        for (first, second) in [(good, short), (short, good)] {
            var merged = first
            XCTAssertThrowsError(try merged.merge(second)) { XCTAssertTrue("\($0)".contains("statistics: faithfulness"), "\($0)") }
            XCTAssertEqual(merged, first)
        }
        var hits = good
        hits.sources["random"]?.pointingHits = 5
        var fresh = FaithfulnessSummary()
        XCTAssertThrowsError(try fresh.merge(hits), "more hits than trials")

        for edit in [{ (s: inout FaithfulnessSummary) in s.images = Int.max },
                     { $0.sources["random"]?.pointingTrials = Int.max; $0.sources["random"]?.pointingHits = 0 },
                     { $0.sources["random"]?.deletionCurve[1].count = Int.max }] {
            var huge = good
            edit(&huge)
            var merged = good
            XCTAssertThrowsError(try merged.merge(huge)) { XCTAssertTrue("\($0)".contains("counts too large"), "\($0)") }
            XCTAssertEqual(merged, good)
        }
    }
}
