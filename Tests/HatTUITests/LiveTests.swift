// Live interventions without a terminal: the edits the keys make (painting with each brush, drags,
// head ablation per view, the carrier cuts a stage offers, undo, reset), the list the model runs
// with, the background worker (the latest request wins, superseded results are dropped), and the
// explorer drawing a stale picture while a (slow, fake) model runs and the new run once it is in.
import Foundation
import XCTest
@testable import HatTUI
import HatRecording
import HatViews
import HatImaging

final class LiveTests: XCTestCase {
    func press(_ s: AppState, _ keys: [Key]) -> AppState { Fixture.apply(s, keys) }

    // MARK: - The edits and the list they make

    func testOccludedTokensBecomeTheFewestBoxesARowSweepFinds() {
        var e = LiveEdits()
        // An L shape on stage 3 and one token on stage 4.
        for (r, c) in [(2, 3), (2, 4), (2, 5), (3, 3), (3, 4), (3, 5), (4, 3)] { e.occluded.insert(StageToken(stage: 3, row: r, col: c)) }
        e.occluded.insert(StageToken(stage: 4, row: 6, col: 0))
        e.ablated.insert(HeadRef(level: 2, block: 1, module: .hatAttn, head: 3))
        e.cuts[2] = .cutGlobal
        XCTAssertEqual(e.interventions.map(\.description),
                       ["--occlude-box 3:2-3,3-5", "--occlude-box 3:4-4,3-3", "--occlude-box 4:6-6,0-0",
                        "--ablate-head levels.2.blocks.1.hat_attn:3", "--cut-global levels.2"])
        // Read back the way the command line gives them: the same edits (boxes are token sets).
        XCTAssertEqual(LiveEdits(e.interventions), e)
        // Ones the keys do not edit stay as given.
        let mask = Intervention.occludePixels(PixelMask(height: 2, width: 2, bits: [true, false, false, true], label: "m.png"))
        let perBlock = Intervention.cutCarriers(level: 2, block: 1)
        let kept = LiveEdits([mask, perBlock])
        XCTAssertEqual(kept.fixed, [mask, perBlock])
        XCTAssertEqual(kept.interventions, [mask, perBlock])
        XCTAssertFalse(kept.isEmpty)
        XCTAssertTrue(LiveEdits([]).isEmpty)
    }

    func testPaintingWithEachBrushOccludesAndClears() {
        var s = Fixture.state(width: 120, height: 40)
        XCTAssertEqual([s.selection.queryRow, s.selection.queryCol], [7, 7])
        s = press(s, [.char(" ")])
        XCTAssertTrue(s.edits.occluded.isEmpty, "Space does nothing before painting starts")
        XCTAssertTrue(s.status.contains("o: start painting"), s.status)
        s = press(s, [.char("o"), .char(" ")])
        XCTAssertEqual(s.edits.occluded, [StageToken(stage: 3, row: 7, col: 7)])
        s = press(s, [.char(" ")])
        XCTAssertTrue(s.edits.occluded.isEmpty, "Space again clears")
        s = press(s, [.char("]"), .char(" ")])
        XCTAssertEqual(s.brush, .square)
        XCTAssertEqual(s.edits.occluded.count, 4)
        XCTAssertEqual(s.edits.interventions.map(\.description), ["--occlude-box 3:7-8,7-8"])
        // The window brush: the query's window (rows and columns 7-13 of stage 3).
        s = press(s, [.char("]"), .char("]"), .char(" ")])
        XCTAssertEqual(s.brush, .window)
        XCTAssertEqual(s.edits.interventions.map(\.description), ["--occlude-box 3:7-13,7-13"])
        // 2 x 2 at the grid's last column shifts back inside it.
        s = press(s, [.char("["), .up, .up, .up, .up, .up, .up, .up] + [Key](repeating: .right, count: 9) + [.char(" ")])
        XCTAssertEqual([s.selection.queryRow, s.selection.queryCol], [0, 13])
        XCTAssertTrue(s.edits.occluded.isSuperset(of: [StageToken(stage: 3, row: 0, col: 12), StageToken(stage: 3, row: 1, col: 13)]))
        // u undoes step by step, U removes all (and u brings them back).
        let before = s.edits
        s = press(s, [.char("u")])
        XCTAssertEqual(s.edits.interventions.map(\.description), ["--occlude-box 3:7-13,7-13"])
        s = press(s, [.char("U")])
        XCTAssertTrue(s.edits.isEmpty)
        s = press(s, [.char("u")])
        XCTAssertEqual(s.edits.interventions.map(\.description), ["--occlude-box 3:7-13,7-13"])
        _ = before
        // o again stops painting; arrows then move the query only.
        s = press(s, [.char("o"), .char(" ")])
        XCTAssertFalse(s.painting)
        XCTAssertEqual(s.edits.interventions.map(\.description), ["--occlude-box 3:7-13,7-13"])
    }

    func testAClickPaintsAndADragKeepsPaintingTheSameWay() {
        var s = press(Fixture.state(width: 120, height: 40), [.char("o")])
        s.picture = Fixture.frame(s).picture
        let pic = s.picture!
        let y = pic.rect.y + pic.rect.height / 2
        let x0 = pic.rect.x + 2
        s = press(s, [.mousePress(x: x0, y: y)])
        XCTAssertEqual(s.strokeOccludes, true)
        XCTAssertEqual(s.edits.occluded.count, 1)
        // Dragging right across the image occludes every token it enters.
        for x in stride(from: x0, to: pic.rect.x + pic.rect.width, by: 2) { s = press(s, [.mouseDrag(x: x, y: y)]) }
        let row = s.selection.queryRow
        XCTAssertEqual(Set(s.edits.occluded.map(\.col)), Set(0 ..< 14))
        XCTAssertTrue(s.edits.occluded.allSatisfy { $0.row == row })
        // A press on an occluded token starts a clearing stroke.
        s = press(s, [.mousePress(x: x0, y: y)])
        XCTAssertEqual(s.strokeOccludes, false)
        for x in stride(from: x0, to: pic.rect.x + pic.rect.width, by: 2) { s = press(s, [.mouseDrag(x: x, y: y)]) }
        XCTAssertTrue(s.edits.occluded.isEmpty)
        // Without painting a drag only moves the query.
        s = press(s, [.char("o"), .mouseDrag(x: x0, y: y)])
        XCTAssertTrue(s.edits.occluded.isEmpty)
        XCTAssertEqual(s.selection.queryCol, 0)
    }

    func testAQuickStrokePaintsEveryTokenItCrossesAsOneChange() {
        // A terminal reports where the pointer is: a quick stroke arrives as a press and one drag
        // report far away (xterm: 3 tokens apart). Every token on the way is painted, in one
        // change with the press (one u undoes the stroke).
        var s = press(Fixture.state(width: 120, height: 40), [.char("o")])
        s.picture = Fixture.frame(s).picture
        let pic = s.picture!
        func cell(_ r: Int, _ c: Int) -> (Int, Int) {
            // The cell whose centre lies in token (r, c): search the picture's cells.
            for y in pic.rect.y ..< pic.rect.y + pic.rect.height {
                for x in pic.rect.x ..< pic.rect.x + pic.rect.width {
                    if let p = pic.contentPoint(cellX: x, cellY: y), Int(p.y) / 16 == r, Int(p.x) / 16 == c { return (x, y) }
                }
            }
            return (-1, -1)
        }
        let a = cell(2, 1), b = cell(5, 7)
        s = press(s, [.mousePress(x: a.0, y: a.1)])
        let undo = s.undoStack.count
        s = press(s, [.mouseDrag(x: b.0, y: b.1)])
        let painted = Set(s.edits.occluded.map { [$0.row, $0.col] })
        let line = KeyHandling.tokenLine(from: (2, 1), to: (5, 7))
        XCTAssertEqual(line.count, 7)
        XCTAssertEqual(painted, Set(line.map { [$0.0, $0.1] }), "every token on the way, no other")
        for (p, q) in zip(line, line.dropFirst()) { XCTAssertLessThanOrEqual(max(abs(q.0 - p.0), abs(q.1 - p.1)), 1) }
        XCTAssertEqual(s.undoStack.count, undo, "the drag joins its press's change")
        XCTAssertEqual([s.selection.queryRow, s.selection.queryCol], [5, 7], "the query ends where the pointer is")
    }

    func testOneUndoTakesBackAWholeStroke() {
        // A stroke (a press and every drag report after it) is one change, as in a paint program:
        // one u gives back what was there before the press, however many reports it took.
        var s = press(Fixture.state(width: 120, height: 40), [.char("o"), .char(" ")])
        s.picture = Fixture.frame(s).picture
        let pic = s.picture!
        let before = s.edits
        XCTAssertEqual(before.occluded.count, 1)
        let y = pic.rect.y + 1
        s = press(s, [.mousePress(x: pic.rect.x + 1, y: y)])
        for x in stride(from: pic.rect.x + 1, to: pic.rect.x + pic.rect.width, by: 3) { s = press(s, [.mouseDrag(x: x, y: y)]) }
        XCTAssertGreaterThan(s.edits.occluded.count, 10)
        s = press(s, [.char("u")])
        XCTAssertEqual(s.edits, before, "one u undoes the whole stroke")
        // A key between two drags ends the stroke: the next drag paints as a change of its own.
        s = press(s, [.mousePress(x: pic.rect.x + 1, y: y), .mouseDrag(x: pic.rect.x + 8, y: y)])
        let first = s.edits
        s = press(s, [.char("c"), .mouseDrag(x: pic.rect.x + 20, y: y)])
        XCTAssertNotEqual(s.edits, first)
        s = press(s, [.char("u")])
        XCTAssertEqual(s.edits, first, "u takes back only the drag after the key")
    }

    func testHeadAblationFollowsTheViewAndNeedsAHead() {
        var s = press(Fixture.state(width: 120, height: 40), [.char("n"), .char("b"), .char("x")])
        XCTAssertEqual(s.edits.interventions.map(\.description), ["--ablate-head levels.2.blocks.1.attn:1"])
        s = press(s, [.tab, .char("x")])   // carrier view: carrier attention
        XCTAssertEqual(s.view, .carrier)
        XCTAssertEqual(s.edits.interventions.map(\.description),
                       ["--ablate-head levels.2.blocks.1.attn:1", "--ablate-head levels.2.blocks.1.hat_attn:1"])
        s = press(s, [.char("x")])
        XCTAssertEqual(s.edits.interventions.map(\.description), ["--ablate-head levels.2.blocks.1.attn:1"])
        let mean = press(s, [.char("m"), .char("x")])
        XCTAssertEqual(mean.edits, s.edits, "the mean of heads is no head")
        XCTAssertTrue(mean.status.contains("pick one with n"), mean.status)
        let conv = press(s, [.char("S"), .char("S"), .char("x")])
        XCTAssertEqual(conv.edits, s.edits)
        XCTAssertTrue(conv.status.contains("convolutional"), conv.status)
    }

    func testCarrierCutsCycleThroughWhatTheStageOffers() {
        // The fixture (faster_vit_0_224) has carriers in stage 3 but no propagation.
        var s = Fixture.state(width: 120, height: 40)
        var seen: [String] = []
        for _ in 0 ..< 3 {
            s = press(s, [.char("K")])
            seen.append(s.edits.interventions.map(\.description).joined())
        }
        XCTAssertEqual(seen, ["--cut-carriers levels.2", "--cut-global levels.2", ""])
        // Stage 4 has no carriers: K says so and changes nothing.
        let four = press(s, [.char("s"), .char("K")])
        XCTAssertTrue(four.edits.isEmpty)
        XCTAssertTrue(four.status.contains("no carrier tokens"), four.status)
        XCTAssertTrue(four.status.hasSuffix("(carriers in stage 3; S: previous stage)"), "says where to go: \(four.status)")
        // With propagation the cycle has a third cut.
        let cfg = ModelConfig.preset(named: "faster_vit_3_224")!
        let ctx = ExplorerContext(recording: SyntheticScene.recording(config: cfg), checkpointLabel: "synthetic")
        var p = AppState(geometry: ctx.geometry, colormaps: ["viridis"])
        p.liveUnavailable = nil
        p = Fixture.apply(p, [.char("K"), .char("K"), .char("K")])
        XCTAssertEqual(p.edits.interventions.map(\.description), ["--no-propagation levels.2"])
    }

    func testTheDifferenceViewNeedsAnIntervention() {
        var s = press(Fixture.state(width: 120, height: 40), [.char("d")])
        XCTAssertFalse(s.showDiff)
        XCTAssertTrue(s.status.contains("make one first"), s.status)
        s = press(s, [.char("K"), .char("d")])
        XCTAssertTrue(s.showDiff)
        s = press(s, [.char("U")])
        XCTAssertFalse(s.showDiff, "nothing left to compare")
    }

    // MARK: - The background worker

    /// A runner whose runs wait for a go-ahead, so a test decides when each one ends.
    final class GatedRunner: @unchecked Sendable {
        let gate = DispatchSemaphore(value: 0)
        let lock = NSLock()
        var started: [[String]] = []
        func run(_ list: [Intervention]) throws -> Recording {
            lock.withLock { started.append(list.map(\.description)) }
            gate.wait()
            var r = Fixture.recording
            r.logits = [5] + [Float](repeating: 0, count: r.logits.count - 1)
            r.provenance.interventions = list.map(\.description)
            return r
        }
        var starts: Int { lock.withLock { started.count } }
    }

    /// Polls `condition` (called once per poll: it may consume what it checks) until it holds.
    func waitUntil(_ what: String, timeout: Double = 10, _ condition: () -> Bool) {
        let end = Date().addingTimeInterval(timeout)
        var met = condition()
        while !met && Date() < end { Thread.sleep(forTimeInterval: 0.002); met = condition() }
        XCTAssertTrue(met, what)
    }

    func testTheRunsTimeLeavesOutTimeSuspended() {
        // Ctrl-Z during a run, fg minutes later: "ran in" counted the minutes.
        let fake = GatedRunner()
        let worker = LiveRunner(runner: { try fake.run($0) })
        defer { worker.stop() }
        worker.request([.cutGlobal(level: 2, block: nil)])
        waitUntil("the run starts") { fake.starts == 1 }
        Thread.sleep(forTimeInterval: 0.4)
        SuspendedTime.add(400_000_000)     // as Terminal.suspend counts 0.4 s stopped
        fake.gate.signal()
        var outcome: LiveRunner.Outcome?
        waitUntil("the result") { outcome = worker.take(); return outcome != nil }
        XCTAssertLessThan(outcome?.milliseconds ?? .infinity, 300, "the 0.4 s suspended is left out")
    }

    func testTheLatestRequestWinsAndOlderResultsAreDropped() {
        let fake = GatedRunner()
        let worker = LiveRunner(runner: { try fake.run($0) })
        defer { worker.stop() }
        worker.request([.cutGlobal(level: 2, block: nil)])
        waitUntil("the first run starts") { fake.starts == 1 }
        worker.request([.cutCarriers(level: 2, block: nil)])
        worker.request([.noPropagation(level: 2)])     // supersedes the one before, which never runs
        XCTAssertTrue(worker.isBusy)
        fake.gate.signal()                              // the first run ends: its result is stale
        waitUntil("the newest run starts") { fake.starts == 2 }
        XCTAssertNil(worker.take(), "a superseded run's result is dropped")
        fake.gate.signal()
        var outcome: LiveRunner.Outcome?
        waitUntil("the newest result arrives") { outcome = worker.take(); return outcome != nil }
        XCTAssertEqual(fake.started, [["--cut-global levels.2"], ["--no-propagation levels.2"]])
        XCTAssertEqual(outcome?.interventions.map(\.description), ["--no-propagation levels.2"])
        // The wake pipe was written: the key loop's poll returns.
        var p = pollfd(fd: worker.wakeFD, events: Int16(POLLIN), revents: 0)
        XCTAssertEqual(poll(&p, 1, 0), 1)
    }

    func testStoppingWaitsForTheRunUnderWay() {
        // Quitting while the model runs: the process must not exit under the forward pass.
        let fake = GatedRunner()
        let worker = LiveRunner(runner: { try fake.run($0) })
        worker.request([.cutGlobal(level: 2, block: nil)])
        waitUntil("the run starts") { fake.starts == 1 }
        worker.stop()
        let joined = DispatchSemaphore(value: 0)
        Thread { worker.join(); joined.signal() }.start()
        XCTAssertEqual(joined.wait(timeout: .now() + 0.2), .timedOut, "join waits while the run is under way")
        fake.gate.signal()
        XCTAssertEqual(joined.wait(timeout: .now() + 10), .success, "and returns once it ended")
        worker.join()   // again: at once
        XCTAssertEqual(fake.starts, 1, "nothing runs after stop")
    }

    func testTheExplorerDrawsAStalePictureWhileTheModelRunsThenTheNewRun() throws {
        let fake = GatedRunner()
        let explorer = Explorer(context: Fixture.context, options: ExplorerOptions(),
                                live: LiveSetup(runner: { try fake.run($0) }))
        var s = explorer.initialState(width: 120, height: 40)
        XCTAssertNil(s.liveUnavailable)
        s = KeyHandling.handle(s, .char("K")).0
        explorer.sync(s)
        waitUntil("the run starts") { fake.starts == 1 }
        // While it runs, frames are drawn at once from the last run, marked stale.
        let stale = explorer.frame(s, tier: .truecolor).buffer
        XCTAssertTrue(stale.line(1).hasPrefix(" [stale: re-running] local"), stale.line(1))
        XCTAssertTrue(stale.line(0).contains(" running "), stale.line(0))
        XCTAssertTrue(stale.text.contains("running the model again"), stale.text)
        XCTAssertTrue(stale.text.contains("--cut-carriers levels.2"), "the panel lists what is asked for")
        fake.gate.signal()
        waitUntil("the result comes in") { explorer.collect() }
        let fresh = explorer.frame(s, tier: .truecolor).buffer
        XCTAssertFalse(fresh.text.contains("[stale"), fresh.line(1))
        XCTAssertTrue(fresh.line(1).hasSuffix("| with --cut-carriers levels.2") || fresh.line(1).contains("| with --cut-carriers levels.2"), fresh.line(1))
        XCTAssertTrue(fresh.line(0).contains(" interventions "), fresh.line(0))
        // Before -> after: the plain run's top class is 0 at 0.1 %; the fake run puts class 0 first.
        let before = Fixture.recording.probabilities()
        let after = try XCTUnwrap(explorer.liveStatus(s)?.after)
        XCTAssertEqual(after[0], 1 / (1 + Float(after.count - 1) * expf(-5)), accuracy: 1e-5)
        let row = String(format: "%5.1f\u{2192}%5.1f %+6.1f class-0", Double(before[0] * 100), Double(after[0] * 100),
                         Double((after[0] - before[0]) * 100))
        XCTAssertTrue(fresh.text.contains(row), "panel lacks \(row):\n\(fresh.text)")
        // The difference view of the new run: diverging, its title and colour bar say after - before.
        s = KeyHandling.handle(s, .char("d")).0
        let diff = explorer.frame(s, tier: .truecolor).buffer
        XCTAssertTrue(diff.line(1).hasPrefix(" after - before: local"), diff.line(1))
        XCTAssertTrue(diff.line(37).contains("after - before (attention probability)"), diff.line(37))
        XCTAssertTrue(diff.line(0).contains("after - before"), diff.line(0))
        // The header names the map the picture is drawn with: the diverging one, not the chosen one.
        XCTAssertTrue(diff.line(0).contains(" \(Colormap.diverging.rawValue) "), diff.line(0))
        XCTAssertFalse(diff.line(0).contains(s.colormap), diff.line(0))
        // Undo to the plain run: nothing to run, no marker, the plain prediction.
        s = KeyHandling.handle(s, .char("u")).0
        explorer.sync(s)
        let plain = explorer.frame(s, tier: .truecolor).buffer
        XCTAssertFalse(plain.line(1).contains("with --"), plain.line(1))
        XCTAssertEqual(fake.starts, 1)
    }

    func testARunThatFailsIsSaidAndThePictureStays() {
        struct Boom: Error, CustomStringConvertible { var description: String { "not enough memory" } }
        let explorer = Explorer(context: Fixture.context, options: ExplorerOptions(),
                                live: LiveSetup(runner: { _ in throw Boom() }))
        var s = explorer.initialState(width: 120, height: 40)
        s = KeyHandling.handle(s, .char("K")).0
        explorer.sync(s)
        waitUntil("the failure comes in") { explorer.collect() }
        let f = explorer.frame(s, tier: .truecolor).buffer
        XCTAssertTrue(f.text.contains("the run failed: not enough memory"), f.text)
        XCTAssertTrue(f.line(0).contains("run failed"), f.line(0))
        XCTAssertFalse(f.text.contains("[stale"))
    }
}
