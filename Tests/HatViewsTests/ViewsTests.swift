// Each view against hand-built recordings whose attention is known (one-hot, uniform), checking
// field values at their grid positions, strips and matrices, ranges, numbers and refusals.
import XCTest
import HatRecording
@testable import HatViews

final class ViewsTests: XCTestCase {
    typealias F = ViewFixture

    // Standard fixture, level 2: 4 x 4 tokens, windows 2 x 2 (window i = (row/2)*2 + col/2),
    // T = 5 (carrier slot 0 then 4 tokens), carrier k pooled from window k.

    func testLocalOneHotLandsOnItsCell() throws {
        let rec = F.recording(window: { _, _, _, _, k in k == 4 ? 1 : 0 })
        // Query (1,2): window 1, local token 2; every row is one-hot on key 4 = local token 3 = grid (1,3).
        let v = try Views.compute(.local, recording: rec, selection: Selection(level: 2, block: 0, head: 0, queryRow: 1, queryCol: 2))
        let f = try XCTUnwrap(v.field)
        XCTAssertEqual(f.rows, 4); XCTAssertEqual(f.cols, 4); XCTAssertEqual(f.cellSize, 16)
        XCTAssertEqual(f.values[1 * 4 + 3], 1)
        for (r, c) in [(0, 2), (0, 3), (1, 2)] { XCTAssertEqual(f.values[r * 4 + c], 0) }
        for (r, c) in [(0, 0), (1, 1), (2, 2), (3, 3)] { XCTAssertTrue(f.values[r * 4 + c].isNaN) }
        let strip = try XCTUnwrap(v.matrix)
        XCTAssertEqual(strip.rows, 1); XCTAssertEqual(strip.cols, 1); XCTAssertEqual(strip.values, [0])
        XCTAssertEqual(strip.colLabels, ["r0c1"])
        XCTAssertEqual(v.rangeMin, 0); XCTAssertEqual(v.rangeMax, 1)
        XCTAssertEqual(v.overlays.query, PixelRect(x0: 32, y0: 16, width: 16, height: 16))
        XCTAssertEqual(v.overlays.selectedWindow, PixelRect(x0: 32, y0: 0, width: 32, height: 32))
        XCTAssertEqual(v.overlays.highlightedBoxes, [PixelRect(x0: 32, y0: 0, width: 32, height: 32)])
        XCTAssertEqual(v.overlays.windowRects.count, 4)
        let numbers = Dictionary(uniqueKeysWithValues: v.numbers)
        XCTAssertEqual(numbers["share on carrier tokens"], "0.0%")
        XCTAssertEqual(numbers["entropy (normalised)"], "0.000")
        XCTAssertEqual(numbers["strongest key"], "token r1 c3")
        XCTAssertTrue(v.title.contains("stage 3") && v.title.contains("block 0") && v.title.contains("head 0")
                      && v.title.contains("window 1") && v.title.contains("tiny_test"), v.title)
        XCTAssertTrue((2 ... 3).contains(v.explanation.count))
    }

    func testLocalHeadMeanAndCarrierShare() throws {
        // Head 0 looks at token key 4, head 1 at the carrier (key 0): the mean splits 50/50.
        let rec = F.recording(window: { _, _, h, _, k in (h == 0 && k == 4) || (h == 1 && k == 0) ? 1 : 0 })
        let v = try Views.compute(.local, recording: rec, selection: Selection(level: 2, head: nil, queryRow: 0, queryCol: 0))
        XCTAssertEqual(v.field?.values[1 * 4 + 1], 0.5)
        XCTAssertEqual(v.matrix?.values, [0.5])
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: v.numbers)["share on carrier tokens"], "50.0%")
        XCTAssertTrue(v.title.contains("mean of heads"))
    }

    func testLocalQueryCanBeACarrierSlot() throws {
        // Row 0 (the carrier slot) attends only to itself; token rows are uniform.
        let rec = F.recording(window: { _, _, _, q, k in q == 0 ? (k == 0 ? 1 : 0) : 1 })
        let v = try Views.compute(.local, recording: rec,
                                  selection: Selection(level: 2, queryRow: 3, queryCol: 3, carrierSlot: 0))
        XCTAssertEqual(v.matrix?.values, [1])
        XCTAssertEqual(v.field?.values[3 * 4 + 3], 0)
        XCTAssertEqual(v.overlays.query, PixelRect(x0: 32, y0: 32, width: 32, height: 32), "query = carrier 3's pooling box")
        XCTAssertTrue(v.title.contains("carrier slot 0 (r1c1)"), v.title)
    }

    func testCarrierViewPaintsBoxesAndMatrix() throws {
        // Carrier 0's global attention is one-hot on carrier 3 (grid r1c1, box = bottom-right window).
        let rec = F.recording(carrier: { _, _, _, q, k in q == 0 ? (k == 3 ? 1 : 0) : 1 })
        let v = try Views.compute(.carrier, recording: rec, selection: Selection(level: 2, head: 1, carrier: 0))
        let f = try XCTUnwrap(v.field)
        for r in 0 ..< 4 {
            for c in 0 ..< 4 { XCTAssertEqual(f.values[r * 4 + c], r >= 2 && c >= 2 ? 1 : 0, "cell \(r),\(c)") }
        }
        let m = try XCTUnwrap(v.matrix)
        XCTAssertEqual(m.rows, 4); XCTAssertEqual(m.cols, 4); XCTAssertEqual(m.highlightRow, 0)
        XCTAssertEqual(m.rowLabels, ["r0c0", "r0c1", "r1c0", "r1c1"])
        XCTAssertEqual(Array(m.values[0 ..< 4]), [0, 0, 0, 1])
        XCTAssertEqual(Array(m.values[4 ..< 8]), [0.25, 0.25, 0.25, 0.25])
        XCTAssertEqual(v.overlays.highlightedBoxes, [PixelRect(x0: 0, y0: 0, width: 32, height: 32)])
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: v.numbers)["strongest carrier"], "r1c1")
    }

    func testCarrierOverlapsShowTheMeanOfCoveringBoxes() throws {
        // 6 x 6 tokens, w = 3, c = 2: 4 x 4 carriers, pooling stride 1 and kernel 3 (boxes overlap).
        let rec = F.recording(carrier: { _, _, _, _, k in Float(k + 1) }, config: F.config(window: 3, ctSize: 2), side: 96)
        XCTAssertEqual(rec.stages[0].carriers[1].box, PixelRect(x0: 16, y0: 0, width: 48, height: 48))
        let v = try Views.compute(.carrier, recording: rec, selection: Selection(level: 2, head: 0, carrier: 5))
        let p: [Float] = (1 ... 16).map { Float($0) / 136 }  // the normalised row
        let f = try XCTUnwrap(v.field)
        for y in 0 ..< 6 {
            for x in 0 ..< 6 {
                var s: Float = 0
                var n: Float = 0
                for gr in 0 ..< 4 where gr <= y && y < gr + 3 {
                    for gc in 0 ..< 4 where gc <= x && x < gc + 3 {
                        s += p[gr * 4 + gc]
                        n += 1
                    }
                }
                let want: Float = s / n
                XCTAssertEqual(f.values[y * 6 + x], want, accuracy: 1e-6, "cell \(y),\(x)")
            }
        }
    }

    func testCarrierViewRefusesStagesWithoutCarriers() {
        let rec = F.recording()
        XCTAssertThrowsError(try Views.compute(.carrier, recording: rec, selection: Selection(level: 3))) { e in
            guard case ViewError.notApplicable(let why) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(why.contains("hat = false"), why)
        }
        let k21 = F.recording(config: F.config(hat: [false, false, false, false]))
        XCTAssertThrowsError(try Views.compute(.carrier, recording: k21, selection: Selection(level: 2))) { e in
            XCTAssertTrue(String(describing: e).contains("21k"), "\(e)")
        }
        // Hierarchical attention on, but one window: nothing to carry.
        let one = F.recording(config: F.config(hat: [false, false, true, true]))
        XCTAssertThrowsError(try Views.compute(.carrier, recording: one, selection: Selection(level: 3))) { e in
            XCTAssertTrue(String(describing: e).contains("one window"), "\(e)")
        }
    }

    func testPropagationIsTheL2NormPerToken() throws {
        // Token i gets (3i/5, 4i/5, 0, ..., 0) over its 32 channels: norm i.
        var prop: [Float] = []
        for i in 0 ..< 16 { prop += [Float(3 * i) / 5, Float(4 * i) / 5] + Array(repeating: 0, count: 30) }
        let rec = F.recording(propagation: prop)
        let v = try Views.compute(.propagation, recording: rec, selection: Selection(level: 2))
        let f = try XCTUnwrap(v.field)
        for i in 0 ..< 16 { XCTAssertEqual(f.values[i], Float(i), accuracy: 1e-5) }
        XCTAssertEqual(v.rangeMin, 0); XCTAssertEqual(v.rangeMax, 15, accuracy: 1e-5)
        XCTAssertTrue(v.title.contains("block 1 (last)"), v.title)

        let off = F.recording(config: F.config(propagation: false))
        XCTAssertThrowsError(try Views.compute(.propagation, recording: off, selection: Selection(level: 2))) { e in
            XCTAssertTrue(String(describing: e).contains("do_propagation"), "\(e)")
        }
    }

    func testReachSpreadsCarrierMassOverTheBoxesItAttends() throws {
        // Query (0,0) sends everything to its carrier; carrier 0 attends only to carrier 3.
        let rec = F.recording(window: { _, _, _, _, k in k == 0 ? 1 : 0 },
                              carrier: { _, _, _, q, k in q == 0 ? (k == 3 ? 1 : 0) : 1 })
        let v = try Views.compute(.reach, recording: rec, selection: Selection(level: 2, head: 0, queryRow: 0, queryCol: 0))
        let f = try XCTUnwrap(v.field)
        for r in 0 ..< 4 { for c in 0 ..< 4 { XCTAssertEqual(f.values[r * 4 + c], r >= 2 && c >= 2 ? 0.25 : 0) } }
        XCTAssertEqual(f.values.reduce(0, +), 1, accuracy: 1e-6)
        let numbers = Dictionary(uniqueKeysWithValues: v.numbers)
        XCTAssertEqual(numbers["reach outside own window"], "100.0%")
        XCTAssertEqual(numbers["cells holding 90% of the mass"], "4 of 16")
    }

    func testReachAddsDirectAndSpreadMass() throws {
        // Half to the carrier, half to local token 3 (grid (1,1)); carriers attend uniformly.
        let rec = F.recording(window: { _, _, _, _, k in k == 0 || k == 4 ? 1 : 0 })
        let v = try Views.compute(.reach, recording: rec, selection: Selection(level: 2, head: nil, queryRow: 0, queryCol: 0))
        let f = try XCTUnwrap(v.field)
        XCTAssertEqual(f.values[1 * 4 + 1], 0.5 + 0.5 / 16, accuracy: 1e-6)
        XCTAssertEqual(f.values[3 * 4 + 0], 0.5 / 16, accuracy: 1e-6)
        XCTAssertEqual(f.values.reduce(0, +), 1, accuracy: 1e-5)
    }

    func testRolloutMatchesClosedFormForUniformAttention() throws {
        // A = U (uniform, T = 5): Â = 0.5 I + 0.5 U; Â² = 0.25 I + 0.75 U.
        let rec = F.recording()
        let sel0 = Selection(level: 2, block: 0, head: 0, queryRow: 1, queryCol: 1)
        let one = try XCTUnwrap(try Views.compute(.rollout, recording: rec, selection: sel0).field)
        XCTAssertEqual(one.values[1 * 4 + 1], 0.5 + 0.5 / 5, accuracy: 1e-6)
        XCTAssertEqual(one.values[0], 0.5 / 5, accuracy: 1e-6)
        var sel1 = sel0; sel1.block = 1
        let v = try Views.compute(.rollout, recording: rec, selection: sel1)
        let two = try XCTUnwrap(v.field)
        XCTAssertEqual(two.values[1 * 4 + 1], 0.25 + 0.75 / 5, accuracy: 1e-6)
        XCTAssertEqual(two.values[1], 0.75 / 5, accuracy: 1e-6)
        XCTAssertEqual(v.matrix?.values[0] ?? -1, 0.75 / 5, accuracy: 1e-6)
        XCTAssertTrue(two.values[2].isNaN)
        XCTAssertTrue(v.title.contains("blocks 0-1"), v.title)
    }

    func testRolloutOfIdentityAttentionStaysOnTheQuery() throws {
        let rec = F.recording(window: { _, _, _, q, k in q == k ? 1 : 0 })
        let f = try XCTUnwrap(try Views.compute(.rollout, recording: rec,
                                                selection: Selection(level: 2, block: 1, head: 1, queryRow: 2, queryCol: 1)).field)
        XCTAssertEqual(f.values[2 * 4 + 1], 1, accuracy: 1e-6)
        XCTAssertEqual(f.values[3 * 4 + 0], 0, accuracy: 1e-6)
    }

    func testMatrixIsTheRawWindowMatrix() throws {
        let rec = F.recording(window: { b, g, h, q, k in Float(1 + b + 2 * g + 3 * h + 5 * q + 7 * k) })
        let sel = Selection(level: 2, block: 1, head: 1, queryRow: 2, queryCol: 3)  // window 3, local 1 -> row 2
        let v = try Views.compute(.matrix, recording: rec, selection: sel)
        let m = try XCTUnwrap(v.matrix)
        let maps = try XCTUnwrap(rec.stages[0].blocks[1].window)
        XCTAssertEqual(m.rows, 5); XCTAssertEqual(m.markedRows, 1); XCTAssertEqual(m.markedCols, 1)
        XCTAssertEqual(m.highlightRow, 2)
        for q in 0 ..< 5 { for k in 0 ..< 5 { XCTAssertEqual(m.values[q * 5 + k], maps.at(3, 1, q, k)) } }
        // Carriers by their carrier-grid place, tokens by their place in the stage's grid (window
        // 3 holds rows 2-3, columns 2-3): the query's row reads as the title's "query r2 c3".
        XCTAssertEqual(m.rowLabels, ["ct r1c1", "r2c2", "r2c3", "r3c2", "r3c3"])
        XCTAssertEqual(m.colLabels, m.rowLabels)
        XCTAssertEqual(m.rowLabels[2], "r\(sel.queryRow)c\(sel.queryCol)")
        XCTAssertTrue(v.title.contains("r\(sel.queryRow) c\(sel.queryCol)"), v.title)
        XCTAssertNil(v.field)
        let plain = try XCTUnwrap(try Views.compute(.matrix, recording: rec, selection: Selection(level: 3)).matrix)
        XCTAssertEqual(plain.markedRows, 0); XCTAssertEqual(plain.rows, 4)
    }

    func testEnergyOnConvStagesOnly() throws {
        let rec = F.recording()
        let v = try Views.compute(.energy, recording: rec, selection: Selection(level: 0))
        let f = try XCTUnwrap(v.field)
        XCTAssertEqual(f.rows, 16); XCTAssertEqual(f.cellSize, 4)
        XCTAssertEqual(f.values, rec.convStages[0].energy)
        XCTAssertEqual(v.rangeMax, 1)
        XCTAssertThrowsError(try Views.compute(.energy, recording: rec, selection: Selection(level: 2)))
        XCTAssertThrowsError(try Views.compute(.local, recording: rec, selection: Selection(level: 1))) { e in
            XCTAssertTrue(String(describing: e).contains("convolutional"), "\(e)")
        }
    }

    func testInvalidSelectionsAreRefusedWithReasons() {
        let rec = F.recording()
        let bad: [(ViewKind, Selection)] = [
            (.local, Selection(level: 2, block: 2)), (.local, Selection(level: 2, head: 2)),
            (.local, Selection(level: 2, queryRow: 4)), (.carrier, Selection(level: 2, carrier: 4)),
            (.local, Selection(level: 2, carrierSlot: 1)), (.matrix, Selection(level: 5)),
        ]
        for (kind, sel) in bad {
            XCTAssertThrowsError(try Views.compute(kind, recording: rec, selection: sel)) { e in
                guard case ViewError.invalidSelection = e else { return XCTFail("\(kind) \(sel): \(e)") }
            }
        }
    }

    func testStatisticsHelpers() {
        XCTAssertEqual(ViewStats.normalizedEntropy([0.25, 0.25, 0.25, 0.25]), 1, accuracy: 1e-6)
        XCTAssertEqual(ViewStats.normalizedEntropy([1, 0, 0]), 0)
        XCTAssertEqual(ViewStats.range([.nan, 2, 5]).max, 5)
        XCTAssertEqual(ViewStats.range([3, 3]).min, 0)
        XCTAssertEqual(ViewStats.argmax([.nan, 1, 4, 2]), 2)
        XCTAssertEqual(ViewStats.count(holding: 0.9, of: [0.5, 0.3, 0.15, 0.05, .nan]), 3)
        XCTAssertEqual(ViewStats.count(holding: 0.9, of: [1, 0, 0]), 1)
    }
}
