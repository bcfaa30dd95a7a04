// What the screen says about live interventions: the header's marker (a running model outranks a
// failure, which outranks a finished intervention run) and the before -> after rows (ordered by
// the run shown, ties by class index, the plain run compared with itself).
import XCTest
@testable import HatTUI

final class LiveStatusTests: XCTestCase {
    func testTheMarkerSaysTheMostUrgentState() {
        var s = LiveStatus(before: [0.5, 0.5])
        XCTAssertNil(s.marker, "the plain run at rest has no marker")
        s.shown = ["--cut-carriers levels.2"]
        XCTAssertEqual(s.marker, "interventions")
        s.failure = "not enough memory"
        XCTAssertEqual(s.marker, "run failed")
        s.stale = true
        XCTAssertEqual(s.marker, "running")
        s.shown = []; s.failure = nil
        XCTAssertEqual(s.marker, "running", "undoing to the plain run while a run is under way")
    }

    func testRowsFollowTheRunShownAndPairEachClassWithItsProbabilityBefore() {
        let s = LiveStatus(before: [0.6, 0.3, 0.1], after: [0.1, 0.2, 0.7], shown: ["--ablate-head levels.2.blocks.0.h0"])
        let rows = s.rows(2)
        XCTAssertEqual(rows.map(\.index), [2, 1])
        XCTAssertEqual(rows.map(\.before), [0.1, 0.3])
        XCTAssertEqual(rows.map(\.after), [0.7, 0.2])
        XCTAssertEqual(s.rows(10).count, 3, "never more rows than classes")
    }

    func testThePlainRunIsComparedWithItselfAndTiesKeepClassOrder() {
        let s = LiveStatus(before: [0.25, 0.25, 0.5, 0.0])
        let rows = s.rows(4)
        XCTAssertEqual(rows.map(\.index), [2, 0, 1, 3])
        for r in rows { XCTAssertEqual(r.before, r.after) }
    }

    func testAClassTheRunBeforeLackedHasNoProbabilityBefore() {
        let s = LiveStatus(before: [0.9], after: [0.4, 0.6])
        let rows = s.rows(2)
        XCTAssertEqual(rows.map(\.index), [1, 0])
        XCTAssertTrue(rows[0].before.isNaN)
        XCTAssertEqual(rows[1].before, 0.9)
    }
}
