// The two demo experiments of live interventions, driven with real keys in tmux on the real binary
// and the embedded demo model (demo_00.png: "different colours", a yellow triangle in window 3 and
// a green hexagon in window 0):
//   - cover one marked shape (o, the window brush, Space): the answer loses "different colours";
//   - cut the global carrier attention (carrier view, K twice): every carrier attends only to
//     itself (the carrier view goes diagonal) and the answer collapses to "same colour".
// Assertions read the side panel (prediction before -> after, interventions) and the carrier
// view's numbers.
import Foundation
import XCTest

final class LiveInterventionsE2ETests: XCTestCase {
    var tmux: TmuxServer!
    let session = "live"
    var work: String { tmux.work }
    let image = DemoTests.assets.appendingPathComponent("demo/images/demo_00.png").path

    override func setUpWithError() throws {
        guard ExploreE2ETests.demoAvailable else { throw XCTSkip("the demo assets are not beside the build") }
        tmux = try TmuxServer(tag: "live")
    }

    override func tearDownWithError() throws { tmux = nil }

    func start(_ extra: String = "") throws {
        let rc = work + "/rc"
        let cmd = "cd '\(work)' && TERM=xterm-256color '\(hatscopeBinary)' explore --image '\(image)' --export-dir '\(work)/figs' \(extra); echo $? > '\(rc)'; sleep 5"
        try tmux.start(session, width: 120, height: 40, cmd)
        try tmux.waitFor(session, "the first frame") { $0.contains("Prediction") && $0.contains("? help") }
    }

    func keys(_ k: String...) throws { try tmux.keys(session, k) }

    /// The prediction panel's before -> after rows: class -> (before %, after %, change).
    func predictions(_ screen: String) -> [String: (before: Double, after: Double, change: Double)] {
        let re = try! NSRegularExpression(pattern: "(\\d+\\.\\d)\u{2192}\\s*(\\d+\\.\\d)\\s+([+-]\\d+\\.\\d) (same colour|different colours)")
        var out: [String: (Double, Double, Double)] = [:]
        for m in re.matches(in: screen, range: NSRange(screen.startIndex..., in: screen)) {
            func g(_ i: Int) -> String { String(screen[Range(m.range(at: i), in: screen)!]) }
            out[g(4)] = (Double(g(1))!, Double(g(2))!, Double(g(3))!)
        }
        return out
    }

    /// Waits until the panel shows a finished run of `interventions` (no stale marker).
    @discardableResult
    func waitForRun(_ interventions: [String], _ what: String) throws -> String {
        try tmux.waitFor(session, what) { s in
            interventions.allSatisfy { s.contains($0) } && !s.contains("[stale") && !s.contains("running the model again")
                && predictions(s).count == 2 && s.contains(" interventions ")
        }
    }

    func has(_ screen: String, _ pattern: String) -> Bool {
        screen.range(of: pattern, options: .regularExpression) != nil
    }

    func quit() throws {
        try keys("q")
        XCTAssertEqual(tmux.waitForFile(work + "/rc"), "0")
    }

    func testCoveringOneMarkedShapeTakesAwayTheDifferentColoursAnswer() throws {
        try start()
        let first = try tmux.screen(session)
        XCTAssertTrue(first.contains("98.1% different colours"), first)
        // Painting on, brush grown to the window, Space: the triangle's window (3) is covered.
        try keys("o")
        try tmux.waitFor(session, "painting on") { $0.contains("painting occlusions") && $0.contains("stop painting") }
        try keys("]", "]", "Space")
        var s = try waitForRun(["--occlude-box 3:7-13,7-13"], "the run with the triangle covered")
        var p = predictions(s)
        XCTAssertEqual(p["different colours"]?.before, 98.1, "\(s)")
        XCTAssertLessThan(p["different colours"]?.after ?? 100, 10, s)
        XCTAssertLessThan(p["different colours"]?.change ?? 0, -85, s)
        XCTAssertGreaterThan(p["same colour"]?.after ?? 0, 90, s)
        // The first row (the most probable class now) is "same colour".
        let rows = s.split(separator: "\n").filter { $0.contains("\u{2192}") && ($0.contains("same colour") || $0.contains("different colours")) }
        XCTAssertTrue(rows.first?.contains("same colour") == true, "\(rows)")
        // Undo: the plain run again, at once (kept), no marker.
        try keys("u")
        try tmux.waitFor(session, "the plain prediction") { $0.contains("98.1% different colours") && !$0.contains(" interventions ") }
        // The other shape: the hexagon's window (0), the next window from 3.
        try keys("w", "Space")
        s = try waitForRun(["--occlude-box 3:0-6,0-6"], "the run with the hexagon covered")
        p = predictions(s)
        XCTAssertLessThan(p["different colours"]?.after ?? 100, 10, s)
        XCTAssertGreaterThan(p["same colour"]?.after ?? 0, 90, s)
        try quit()
    }

    func testCuttingGlobalCarrierAttentionMakesTheCarrierViewDiagonalAndTheAnswerCollapse() throws {
        try start()
        try keys("Tab")
        try tmux.waitFor(session, "the carrier view") { $0.contains("carrier | faster_vit_demo_224") }
        let before = try tmux.screen(session)
        XCTAssertFalse(has(before, "self attention +1\\.000"), "the intact carriers look at others")
        try keys("K")
        try waitForRun(["--cut-carriers levels.2"], "the first cut")
        try keys("K")
        let s = try waitForRun(["--cut-global levels.2"], "the global cut")
        XCTAssertFalse(s.contains("--cut-carriers"), "K replaces the stage's cut")
        let p = predictions(s)
        XCTAssertEqual(p["different colours"]?.before, 98.1, s)
        XCTAssertLessThan(p["different colours"]?.after ?? 100, 5, s)
        XCTAssertGreaterThan(p["same colour"]?.after ?? 0, 95, s)
        // Every carrier now gives all its attention to itself: the N x N matrix is the identity.
        for c in 0 ..< 16 {
            let screen = try tmux.waitFor(session, "carrier \(c)") { $0.contains("carrier  \(c) of 16") }
            XCTAssertTrue(has(screen, "self attention +1\\.000"), "carrier \(c):\n\(screen)")
            XCTAssertTrue(has(screen, "entropy \\(normalised\\) +0\\.000"), "carrier \(c):\n\(screen)")
            try keys("r")
        }
        // The difference view of the carrier view, and its PNG.
        try keys("d")
        try tmux.waitFor(session, "the difference view") { $0.contains("after - before: carrier") && $0.contains("after - before  stage") }
        try keys("e")
        let wrote = try tmux.waitFor(session, "the export") { $0.contains("wrote ") }
        let file = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: work + "/figs").first { $0.hasPrefix("diff_carrier_s3_b0_h0_c0") },
                                 wrote)
        XCTAssertGreaterThan(try Data(contentsOf: URL(fileURLWithPath: work + "/figs/" + file)).count, 1000)
        try quit()
    }

    func testCommandLineInterventionsAreTheFirstLiveOnesAndOnesThatDoNotApplyAreOneLine() throws {
        try start("--cut-global levels.2")
        let s = try waitForRun(["--cut-global levels.2"], "the command line's run")
        XCTAssertGreaterThan(predictions(s)["same colour"]?.after ?? 0, 95, s)
        try keys("U")
        try tmux.waitFor(session, "the plain run after U") { $0.contains("98.1% different colours") }
        try quit()
        // Refused before the screen is taken: one line, exit 1.
        let out = work + "/err"
        let rc2 = work + "/rc2"
        try tmux.start("bad", width: 100, height: 20,
                       "TERM=xterm-256color '\(hatscopeBinary)' explore --cut-global levels.3 2> '\(out)'; echo $? > '\(rc2)'; sleep 5")
        XCTAssertEqual(tmux.waitForFile(rc2), "1")
        let err = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        XCTAssertEqual(err.split(separator: "\n").count, 1, err)
        XCTAssertTrue(err.hasPrefix("hatscope: --cut-global levels.3: levels.3 has no carrier tokens"), err)
    }
}
