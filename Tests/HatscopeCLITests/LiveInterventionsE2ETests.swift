// The two demo experiments of live interventions, driven with real keys in tmux on the real binary
// and the embedded demo model:
//   - cover one marked shape (o, the window brush, Space) on demo_05.png ("same colour", a blue
//     square in window 1 and a blue circle in window 2): the answer loses "same colour";
//   - cut the global carrier attention (carrier view, K twice) on demo_00.png ("different
//     colours", a yellow triangle in window 3 and a green hexagon in window 0): every carrier
//     attends only to itself (the carrier view goes diagonal) and the answer collapses to "same colour".
// Assertions read the side panel (prediction before -> after, interventions) and the carrier
// view's numbers.
import Foundation
import XCTest

final class LiveInterventionsE2ETests: XCTestCase {
    var tmux: TmuxServer!
    let session = "live"
    var work: String { tmux.work }
    let image = DemoTests.assets.appendingPathComponent("demo/images/demo_00.png").path
    let sameColourImage = DemoTests.assets.appendingPathComponent("demo/images/demo_05.png").path

    override func setUpWithError() throws {
        guard ExploreE2ETests.demoAvailable else { throw XCTSkip("the demo assets are not beside the build") }
        tmux = try TmuxServer(tag: "live")
    }

    override func tearDownWithError() throws { tmux = nil }

    func start(_ extra: String = "", image: String? = nil) throws {
        let rc = work + "/rc"
        let cmd = "cd '\(work)' && TERM=xterm-256color '\(hatscopeBinary)' explore --image '\(image ?? self.image)' --export-dir '\(work)/figs' \(extra); echo $? > '\(rc)'; sleep 5"
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

    func testCoveringOneMarkedShapeTakesAwayTheSameColourAnswer() throws {
        try start(image: sameColourImage)
        let first = try tmux.screen(session)
        XCTAssertTrue(first.contains("98.1% same colour"), first)
        // Painting on, brush grown to the window; the explorer opens on window 3 (no shape): two
        // steps to window 1, the square's, and Space covers it.
        try keys("o")
        try tmux.waitFor(session, "painting on") { $0.contains("painting occlusions") && $0.contains("stop painting") }
        try keys("]", "]", "w", "w", "Space")
        var s = try waitForRun(["--occlude-box 3:0-6,7-13"], "the run with the square covered")
        var p = predictions(s)
        XCTAssertEqual(p["same colour"]?.before, 98.1, "\(s)")
        // A whole window of the mean colour: "same colour" loses first place (34.8 %; the tighter
        // box over the square's ring alone gives 3.6 %, InterventionsCLITests).
        XCTAssertLessThan(p["same colour"]?.after ?? 100, 45, s)
        XCTAssertLessThan(p["same colour"]?.change ?? 0, -55, s)
        XCTAssertGreaterThan(p["different colours"]?.after ?? 0, 55, s)
        // The first row (the most probable class now) is "different colours".
        let rows = s.split(separator: "\n").filter { $0.contains("\u{2192}") && ($0.contains("same colour") || $0.contains("different colours")) }
        XCTAssertTrue(rows.first?.contains("different colours") == true, "\(rows)")
        // Undo: the plain run again, at once (kept), no marker.
        try keys("u")
        try tmux.waitFor(session, "the plain prediction") { $0.contains("98.1% same colour") && !$0.contains(" interventions ") }
        // The other shape: the circle's window (2), the next window from 1.
        try keys("w", "Space")
        s = try waitForRun(["--occlude-box 3:7-13,0-6"], "the run with the circle covered")
        p = predictions(s)
        XCTAssertLessThan(p["same colour"]?.after ?? 100, 45, s)
        XCTAssertGreaterThan(p["different colours"]?.after ?? 0, 55, s)
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
        XCTAssertEqual(p["different colours"]?.before, 97.4, s)
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
        try tmux.waitFor(session, "the plain run after U") { $0.contains("97.4% different colours") }
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

    /// A run under way (the developer tool's drawn scene with runs of 2 s, so the moments are
    /// certain) while the window is resized, the explorer suspended and continued, and then
    /// quit: the marker stays until the run is in and is cleared then; q gives the terminal back
    /// at once, before the last run has ended (it waited for the run with the screen frozen).
    func testARunUnderWaySurvivesResizeAndSuspendAndQGivesTheTerminalBackAtOnce() throws {
        let pidFile = work + "/pid"
        try tmux.start("slow", width: 120, height: 40, "env PS1='$ ' bash --norc --noprofile -i")
        try tmux.waitFor("slow", "the shell") { $0.contains("$") }
        try tmux.keys("slow", ["sh -c 'echo $$ > \(pidFile); exec env TERM=xterm-256color NO_COLOR= \(hatscopeDevBinary) explore "
                               + "--synthetic --slow-run-ms 2000'", "Enter"])
        func header(_ s: String) -> String { String(s.split(separator: "\n").first ?? "") }
        try tmux.waitFor("slow", "the first frame", timeout: 30) { $0.contains("Prediction") && $0.contains("? help") }
        try tmux.keys("slow", ["x"])
        try tmux.waitFor("slow", "the running marker") { header($0).contains("running") && $0.contains("[stale: re-running]") }
        // Resized while it runs: drawn again at the new size, still marked.
        try tmux.run(["resize-window", "-t", "slow", "-x", "100", "-y", "32"])
        try tmux.waitFor("slow", "the frame at 100 x 32") { s in
            let lines = s.split(separator: "\n", omittingEmptySubsequences: false)
            return lines.count <= 33 && header(s).contains("running") && s.contains("? help")
        }
        // Suspended while it runs: the shell gets the terminal; fg: the screen again.
        try tmux.keys("slow", ["C-z"])
        try tmux.waitFor("slow", "the shell after Ctrl-Z") { $0.contains("Stopped") }
        XCTAssertEqual(try tmux.format("slow", "alternate_on"), "0")
        try tmux.keys("slow", ["fg", "Enter"])
        // The run comes in: the marker and the stale title are gone, the run's time is shown.
        let done = try tmux.waitFor("slow", "the finished run", timeout: 60) {
            !header($0).contains("running") && !$0.contains("[stale") && $0.contains("--ablate-head levels.2.blocks.0.attn:0")
                && $0.range(of: #"ran in \d+ ms"#, options: .regularExpression) != nil
        }
        XCTAssertEqual(try tmux.format("slow", "alternate_on"), "1", done)
        // Another run, and q while it is under way: the terminal is the shell's within a moment,
        // the process ends once the run is done, with status 0.
        try tmux.keys("slow", ["n"])
        try tmux.waitFor("slow", "head 1") { $0.contains("head 1") }
        try tmux.keys("slow", ["x"])
        try tmux.waitFor("slow", "the second run") { header($0).contains("running") }
        let pid = try XCTUnwrap(Int32((try String(contentsOfFile: pidFile, encoding: .utf8)).trimmingCharacters(in: .whitespacesAndNewlines)))
        try tmux.keys("slow", ["q"])
        let deadline = Date().addingTimeInterval(0.8)
        while Date() < deadline, (try? tmux.format("slow", "alternate_on")) != "0" { Thread.sleep(forTimeInterval: 0.05) }
        XCTAssertEqual(try tmux.format("slow", "alternate_on"), "0", "q gives the screen back at once")
        XCTAssertEqual(try tmux.format("slow", "mouse_any_flag"), "0")
        XCTAssertEqual(kill(pid, 0), 0, "the run was still under way (the test needs a slow forward)")
        // Ctrl-Z while the run finishes stops the process plainly; after fg it ends and the
        // terminal stays the shell's (ncurses' own handler took the screen again and left it so).
        try tmux.keys("slow", ["C-z"])
        try tmux.waitFor("slow", "the job stopped after q") { $0.contains("Stopped") }
        try tmux.keys("slow", ["fg", "Enter"])
        try tmux.waitFor("slow", "the prompt after the run") { $0.split(separator: "\n").last == "$" }
        try tmux.keys("slow", ["printf 'status-%s\\n' $?", "Enter"])
        try tmux.waitFor("slow", "the explorer's exit status", timeout: 30) { $0.contains("\nstatus-0") }
        XCTAssertEqual(try tmux.format("slow", "alternate_on"), "0")
        XCTAssertEqual(try tmux.format("slow", "cursor_flag"), "1")
    }
}
