import Foundation
import XCTest
import HatRecording
@testable import HatViews
import HatImaging

// Known answers from synthetic recordings with the real geometry of faster_vit_0_224 (stage 3:
// 14 x 14 tokens of 16 px, 2 x 2 windows of 7 x 7, 4 x 4 carriers pooled by 5 x 5 boxes every 3
// tokens, T = 4 + 49 = 53) and of an any-res 256 input (stage 3 padded 16 -> 21).
final class HeadStatisticsTests: XCTestCase {
    let model0 = ModelConfig.preset(named: "faster_vit_0_224")!
    let model21k = ModelConfig.preset(named: "faster_vit_4_21k_224")!

    /// Window-local token index of a window-attention row/key (nil for a carrier slot).
    func local(_ e: SyntheticRecording.Entry) -> (q: Int?, k: Int?) {
        (e.query >= e.carrierKeys ? e.query - e.carrierKeys : nil, e.key >= e.carrierKeys ? e.key - e.carrierKeys : nil)
    }

    func testOneHotToColumnZeroGivesKnownDistance() {
        // Each window token attends only to the token in its window row at column 0: the distance
        // is (column) * stride, whose mean over columns 0...w-1 is (w-1)/2 * stride.
        let rec = SyntheticRecording.make(config: model0) { e in
            guard e.attention == .window else { return 1 }
            let (q, k) = local(e)
            let w = 7  // both stages of faster_vit_0_224 use 7 x 7 windows
            guard let q, let k else { return 0 }
            return k == (q / w) * w ? 1 : 0
        }
        let s = HeadStatistics.compute(rec)
        let stage3 = s.window.filter { $0.level == 2 }
        let stage4 = s.window.filter { $0.level == 3 }
        XCTAssertEqual(stage3.count, 6 * 8)  // 6 blocks x 8 heads
        XCTAssertEqual(stage4.count, 5 * 16)
        for st in stage3 {
            XCTAssertEqual(st.meanDistance, 3 * 16, accuracy: 1e-4)
            XCTAssertEqual(st.normalizedEntropy, 0, accuracy: 1e-6)
            XCTAssertEqual(st.carrierShare ?? -1, 0, accuracy: 1e-6)
            XCTAssertNil(st.paddingShare)
            XCTAssertEqual(st.queries, 196)  // every real token of the 4 windows, carriers excluded
            XCTAssertEqual(st.keys, 53)
        }
        for st in stage4 {
            XCTAssertEqual(st.meanDistance, 3 * 32, accuracy: 1e-4)
            XCTAssertNil(st.carrierShare)  // stage 4 is one window: no carriers
            XCTAssertEqual(st.keys, 49)
        }
    }

    func testUniformAttentionHasEntropyOne() {
        let s = HeadStatistics.compute(SyntheticRecording.make(config: model0))
        XCTAssertFalse(s.window.isEmpty)
        XCTAssertEqual(s.carrier.count, 6 * 8)
        for st in s.window + s.carrier { XCTAssertEqual(st.normalizedEntropy, 1, accuracy: 1e-5) }
        // Uniform over 53 keys of which 4 are carriers.
        for st in s.window where st.level == 2 { XCTAssertEqual(st.carrierShare ?? -1, 4.0 / 53, accuracy: 1e-5) }
    }

    func testAllMassOnCarriersGivesShareOne() {
        let rec = SyntheticRecording.make(config: model0) { e in
            e.attention == .window && e.key < e.carrierKeys ? 1 : (e.attention == .carrier ? 1 : 0)
        }
        let s = HeadStatistics.compute(rec)
        for st in s.window where st.level == 2 {
            XCTAssertEqual(st.carrierShare ?? -1, 1, accuracy: 1e-6)
            XCTAssertEqual(st.normalizedEntropy, log(4.0) / log(53.0), accuracy: 1e-5)
        }
    }

    func testCarrierAttentionDistanceBetweenPoolingBoxCentres() throws {
        // Every carrier attends only to carrier 0. Pooling boxes start every 3 tokens (48 px), so
        // carrier (i, j) is 48 * sqrt(i^2 + j^2) px from carrier 0.
        let rec = SyntheticRecording.make(config: model0) { e in
            e.attention == .carrier ? (e.key == 0 ? 1 : 0) : 1
        }
        let stage = try XCTUnwrap(rec.stages.first { $0.level == 2 })
        XCTAssertEqual(stage.carriers.count, 16)
        XCTAssertEqual(stage.carriers[0].box, PixelRect(x0: 0, y0: 0, width: 80, height: 80))
        var expected = 0.0
        for i in 0 ..< 4 { for j in 0 ..< 4 { expected += 48 * Double(i * i + j * j).squareRoot() } }
        expected /= 16
        let s = HeadStatistics.compute(rec)
        XCTAssertEqual(s.carrier.count, 48)
        for st in s.carrier {
            XCTAssertEqual(st.meanDistance, expected, accuracy: 1e-3)
            XCTAssertEqual(st.normalizedEntropy, 0, accuracy: 1e-6)
            XCTAssertNil(st.carrierShare)
            XCTAssertEqual(st.queries, 16)
        }
    }

    func testCarrierKeyDistanceUsesPoolingBoxCentre() throws {
        // Window 0's tokens attend only to its carrier slot 0 (box centre (40, 40) px); the tokens
        // sit at (8 + 16 c, 8 + 16 r), r, c in 0..<7.
        let rec = SyntheticRecording.make(config: model0) { e in
            e.attention == .window ? (e.key == 0 ? 1 : 0) : 1
        }
        let stage = try XCTUnwrap(rec.stages.first { $0.level == 2 })
        XCTAssertEqual(stage.windowCarriers[0].first, 0)
        XCTAssertEqual(stage.carriers[0].box.centerX, 40)
        // Each window's slot 0 is the top-left carrier pooled from it; sum the distances per window.
        var total = 0.0
        for win in 0 ..< 4 {
            let box = stage.carriers[stage.windowCarriers[win][0]].box
            for t in 0 ..< 49 {
                let p = stage.geometry.tokenPosition(window: win, local: t)
                let dx = Double(p.col * 16 + 8) - box.centerX, dy = Double(p.row * 16 + 8) - box.centerY
                total += (dx * dx + dy * dy).squareRoot()
            }
        }
        let s = HeadStatistics.compute(rec)
        for st in s.window where st.level == 2 {
            XCTAssertEqual(st.meanDistance, total / 196, accuracy: 1e-3)
            XCTAssertEqual(st.carrierShare ?? -1, 1, accuracy: 1e-6)
        }
    }

    func testPaddedQueriesExcludedAndPaddingShareReported() throws {
        // faster_vit_0 at 256: stage 3 is 16 x 16 tokens padded to 21 x 21 (3 x 3 windows).
        let rec = SyntheticRecording.make(config: model0, resolution: [256, 256])
        let stage = try XCTUnwrap(rec.stages.first { $0.level == 2 })
        XCTAssertEqual(stage.paddedHeight, 21)
        let s = HeadStatistics.compute(rec)
        let st = try XCTUnwrap(s.window.first { $0.level == 2 })
        XCTAssertEqual(st.queries, 256)
        // Uniform: padded share = mean over real queries of (padded keys in its window) / T.
        var expected = 0.0, n = 0.0
        for win in 0 ..< 9 {
            var pads = 0, real = 0
            for t in 0 ..< 49 {
                let p = stage.geometry.tokenPosition(window: win, local: t)
                if p.row < 16 && p.col < 16 { real += 1 } else { pads += 1 }
            }
            expected += Double(real) * Double(pads) / Double(stage.tokensPerWindow)
            n += Double(real)
        }
        XCTAssertEqual(st.paddingShare ?? -1, expected / n, accuracy: 1e-5)
        XCTAssertTrue(s.stages[0].padded)
    }

    /// Two recordings: every query attends to itself (0 px), or every window query to the first
    /// token of its window row.
    func nearAndFar() -> (Recording, Recording) {
        let near = SyntheticRecording.make(config: model0) { e in e.key == e.query ? 1 : 0 }
        let far = SyntheticRecording.make(config: model0) { e in
            guard e.attention == .window, let q = e.query >= e.carrierKeys ? e.query - e.carrierKeys : nil,
                  e.key >= e.carrierKeys else { return e.key == e.query ? 1 : 0 }
            return e.key - e.carrierKeys == (q / 7) * 7 ? 1 : 0
        }
        return (near, far)
    }

    func testAveragingPoolsQueriesOverRecordingsAndMergeAgrees() throws {
        let (near, far) = nearAndFar()
        var acc = HeadStatisticsAccumulator()
        try acc.add(near); try acc.add(far)
        let s = try XCTUnwrap(acc.statistics)
        XCTAssertEqual(s.recordings, 2)
        for st in s.window where st.level == 2 {
            XCTAssertEqual(st.meanDistance, 24, accuracy: 1e-4)
            XCTAssertEqual(st.queries, 392)
        }
        var a = HeadStatisticsAccumulator(), b = HeadStatisticsAccumulator()
        try a.add(near); try b.add(far); try a.merge(b)
        XCTAssertEqual(a.statistics, s)
    }

    /// Spreads: one recording whose queries attend to themselves (mean 0 px) and one whose
    /// queries look along their row: the spread over images is the sample standard deviation of
    /// the two per-image means.
    func testSpreadOverImagesAndQueries() throws {
        let (near, far) = nearAndFar()
        var acc = HeadStatisticsAccumulator()
        try acc.add(near); try acc.add(far)
        let s = try XCTUnwrap(acc.statistics)
        for st in s.window where st.level == 2 {
            XCTAssertEqual(st.images, 2)
            let a = HeadStatistics.compute(far).window.first { $0.level == 2 && $0.block == st.block && $0.head == st.head }!.meanDistance
            let b = HeadStatistics.compute(near).window.first { $0.level == 2 && $0.block == st.block && $0.head == st.head }!.meanDistance
            let sd = (((a - st.meanDistance) * (a - st.meanDistance) + (b - st.meanDistance) * (b - st.meanDistance)) / 1).squareRoot()
            XCTAssertEqual(try XCTUnwrap(st.distanceSpread.overImages), sd, accuracy: 1e-9)
            XCTAssertEqual(b, 0)
            XCTAssertGreaterThan(st.distanceSpread.overQueries, 0)
        }
        XCTAssertNil(HeadStatistics.compute(near).window[0].distanceSpread.overImages, "no spread over one image")
    }

    /// The sums are exact: any grouping of the same recordings (threads, shards, resumed runs)
    /// gives the same bits, and the accumulator survives its JSON form unchanged.
    func testGroupingDoesNotChangeABitAndTheSumsRoundTripThroughJSON() throws {
        let recs = (0 ..< 5).map { i in
            SyntheticRecording.make(config: model0) { e in
                // Different, irregular attention per recording (rows need not sum to 1 here).
                Float((e.key * 7 + e.query * 3 + i * 11) % 13) / 13
            }
        }
        var one = HeadStatisticsAccumulator()
        for r in recs { try one.add(r) }
        var parts = [HeadStatisticsAccumulator(), HeadStatisticsAccumulator(), HeadStatisticsAccumulator()]
        for (i, r) in recs.reversed().enumerated() { try parts[i % 3].add(r) }
        var merged = HeadStatisticsAccumulator()
        for p in [parts[2], parts[0], parts[1]] { try merged.merge(p) }
        XCTAssertEqual(merged, one)
        XCTAssertEqual(try XCTUnwrap(merged.statistics), try XCTUnwrap(one.statistics))
        let json = try JSONEncoder().encode(merged)
        let back = try JSONDecoder().decode(HeadStatisticsAccumulator.self, from: json)
        XCTAssertEqual(back, one)
        var bad = String(decoding: json, as: UTF8.self)
        bad = bad.replacingOccurrences(of: "\"recordings\":5", with: "\"recordings\":-1")
        XCTAssertThrowsError(try JSONDecoder().decode(HeadStatisticsAccumulator.self, from: Data(bad.utf8)))
    }

    func testCarrierOriginsFollowTheOfficialSwapQuirk() throws {
        // faster_vit_0 at 224 x 336: stage 3 is 14 x 21 tokens, 2 x 3 windows, a 4 x 6 carrier
        // grid. The official ct_window (height and width swapped) hands the windows these CTs;
        // the expected origins per block were printed by pushing grid indices through the
        // official ct_dewindow / ct_window (see tools/gen_stats_reference.py).
        let rec = SyntheticRecording.make(config: model0, resolution: [224, 336])
        XCTAssertEqual(rec.stages[0].windowCarriers, [[0, 1, 4, 5], [2, 3, 6, 7], [8, 9, 12, 13], [10, 11, 14, 15],
                                                      [16, 17, 20, 21], [18, 19, 22, 23]])
        let o = HeadStatisticsAccumulator.carrierOrigins(rec.stages[0])
        XCTAssertEqual(o[0], Array(0 ..< 24))
        XCTAssertEqual(o[1], [0, 1, 2, 3, 8, 9, 4, 5, 6, 7, 12, 13, 10, 11, 16, 17, 18, 19, 14, 15, 20, 21, 22, 23])
        XCTAssertEqual(o[2], [0, 1, 2, 3, 6, 7, 8, 9, 4, 5, 10, 11, 12, 13, 18, 19, 14, 15, 16, 17, 20, 21, 22, 23])
        // A square window grid hands every window its own carriers: nothing moves.
        let plain = SyntheticRecording.make(config: model0, resolution: [224, 224])
        XCTAssertTrue(HeadStatisticsAccumulator.carrierOrigins(plain.stages[0]).allSatisfy { $0 == Array(0 ..< 16) })
    }

    func testMismatchedRecordingsAreRejected() throws {
        var acc = HeadStatisticsAccumulator()
        try acc.add(SyntheticRecording.make(config: model0))
        XCTAssertThrowsError(try acc.add(SyntheticRecording.make(config: model0, resolution: [256, 256]))) { e in
            XCTAssertTrue(String(describing: e).contains("do not match"))
        }
        XCTAssertNil(HeadStatisticsAccumulator().statistics)
    }

    func testNoCarrierModelHasNoCarrierSeries() {
        let s = HeadStatistics.compute(SyntheticRecording.make(config: model21k))
        XCTAssertTrue(s.carrier.isEmpty)
        XCTAssertTrue(s.window.allSatisfy { $0.carrierShare == nil })
        XCTAssertEqual(s.window.filter { $0.level == 2 }.first?.keys, 196)  // one 14 x 14 window
        XCTAssertFalse(s.stages[0].hasCarriers)
    }

    func testMissingBlocksAreListed() {
        var rec = SyntheticRecording.make(config: model0)
        rec.stages[0].blocks[1].window = nil
        rec.stages[0].blocks[1].carrier = nil
        let s = HeadStatistics.compute(rec)
        XCTAssertFalse(s.window.contains { $0.level == 2 && $0.block == 1 })
        XCTAssertTrue(s.missing.contains("stage 3 block 1: window attention not recorded"))
        XCTAssertTrue(s.missing.contains("stage 3 block 1: carrier attention not recorded"))
    }

    func testCSVAndJSONCarryEveryHead() throws {
        let s = HeadStatistics.compute(SyntheticRecording.make(config: model0))
        let lines = s.csv().split(separator: "\n")
        XCTAssertEqual(lines.first.map(String.init), HeadStatistics.csvHeader)
        XCTAssertEqual(lines.count, 1 + s.window.count + s.carrier.count)
        XCTAssertEqual(lines.count, 1 + 48 + 80 + 48)
        XCTAssertTrue(lines[1].hasPrefix("window,3,2,0,0,0,"))
        let obj = try JSONSerialization.jsonObject(with: s.json()) as? [String: Any]
        XCTAssertEqual((obj?["window"] as? [Any])?.count, 128)
        XCTAssertEqual((obj?["carrier"] as? [Any])?.count, 48)
        XCTAssertEqual(obj?["model"] as? String, "faster_vit_0_224")
        XCTAssertNotNil((obj?["definitions"] as? [String: String])?["meanDistance"])
        // header, stage 3 (+ window, carrier), stage 4 (+ window), then what each number means
        let summary = s.textSummary()
        XCTAssertEqual(summary.count, 6 + 3)
        XCTAssertTrue(summary[6].hasPrefix("mean distance: Per query: sum over keys of probability x distance"), summary[6])
        XCTAssertTrue(summary[8].hasPrefix("carrier share: "), summary[8])
        XCTAssertEqual(HeadStatistics.compute(SyntheticRecording.make(config: model21k)).textSummary().filter { $0.hasPrefix("carrier share") }, [])
    }
}

final class StatsChartsTests: XCTestCase {
    func testChartsDrawEveryHeadAndExportNames() throws {
        let model = ModelConfig.preset(named: "faster_vit_0_224")!
        // Distance grows with head index so the dots and cells differ.
        let rec = SyntheticRecording.make(config: model) { e in
            e.attention == .window ? (e.key == e.carrierKeys + (e.head % 7) ? 1 : 0) : (e.key == e.head % 16 ? 1 : 0)
        }
        let stats = HeadStatistics.compute(rec)
        let charts = StatsCharts.all(stats, scale: 1)
        XCTAssertEqual(charts.map(\.name), [
            "scatter_distance.png", "scatter_entropy.png",
            "heatmap_window_distance.png", "heatmap_window_entropy.png", "heatmap_window_carrier_share.png",
            "heatmap_carrier_distance.png", "heatmap_carrier_entropy.png",
        ])
        for (_, img) in charts {
            XCTAssertGreaterThan(img.width, 200)
            XCTAssertGreaterThan(img.height, 150)
        }
        // The scatter contains the window-dot colour; the heatmap the colormap's top colour.
        let scatter = charts[0].image
        XCTAssertTrue(contains(scatter, StatsCharts.Style.windowDot, tolerance: 30))
        XCTAssertTrue(contains(scatter, StatsCharts.Style.carrierDot, tolerance: 30))
        let heat = charts[2].image
        let top = Colormap.viridis.rgb(1)
        XCTAssertTrue(contains(heat, top, tolerance: 3))
        // Enlargement is exact.
        let big = StatsCharts.scatter(stats, metric: .meanDistance, scale: 2)
        XCTAssertEqual(big.width, scatter.width * 2)
        if let dir = ProcessInfo.processInfo.environment["HATSCOPE_CHART_DIR"] {
            for (name, img) in charts { try ImageIO.writePNG(img, to: dir + "/" + name) }
        }
    }

    func testNiceTicks() {
        XCTAssertEqual(StatsCharts.niceCeiling(87), 100)
        XCTAssertEqual(StatsCharts.niceCeiling(0.3), 0.5)
        XCTAssertEqual(StatsCharts.niceTicks(0, 100, target: 6), [0, 20, 40, 60, 80, 100])
        XCTAssertEqual(StatsCharts.niceTicks(0, 1, target: 5), [0, 0.25, 0.5, 0.75, 1])
    }

    func contains(_ img: RGBImage, _ c: (UInt8, UInt8, UInt8), tolerance: Int) -> Bool {
        var i = 0
        while i < img.pixels.count {
            if abs(Int(img.pixels[i]) - Int(c.0)) <= tolerance && abs(Int(img.pixels[i + 1]) - Int(c.1)) <= tolerance
                && abs(Int(img.pixels[i + 2]) - Int(c.2)) <= tolerance { return true }
            i += 3
        }
        return false
    }
}
