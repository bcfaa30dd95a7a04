// Saliency maps and faithfulness metrics on synthetic recordings with known answers
// (faster_vit_0_224's geometry: stage 3 = 14 x 14 tokens, 2 x 2 windows of 7 x 7 with 4 carriers
// each, 4 x 4 carriers pooled by 5 x 5 boxes every 3 tokens; stage 4 = 7 x 7, one window).
import XCTest
import HatRecording
@testable import HatViews

final class SaliencyMapsTests: XCTestCase {
    let model0 = ModelConfig.preset(named: "faster_vit_0_224")!
    let model21k = ModelConfig.preset(named: "faster_vit_4_21k_224")!

    /// Every window query attends to the first token of its window (key c*c): that token receives
    /// everything in the last block; self-attention everywhere gives a flat rollout.
    func testReceivedAttentionAndRolloutHaveKnownValues() throws {
        let firstToken = SyntheticRecording.make(config: model0) { e in
            e.attention == .window ? (e.key == e.carrierKeys ? 1 : 0) : 1
        }
        let m = try SaliencyMaps.attention(.lastBlockStage3, firstToken)
        XCTAssertEqual(m.rows, 14); XCTAssertEqual(m.cols, 14)
        for r in 0 ..< 14 {
            for c in 0 ..< 14 {
                XCTAssertEqual(m.values[r * 14 + c], r % 7 == 0 && c % 7 == 0 ? 1 : 0, accuracy: 1e-6, "r\(r) c\(c)")
            }
        }
        // Self attention: Â = I in every block, R = I, each token's column averaged over 49 queries.
        let selfAttention = SyntheticRecording.make(config: model0) { e in e.key == e.query ? 1 : 0 }
        let rollout = try SaliencyMaps.attention(.rollout, selfAttention)
        XCTAssertTrue(rollout.values.allSatisfy { abs($0 - 1.0 / 49) < 1e-6 }, "\(rollout.values.prefix(5))")
        // One-hot to the first token in every block: rollout still ranks that token first.
        let r2 = try SaliencyMaps.attention(.rollout, firstToken)
        XCTAssertEqual(FaithfulnessMetrics.order(r2.values).prefix(4).sorted(), [0, 7, 98, 105])
        // Stage 4: the first token of its one window receives everything; it covers 2 x 2 stage-3 tokens.
        let s4 = try SaliencyMaps.attention(.lastBlockStage4, firstToken)
        XCTAssertEqual(s4.values.enumerated().filter { $0.element > 0.5 }.map(\.offset), [0, 1, 14, 15])
    }

    /// Every carrier attends to carrier 0 (box rows 0-4, cols 0-4): tokens in that box get 1
    /// divided by how many boxes hold them (boxes every 3 tokens, 5 wide, so some hold two).
    func testCarrierSaliencySpreadsOverPoolingBoxes() throws {
        let rec = SyntheticRecording.make(config: model0) { e in e.attention == .carrier ? (e.key == 0 ? 1 : 0) : 1 }
        let st = rec.stages[0]
        let m = try SaliencyMaps.attention(.carrier, rec)
        for r in 0 ..< 14 {
            for c in 0 ..< 14 {
                let rect = st.geometry.tokenRect(row: r, col: c)
                let holders = st.carriers.filter { b in
                    rect.centerX >= Double(b.box.x0) && rect.centerX < Double(b.box.x0 + b.box.width)
                        && rect.centerY >= Double(b.box.y0) && rect.centerY < Double(b.box.y0 + b.box.height)
                }
                let inFirst = holders.contains { $0.row == 0 && $0.col == 0 }
                XCTAssertEqual(m.values[r * 14 + c], inFirst ? 1 / Float(holders.count) : 0, accuracy: 1e-6, "r\(r) c\(c)")
            }
        }
        XCTAssertEqual(m.values[0], 1, "token r0 c0 lies in carrier 0's box only")
        XCTAssertThrowsError(try SaliencyMaps.attention(.carrier, SyntheticRecording.make(config: model21k))) { e in
            XCTAssertTrue("\(e)".contains("no carrier tokens"), "\(e)")
        }
    }

    func testRandomMapIsSeededPerImage() {
        let a = SaliencyMaps.random(rows: 14, cols: 14, seed: 3, index: 5)
        XCTAssertEqual(a, SaliencyMaps.random(rows: 14, cols: 14, seed: 3, index: 5))
        XCTAssertNotEqual(a, SaliencyMaps.random(rows: 14, cols: 14, seed: 3, index: 6))
        XCTAssertNotEqual(a, SaliencyMaps.random(rows: 14, cols: 14, seed: 4, index: 5))
        XCTAssertTrue(a.values.allSatisfy { $0 >= 0 && $0 < 1 })
        XCTAssertEqual(Set(a.values).count, 196, "no ties")
    }

    func testMetrics() {
        XCTAssertEqual(FaithfulnessMetrics.order([0.2, .nan, 0.9, 0.2, 1]), [4, 2, 0, 3, 1])
        XCTAssertEqual(FaithfulnessMetrics.counts(tokens: 196, steps: 28), (0 ... 28).map { $0 * 7 })
        XCTAssertEqual(FaithfulnessMetrics.counts(tokens: 10, steps: 4), [0, 2, 5, 7, 10])
        // A straight line from 1 to 0 has area 1/2; a step at the middle from 1 to 0 also.
        XCTAssertEqual(FaithfulnessMetrics.auc(x: [0, 0.5, 1], y: [1, 0.5, 0]), 0.5, accuracy: 1e-12)
        XCTAssertEqual(FaithfulnessMetrics.auc(x: [0, 0.25, 1], y: [1, 1, 1]), 1, accuracy: 1e-12)
        XCTAssertEqual(FaithfulnessMetrics.spearman([1, 2, 3, 4], [10, 20, 30, 40]), 1, accuracy: 1e-12)
        XCTAssertEqual(FaithfulnessMetrics.spearman([1, 2, 3, 4], [4, 3, 2, 1]), -1, accuracy: 1e-12)
        XCTAssertTrue(FaithfulnessMetrics.spearman([1, 1, 1], [1, 2, 3]).isNaN, "constant map")
        XCTAssertEqual(FaithfulnessMetrics.ranks([5, 1, 5, 3]), [3.5, 1, 3.5, 2])
        // Spearman with ties = Pearson of mean ranks: ranks (1.5, 1.5, 3) vs (1, 2, 3).
        XCTAssertEqual(FaithfulnessMetrics.spearman([0, 0, 1], [1, 2, 3]), 0.8660254037844386, accuracy: 1e-12)
        // Pointing: the top token r1 c2 of a 14-column grid at stride 16 has its centre at (40, 24).
        var v = [Float](repeating: 0, count: 196); v[16] = 1
        let map = SaliencyMap(rows: 14, cols: 14, values: v)
        XCTAssertTrue(FaithfulnessMetrics.pointingHit(map, stride: 16, boxes: [ObjectBox(x0: 30, y0: 20, x1: 50, y1: 30)]))
        XCTAssertTrue(FaithfulnessMetrics.pointingHit(map, stride: 16, boxes: [ObjectBox(x0: 54, y0: 0, x1: 80, y1: 10)]), "within 15 px")
        XCTAssertFalse(FaithfulnessMetrics.pointingHit(map, stride: 16, boxes: [ObjectBox(x0: 56, y0: 0, x1: 80, y1: 10)]))
    }

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
}
