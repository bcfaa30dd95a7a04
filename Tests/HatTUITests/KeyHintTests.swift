import XCTest
import HatRecording
import HatViews
@testable import HatTUI

// Every key named on screen exists and does what the text next to it says. The frames are
// rendered as a person sees them; key names are read back from the cells drawn bold in the key
// colour (footer, status line, help overlay, the tour's explorer hints and its footer), turned into
// keys by this file's own name table, and pressed on the pure key handler; an oracle written here
// says what each action must change.
final class KeyHintTests: XCTestCase {
    let theme = Theme.standard

    // MARK: - Reading key names back from a frame

    /// Row `y` from column `x0` with key runs (bold, key colour) marked as ⟦name⟧.
    func marked(_ buf: CellBuffer, row y: Int, from x0: Int = 0) -> String {
        // Segments of key / non-key cells; spaces at a key segment's ends belong outside it.
        var segments: [(key: Bool, text: String)] = []
        for x in x0 ..< buf.width {
            let c = buf[x, y]
            let isKey = c.fg == theme.key && c.attributes.contains(.bold)
            if segments.last?.key != isKey { segments.append((isKey, "")) }
            segments[segments.count - 1].text.unicodeScalars.append(c.glyph)
        }
        return segments.map { seg in
            guard seg.key else { return seg.text }
            let core = seg.text.trimmingCharacters(in: .whitespaces)
            if core.isEmpty { return seg.text }
            let lead = seg.text.prefix { $0 == " " }, trail = String(seg.text.reversed().prefix { $0 == " " })
            return lead + "\u{27E6}" + core + "\u{27E7}" + trail
        }.joined()
    }

    /// The key runs of a marked text, each with the text that follows it.
    func runs(_ text: String) -> [(key: String, after: String)] {
        var out: [(String, String)] = []
        var rest = Substring(text)
        while let a = rest.firstIndex(of: "\u{27E6}"), let b = rest[a...].firstIndex(of: "\u{27E7}") {
            let key = String(rest[rest.index(after: a) ..< b])
            rest = rest[rest.index(after: b)...]
            let next = rest.firstIndex(of: "\u{27E6}") ?? rest.endIndex
            out.append((key, String(rest[..<next]).trimmingCharacters(in: .whitespaces)))
        }
        return out
    }

    /// This test's own reading of a key name ("Tab", "S", "\u{2190}", "mouse wheel", ...).
    func keys(named name: String) -> [Key]? {
        switch name {
        case "Tab": return [.tab]
        case "Shift-Tab": return [.backTab]
        case "Esc": return [.escape]
        case "Ctrl-C": return [.interrupt]
        case "Enter": return [.enter]
        case "Space": return [.char(" ")]
        case "Backspace": return [.char("\u{7f}")]
        case "\u{2190}": return [.left]
        case "\u{2192}": return [.right]
        case "\u{2191}": return [.up]
        case "\u{2193}": return [.down]
        case "mouse click", "click": return [.mousePress(x: 0, y: 0)]
        case "mouse drag": return [.mouseDrag(x: 0, y: 0)]
        case "mouse wheel": return [.wheelUp, .wheelDown]
        default:
            if name.unicodeScalars.count > 1, name.unicodeScalars.allSatisfy({ (0x2190 ... 0x2193).contains($0.value) }) {
                return name.unicodeScalars.compactMap { keys(named: String($0))?.first }
            }
            return name.count == 1 ? [.char(name.first!)] : nil
        }
    }

    /// The keys a run names: "s / S" -> s, S; "\u{2190}\u{2193}\u{2191}\u{2192} h j k l" -> arrows and letters.
    func keys(inRun run: String, file: StaticString = #filePath, line: UInt = #line) -> [Key] {
        if run.hasPrefix("mouse") { return keys(named: run) ?? [] }
        var out: [Key] = []
        for token in run.split(whereSeparator: { $0 == " " || $0 == "/" }) {
            guard let k = keys(named: String(token)) else { XCTFail("unknown key name \"\(token)\" in \"\(run)\"", file: file, line: line); continue }
            out += k
        }
        return out
    }

    // MARK: - What each action must do

    func wrap(_ v: Int, _ n: Int) -> Int { n <= 0 ? 0 : ((v % n) + n) % n }

    /// Presses `key` in `s` and checks that `action` happened.
    func check(_ action: ExplorerAction, key: Key, in s: AppState, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        let (t, effects) = KeyHandling.handle(s, key)
        let msg = "\(what): \(KeyBindings.name(key)) should \(action)"
        guard let st = s.stage else { return XCTFail(msg, file: file, line: line) }
        let q = s.selection, r = t.selection
        let d = ["next", "query"].contains(where: { action.rawValue.hasPrefix($0) }) ? 1 : -1
        switch action {
        case .queryLeft: XCTAssertEqual([r.queryRow, r.queryCol], [q.queryRow, q.queryCol - 1], msg, file: file, line: line)
        case .queryRight: XCTAssertEqual([r.queryRow, r.queryCol], [q.queryRow, q.queryCol + 1], msg, file: file, line: line)
        case .queryUp: XCTAssertEqual([r.queryRow, r.queryCol], [q.queryRow - 1, q.queryCol], msg, file: file, line: line)
        case .queryDown: XCTAssertEqual([r.queryRow, r.queryCol], [q.queryRow + 1, q.queryCol], msg, file: file, line: line)
        case .nextView, .previousView:
            let v = st.views, i = v.firstIndex(of: s.view) ?? 0
            XCTAssertEqual(t.view, v[wrap(i + d, v.count)], msg, file: file, line: line)
        case .nextStage, .previousStage:
            XCTAssertEqual(t.stageIndex, wrap(s.stageIndex + d, s.geometry.stages.count), msg, file: file, line: line)
        case .nextBlock, .previousBlock:
            let b = st.recordedBlocks, i = b.firstIndex(of: q.block) ?? 0
            XCTAssertEqual(r.block, b[wrap(i + d, b.count)], msg, file: file, line: line)
        case .nextHead, .previousHead:
            let n = wrap((q.head ?? st.heads) + d, st.heads + 1)
            XCTAssertEqual(r.head, n == st.heads ? nil : n, msg, file: file, line: line)
        case .meanOfHeads: XCTAssertEqual(r.head == nil, q.head != nil, msg, file: file, line: line)
        case .nextWindow, .previousWindow:
            let g = st.attention!
            XCTAssertEqual(t.window, wrap(s.window! + d, g.windowCount), msg, file: file, line: line)
            XCTAssertEqual(g.localToken(row: r.queryRow, col: r.queryCol), g.localToken(row: q.queryRow, col: q.queryCol), msg, file: file, line: line)
        case .nextCarrier, .previousCarrier:
            let g = st.attention!
            if s.view == .carrier {
                XCTAssertEqual(r.carrier, wrap(q.carrier + d, g.carrierCount), msg, file: file, line: line)
            } else {
                let n = wrap((q.carrierSlot ?? g.carriersPerWindow) + d, g.carriersPerWindow + 1)
                XCTAssertEqual(r.carrierSlot, n == g.carriersPerWindow ? nil : n, msg, file: file, line: line)
            }
        case .nextColormap: XCTAssertEqual(t.colormapIndex, (s.colormapIndex + 1) % s.colormaps.count, msg, file: file, line: line)
        case .exportView: XCTAssertTrue(effects.contains(.export(s.view, q)), msg, file: file, line: line)
        case .exportMontage: XCTAssertTrue(effects.contains(.exportMontage(s.view, q)), msg, file: file, line: line)
        case .tour: XCTAssertTrue(effects.contains(.openTour(step: 0)), msg, file: file, line: line)
        case .tourStatistics: XCTAssertTrue(effects.contains(.openTour(step: .max)), msg, file: file, line: line)
        case .help: XCTAssertTrue(t.showHelp, msg, file: file, line: line)
        case .quit: XCTAssertTrue(effects.contains(.quit), msg, file: file, line: line)
        case .pick:
            let cell: (Int, Int)
            switch key {
            case let .mousePress(x, y), let .mouseDrag(x, y): cell = (x, y)
            default: return XCTFail(msg + " (not a mouse key)", file: file, line: line)
            }
            guard let p = s.picture?.contentPoint(cellX: cell.0, cellY: cell.1) else {
                return XCTFail(msg + " (no picture under the click)", file: file, line: line)
            }
            XCTAssertEqual([r.queryRow, r.queryCol], [Int(p.y) / st.stride, Int(p.x) / st.stride], msg, file: file, line: line)
            if s.painting, case .mousePress = key {
                // A press while painting occludes (or clears) the brush where it lands.
                XCTAssertNotEqual(t.edits.occluded, s.edits.occluded, msg, file: file, line: line)
            }
        case .paintOcclusion: XCTAssertEqual(t.painting, !s.painting, msg, file: file, line: line)
        case .toggleOcclusion:
            if s.painting {
                let tokens = KeyHandling.brushTokens(s, st)
                let wasAll = tokens.allSatisfy { s.edits.occluded.contains($0) }
                XCTAssertFalse(tokens.isEmpty, msg, file: file, line: line)
                XCTAssertTrue(tokens.allSatisfy { t.edits.occluded.contains($0) != wasAll }, msg, file: file, line: line)
            } else {
                XCTAssertEqual(t.edits, s.edits, msg, file: file, line: line)
                XCTAssertTrue(t.status.contains("painting"), msg + " (says how to start painting)", file: file, line: line)
            }
        case .smallerBrush, .largerBrush:
            let all = Brush.allCases, i = all.firstIndex(of: s.brush)!
            XCTAssertEqual(t.brush, all[max(0, min(all.count - 1, i + (action == .largerBrush ? 1 : -1)))], msg, file: file, line: line)
        case .ablateHead:
            if let h = q.head, st.attention != nil {
                let ref = HeadRef(level: q.level, block: q.block, module: s.view == .carrier ? .hatAttn : .attn, head: h)
                XCTAssertEqual(t.edits.ablated.contains(ref), !s.edits.ablated.contains(ref), msg, file: file, line: line)
                XCTAssertEqual(t.edits.ablated.count, s.edits.ablated.count + (s.edits.ablated.contains(ref) ? -1 : 1), msg, file: file, line: line)
            } else {
                XCTAssertEqual(t.edits, s.edits, msg, file: file, line: line)
            }
        case .cycleCarrierCut:
            let options = KeyHandling.cuts(for: st)
            if options.isEmpty {
                XCTAssertEqual(t.edits, s.edits, msg, file: file, line: line)
            } else {
                let cycle: [CarrierCut] = [.none] + options
                let now = s.edits.cuts[st.level] ?? .none
                XCTAssertEqual(t.edits.cuts[st.level] ?? .none, cycle[wrap(cycle.firstIndex(of: now)! + 1, cycle.count)], msg, file: file, line: line)
            }
        case .undo: XCTAssertEqual(t.edits, s.undoStack.last ?? s.edits, msg, file: file, line: line)
        case .resetInterventions: XCTAssertTrue(t.edits.isEmpty, msg, file: file, line: line)
        case .differenceView: XCTAssertEqual(t.showDiff, s.showDiff ? false : !s.edits.isEmpty, msg, file: file, line: line)
        }
    }

    /// Checks every key of a run: it is bound, to one of `expected` when given, and does it.
    func checkRun(_ run: String, expected: [ExplorerAction]?, in s: AppState, _ what: String,
                  file: StaticString = #filePath, line: UInt = #line) {
        for var k in keys(inRun: run, file: file, line: line) {
            guard let a = KeyBindings.action(for: k) else {
                XCTFail("\(what): \"\(run)\" names \(k), which the key table does not bind", file: file, line: line); continue
            }
            if let e = expected { XCTAssertTrue(e.contains(a), "\(what): \"\(run)\" is bound to \(a), the text says \(e)", file: file, line: line) }
            if let pic = s.picture {  // click (or drag to) the middle of the picture
                if case .mousePress = k { k = .mousePress(x: pic.rect.x + pic.rect.width / 2, y: pic.rect.y + pic.rect.height / 2) }
                if case .mouseDrag = k { k = .mouseDrag(x: pic.rect.x + pic.rect.width / 2, y: pic.rect.y + pic.rect.height / 2) }
            }
            check(a, key: k, in: s, what, file: file, line: line)
        }
    }

    /// Words a key's text must contain for each action (the help overlay and status line).
    let words: [ExplorerAction: String] = [
        .queryLeft: "query", .queryRight: "query", .queryUp: "query", .queryDown: "query",
        .nextView: "view", .previousView: "view", .nextStage: "stage", .previousStage: "stage",
        .nextBlock: "block", .previousBlock: "block", .nextHead: "head", .previousHead: "head",
        .meanOfHeads: "mean of heads", .nextWindow: "window", .previousWindow: "window",
        .nextCarrier: "carrier", .previousCarrier: "carrier", .nextColormap: "colour", .exportView: "export",
        .exportMontage: "all heads", .tour: "tour", .tourStatistics: "statistics", .pick: "query",
        .paintOcclusion: "occlusion", .toggleOcclusion: "occlude", .smallerBrush: "brush", .largerBrush: "brush",
        .ablateHead: "head", .cycleCarrierCut: "cut", .undo: "undo", .resetInterventions: "remove all",
        .differenceView: "after minus before", .help: "help", .quit: "quit",
    ]

    func startState(_ rec: Recording, width: Int, height: Int) -> AppState {
        var s = AppState(geometry: ExplorerGeometry(recording: rec), colormaps: ["viridis", "magma"], screenWidth: width, screenHeight: height)
        s.liveUnavailable = nil
        return s
    }

    // MARK: - Explorer: footer, status line, help

    func testFooterAndStatusKeysExistAndDoWhatTheirLabelsSay() {
        // Footer labels and what they promise.
        let labels: [String: [ExplorerAction]] = [
            "query": [.queryLeft, .queryRight, .queryUp, .queryDown], "move": [.queryLeft, .queryRight, .queryUp, .queryDown],
            "view": [.nextView], "stage": [.nextStage], "block": [.nextBlock], "blk": [.nextBlock], "head": [.nextHead],
            "window": [.nextWindow], "win": [.nextWindow], "carrier": [.nextCarrier], "ct": [.nextCarrier],
            "cmap": [.nextColormap], "export": [.exportView, .exportMontage], "tour": [.tour], "help": [.help], "quit": [.quit],
        ]
        for (w, h) in [(120, 40), (200, 60), (64, 20)] {
            let s = Fixture.state(width: w, height: h)
            let f = Fixture.frame(s)
            checkFooter(f.buffer, labels: labels, atLeast: 8, in: s, "footer \(w)x\(h)")
            let status = runs(marked(f.buffer, row: h - 2))
            if w >= 100 { XCTAssertEqual(status.count, KeyBindings.liveStatusHints.count, "\(w)x\(h)") }
            for (run, after) in status {
                let a = KeyBindings.action(for: keys(inRun: run).first ?? .unknown)
                XCTAssertTrue(a.map { after.contains(words[$0]!) } ?? false, "status: \(run) \(after)")
                checkRun(run, expected: nil, in: s, "status \(w)x\(h)")
            }
        }
    }

    /// Every hint of the footer (the last row): its label is one of `labels` and its keys do that.
    func checkFooter(_ buf: CellBuffer, labels: [String: [ExplorerAction]], atLeast n: Int, in s: AppState, _ what: String,
                     file: StaticString = #filePath, line: UInt = #line) {
        let footer = runs(marked(buf, row: buf.height - 1))
        XCTAssertGreaterThanOrEqual(footer.count, n, what, file: file, line: line)
        for (run, after) in footer {
            let label = String(after.split(separator: " ").first ?? "")
            XCTAssertNotNil(labels[label], "\(what): unknown label \"\(label)\" after \(run)", file: file, line: line)
            checkRun(run, expected: labels[label], in: s, what, file: file, line: line)
        }
    }

    func testPaintingFooterKeysExistAndDoWhatTheirLabelsSay() {
        let labels: [String: [ExplorerAction]] = [
            "brush": [.queryLeft, .queryRight, .queryUp, .queryDown], "stop": [.paintOcclusion],
            "occlude/clear": [.toggleOcclusion], "occlude": [.pick], "occl": [.toggleOcclusion, .pick],
            "resize": [.smallerBrush, .largerBrush], "size": [.smallerBrush, .largerBrush], "undo/reset": [.undo, .resetInterventions], "undo": [.undo, .resetInterventions],
            "help": [.help], "quit": [.quit],
        ]
        for (w, h) in [(120, 40), (200, 60), (64, 20)] {
            var s = Fixture.state(width: w, height: h)
            s = KeyHandling.handle(s, .char("o")).0
            XCTAssertTrue(s.painting)
            s.status = ""
            // With no message the status line says painting is on and with which brush.
            let idle = Fixture.frame(s)
            XCTAssertTrue(idle.buffer.line(h - 2).contains("painting occlusions"), idle.buffer.line(h - 2))
            s.picture = idle.picture
            // Something to undo, so u and U change something.
            s = KeyHandling.handle(s, .char(" ")).0
            let f = Fixture.frame(s)
            checkFooter(f.buffer, labels: labels, atLeast: 6, in: s, "painting footer \(w)x\(h)")
        }
    }

    func testLiveKeysWithoutAModelOnlySayWhy() {
        var s = Fixture.state(width: 120, height: 40)
        s.liveUnavailable = "interventions need the model"
        for k: Key in [.char("o"), .char(" "), .char("x"), .char("K"), .char("u"), .char("U"), .char("d")] {
            let (t, effects) = KeyHandling.handle(s, k)
            XCTAssertEqual(t.edits, s.edits, "\(k)")
            XCTAssertFalse(t.painting, "\(k)")
            XCTAssertEqual(t.status, "interventions need the model", "\(k)")
            XCTAssertEqual(effects, [.redraw])
        }
    }

    func testHelpOverlayKeysExistAndDoWhatTheTextSays() {
        var s = Fixture.state(width: 120, height: 40)
        let f = Fixture.frame(s)
        s.picture = f.picture
        var help = s
        help.showHelp = true
        let buf = Fixture.frame(help).buffer
        var seen: Set<String> = []
        for y in 0 ..< buf.height - 2 {  // the help box (the status line below has hints of its own)
            for (run, after) in runs(marked(buf, row: y)) {
                seen.insert(run)
                for k in keys(inRun: run) {
                    guard let a = KeyBindings.action(for: k) else { XCTFail("help names unbound \(run)"); continue }
                    XCTAssertTrue(after.contains(words[a]!), "help: \(run) -> \(a), text \"\(after)\"")
                }
                checkRun(run, expected: nil, in: s, "help")
            }
        }
        // Every row of the table is in the help, so every bound key has been pressed above.
        XCTAssertEqual(seen.count, KeyBindings.table.count, "\(seen)")
        XCTAssertTrue(KeyBindings.table.allSatisfy { seen.contains($0.label) })
    }

    // MARK: - The tour

    static let demo = ModelConfig(name: "faster_vit_demo_224", dim: 16, inDim: 16, depths: [1, 1, 3, 1],
                                  heads: [2, 2, 4, 8], windowSize: [7, 7, 7, 7], ctSize: 2, layerScale: 0.1,
                                  hat: [false, false, true, false], doPropagation: true, numClasses: 2,
                                  resolution: [224, 224], cropPct: 1, cropMode: "center")

    /// The demo model, faster_vit_0_224, a 21k-style model and a non-square any-res input.
    static let recordings: [(String, Recording)] = [
        ("demo", SyntheticScene.recording(config: demo)),
        ("faster_vit_0_224", SyntheticScene.recording()),
        ("faster_vit_4_21k_224", SyntheticRecording.make(config: ModelConfig.preset(named: "faster_vit_4_21k_224")!)),
        ("faster_vit_0 at 224 x 320", SyntheticRecording.make(config: ModelConfig.presets[0], resolution: [224, 320])),
    ]

    /// The tour's explorer hints as rendered: one marked string per hint.
    func tourHints(_ buf: CellBuffer) -> [String]? {
        guard let top = (0 ..< buf.height).first(where: { buf.line($0).contains("In the explorer, from where it opens:") }) else { return nil }
        let cells = Array(buf.line(top).unicodeScalars), want = Array("In the explorer, from where it opens:".unicodeScalars)
        guard let x0 = (0 ... cells.count - want.count).first(where: { Array(cells[$0 ..< $0 + want.count]) == want }) else { return nil }
        var hints: [String] = []
        for y in top + 1 ..< buf.height - 1 {
            let row = marked(buf, row: y, from: x0).trimmingCharacters(in: .whitespaces)
            if row.isEmpty { continue }
            let startsHint = (row.hasPrefix("\u{27E6}") || row.hasPrefix("the explorer opens on"))
                && !(hints.last?.hasSuffix("then") ?? false)
            if startsHint || hints.isEmpty { hints.append(row) } else { hints[hints.count - 1] += " " + row }
        }
        return hints
    }

    func testTourKeyMentionsExistAndDoWhatTheySay() throws {
        let reach = try NSRegularExpression(pattern: "^((?:\u{27E6}[^\u{27E7}]+\u{27E7} (?:once|twice|\\d+ times)(?:, then )?)+): stage (\\d), (\\w+) view")
        let press = try NSRegularExpression(pattern: "\u{27E6}([^\u{27E7}]+)\u{27E7} (once|twice|\\d+ times)")
        let opens = try NSRegularExpression(pattern: "^the explorer opens on stage (\\d), (\\w+) view")
        for (name, rec) in Self.recordings {
            let screen = TourScreen(context: ExplorerContext(recording: rec, checkpointLabel: "synthetic"))
            for (w, h) in [(120, 40), (200, 60)] {
                for i in 0 ..< screen.stepCount {
                    let what = "\(name) step \(i + 1) at \(w)x\(h)"
                    let buf = screen.frame(TourState(count: screen.stepCount, index: i, screenWidth: w, screenHeight: h))
                    let start = startState(rec, width: w, height: h)
                    guard let hints = tourHints(buf) else {
                        XCTAssertTrue(screen.guide.step(i).explorer.isEmpty, "\(what): hints not drawn")
                        continue
                    }
                    XCTAssertFalse(buf.text.contains("\u{2026} (a larger terminal"), "\(what): text cut")
                    var here = start  // the state the step's last "reach" hint leads to
                    for hint in hints {
                        let ns = hint as NSString
                        if let m = reach.firstMatch(in: hint, range: NSRange(location: 0, length: ns.length)) {
                            var s = start
                            for p in press.matches(in: hint, range: m.range(at: 1)) {
                                let word = ns.substring(with: p.range(at: 2))
                                let n = word == "once" ? 1 : (word == "twice" ? 2 : Int(word.split(separator: " ")[0])!)
                                let ks = keys(inRun: ns.substring(with: p.range(at: 1)))
                                XCTAssertEqual(ks.count, 1, "\(what): \(hint)")
                                XCTAssertNotNil(KeyBindings.action(for: ks[0]), "\(what): \(hint)")
                                for _ in 0 ..< n { s = KeyHandling.handle(s, ks[0]).0 }
                            }
                            XCTAssertEqual(s.selection.level + 1, Int(ns.substring(with: m.range(at: 2))), "\(what): \(hint)")
                            XCTAssertEqual(s.view.rawValue, ns.substring(with: m.range(at: 3)), "\(what): \(hint)")
                            here = s
                        } else if let m = opens.firstMatch(in: hint, range: NSRange(location: 0, length: ns.length)) {
                            XCTAssertEqual(start.selection.level + 1, Int(ns.substring(with: m.range(at: 1))), "\(what): \(hint)")
                            XCTAssertEqual(start.view.rawValue, ns.substring(with: m.range(at: 2)), "\(what): \(hint)")
                            here = start
                        } else if hint.hasPrefix("\u{27E6}") {
                            // "r / R: pick the carrier ...": keys before the colon, each pressed where the step leads.
                            let head = hint.prefix { $0 != ":" }
                            let named = runs(String(head)).map(\.key).filter { $0 != "/" }
                            XCTAssertFalse(named.isEmpty, "\(what): \(hint)")
                            for run in named { checkRun(run, expected: nil, in: here, "\(what): \(hint)") }
                        } else {
                            XCTAssertFalse(hint.contains("\u{27E6}"), "\(what): keys inside a note: \(hint)")
                        }
                    }
                    // Key names appear nowhere else in the step's text panel.
                    let hintRow = (0 ..< buf.height).first { buf.line($0).contains("In the explorer, from where it opens:") }!
                    for y in 1 ..< hintRow { XCTAssertTrue(runs(marked(buf, row: y)).isEmpty, "\(what): a key outside the hints on row \(y)") }
                }
            }
        }
    }

    func testTourFooterKeysDoWhatTheySay() {
        let screen = TourScreen(context: ExplorerContext(recording: SyntheticScene.recording(), checkpointLabel: "synthetic"))
        let n = screen.stepCount
        let s = TourState(count: n, index: 3, screenWidth: 120, screenHeight: 40)
        let footer = runs(marked(screen.frame(s), row: 39))
        XCTAssertEqual(footer.map(\.after).map { String($0.prefix(5)) }, ["next", "back", "first", "last", "leave"])
        for (run, after) in footer {
            for k in keys(inRun: run) {
                let (t, quit) = TourKeys.handle(s, k)
                switch after {
                case let a where a.hasPrefix("next"): XCTAssertEqual(t.index, 4, run)
                case let a where a.hasPrefix("back"): XCTAssertEqual(t.index, 2, run)
                case let a where a.hasPrefix("first"): XCTAssertEqual(t.index, 0, run)
                case let a where a.hasPrefix("last"): XCTAssertEqual(t.index, n - 1, run)
                case let a where a.hasPrefix("leave"): XCTAssertTrue(quit, run)
                default: XCTFail("unknown tour footer label \(after)")
                }
                if !after.hasPrefix("leave") { XCTAssertFalse(quit, run) }
            }
        }
    }
}
