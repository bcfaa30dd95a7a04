// Key handling as a pure function: (state, key) -> (state, effects). It never draws and never
// touches the terminal, so tests drive it with plain values. The binding table below is the one
// source of what each key does (KeyHandling dispatches through it) and of every key name on
// screen: the footer, the help overlay, the status line and the tour's explorer hints.
import HatRecording
import HatViews

/// An input event, already decoded from ncurses.
public enum Key: Equatable, Sendable {
    case char(Character)
    case up, down, left, right, tab, backTab, escape, enter
    case resize(width: Int, height: Int)
    case mousePress(x: Int, y: Int)
    /// The mouse moved with the left button held (a drag), now over cell (x, y).
    case mouseDrag(x: Int, y: Int)
    case wheelUp, wheelDown
    /// Ctrl-C (a key in raw mode, not a signal): quits like q.
    case interrupt
    /// Ctrl-Z (a key in raw mode): the terminal suspends the program (Terminal.readEvent) before
    /// any handler sees it; a handler that gets it anyway ignores it.
    case suspend
    /// Anything else the terminal sent (Alt+key, function keys, reports, malformed bytes): ignored.
    case unknown
}

/// What the app must do after a key (the handler itself does none of it).
public enum Effect: Equatable, Sendable {
    case redraw
    /// Write the current view as PNG into the export folder.
    case export(ViewKind, Selection)
    /// Write the montage of all heads of the current view.
    case exportMontage(ViewKind, Selection)
    /// Open the guided tour (TourScreen) on this recording at `step` (clamped: Int.max = the
    /// last step, the per-head statistics); the explorer resumes after it.
    case openTour(step: Int)
    case quit
}

/// One key and the explorer action it triggers.
public struct KeyAction: Sendable, Equatable {
    public let key: Key
    public let action: ExplorerAction
    public init(_ key: Key, _ action: ExplorerAction) { self.key = key; self.action = action }
}

/// A footer hint: the key text, its label, a shorter label for narrow screens, and a priority
/// (hints with the highest number are left out first when even the short ones do not fit).
public struct FooterHint: Sendable, Equatable {
    public let key: String, label: String, short: String, priority: Int
}

/// A row of the key table: keys that belong together ("s / S"), what they do, and their footer hint.
public struct KeyBinding: Sendable, Equatable {
    public let keys: [KeyAction]
    /// How the help overlay names the keys ("s / S").
    public let label: String
    /// What the keys do, as the help overlay says it.
    public let help: String
    public let footer: FooterHint?
    /// Its hint in the footer while occlusion painting is on (that footer lists painting keys).
    public let paintFooter: FooterHint?

    init(_ keys: [KeyAction], label: String? = nil, _ help: String, footer: FooterHint? = nil,
         paintFooter: FooterHint? = nil) {
        self.keys = keys
        self.label = label ?? keys.map { KeyBindings.name($0.key) }.joined(separator: " / ")
        self.help = help; self.footer = footer; self.paintFooter = paintFooter
    }
}

public enum KeyBindings {
    /// The one key table: KeyHandling dispatches through it, and the footer, the help overlay, the
    /// status line and the tour's key mentions are all rendered from it.
    public static let table: [KeyBinding] = [
        KeyBinding([KeyAction(.left, .queryLeft), KeyAction(.down, .queryDown), KeyAction(.up, .queryUp),
                    KeyAction(.right, .queryRight), KeyAction(.char("h"), .queryLeft), KeyAction(.char("j"), .queryDown),
                    KeyAction(.char("k"), .queryUp), KeyAction(.char("l"), .queryRight)],
                   label: "\u{2190}\u{2193}\u{2191}\u{2192} h j k l", "move the query token (crosses windows); painting: the brush",
                   footer: FooterHint(key: "\u{2190}\u{2191}\u{2193}\u{2192}", label: "query", short: "move", priority: 0),
                   paintFooter: FooterHint(key: "\u{2190}\u{2191}\u{2193}\u{2192}", label: "brush", short: "brush", priority: 0)),
        KeyBinding([KeyAction(.tab, .nextView), KeyAction(.backTab, .previousView)], "next / previous view",
                   footer: FooterHint(key: "Tab", label: "view", short: "view", priority: 0)),
        KeyBinding([KeyAction(.char("s"), .nextStage), KeyAction(.char("S"), .previousStage)],
                   "next / previous stage (1-2 convolutional: energy)",
                   footer: FooterHint(key: "s", label: "stage", short: "stage", priority: 1)),
        KeyBinding([KeyAction(.char("b"), .nextBlock), KeyAction(.char("B"), .previousBlock)], "next / previous block",
                   footer: FooterHint(key: "b", label: "block", short: "blk", priority: 1)),
        KeyBinding([KeyAction(.char("n"), .nextHead), KeyAction(.char("N"), .previousHead)],
                   "next / previous head, with \"mean of heads\" after the last",
                   footer: FooterHint(key: "n", label: "head", short: "head", priority: 1)),
        KeyBinding([KeyAction(.char("m"), .meanOfHeads)], "mean of heads on / off"),
        KeyBinding([KeyAction(.char("w"), .nextWindow), KeyAction(.char("W"), .previousWindow)],
                   "next / previous window (same spot inside it)",
                   footer: FooterHint(key: "w", label: "window", short: "win", priority: 1)),
        KeyBinding([KeyAction(.char("r"), .nextCarrier), KeyAction(.char("R"), .previousCarrier)],
                   "carrier view: next / previous carrier; else the query = a carrier slot",
                   footer: FooterHint(key: "r", label: "carrier", short: "ct", priority: 3)),
        KeyBinding([KeyAction(.char("c"), .nextColormap)], "next colour map",
                   footer: FooterHint(key: "c", label: "cmap", short: "cmap", priority: 4)),
        KeyBinding([KeyAction(.char("o"), .paintOcclusion)],
                   "occlusion painting on / off (the model runs again after each change)",
                   paintFooter: FooterHint(key: "o", label: "stop painting", short: "stop", priority: 0)),
        KeyBinding([KeyAction(.char(" "), .toggleOcclusion)],
                   "painting: occlude the brush's tokens (mean colour), or clear them",
                   paintFooter: FooterHint(key: "Space", label: "occlude/clear", short: "occl", priority: 0)),
        KeyBinding([KeyAction(.char("["), .smallerBrush), KeyAction(.char("]"), .largerBrush)],
                   "painting: brush size (one token, 2 x 2 tokens, the window)",
                   paintFooter: FooterHint(key: "[ ]", label: "resize brush", short: "size", priority: 1)),
        KeyBinding([KeyAction(.char("x"), .ablateHead)],
                   "this block's current head off / on (carrier view: its carrier attention)"),
        KeyBinding([KeyAction(.char("K"), .cycleCarrierCut)],
                   "this stage's carrier cut: cut carriers, cut global, no propagation, none"),
        KeyBinding([KeyAction(.char("u"), .undo), KeyAction(.char("U"), .resetInterventions)],
                   "undo the last intervention / remove all interventions",
                   paintFooter: FooterHint(key: "u/U", label: "undo/reset", short: "undo", priority: 1)),
        KeyBinding([KeyAction(.char("d"), .differenceView)],
                   "difference view on / off: this view after minus before the interventions"),
        KeyBinding([KeyAction(.char("e"), .exportView)], "export the current view as PNG",
                   footer: FooterHint(key: "e/E", label: "export", short: "export", priority: 2)),
        KeyBinding([KeyAction(.char("E"), .exportMontage)], "export the montage of all heads as PNG"),
        KeyBinding([KeyAction(.char("t"), .tour), KeyAction(.char("T"), .tourStatistics)],
                   "guided tour of this image (T: straight to the per-head statistics)",
                   footer: FooterHint(key: "t", label: "tour", short: "tour", priority: 2)),
        KeyBinding([KeyAction(.mousePress(x: 0, y: 0), .pick)], label: "mouse click",
                   "pick the query token (on a matrix: its row); painting: occlude / clear",
                   paintFooter: FooterHint(key: "click", label: "occlude", short: "occl", priority: 2)),
        KeyBinding([KeyAction(.mouseDrag(x: 0, y: 0), .pick)], label: "mouse drag",
                   "move the query; painting: occlude (or clear) every token passed"),
        KeyBinding([KeyAction(.wheelDown, .nextHead), KeyAction(.wheelUp, .previousHead)], label: "mouse wheel",
                   "next / previous head"),
        KeyBinding([KeyAction(.char("?"), .help)], "this help (\u{2193} \u{2191} page it on a small screen; any other key than q closes it)",
                   footer: FooterHint(key: "?", label: "help", short: "help", priority: 0),
                   paintFooter: FooterHint(key: "?", label: "help", short: "help", priority: 0)),
        KeyBinding([KeyAction(.char("q"), .quit), KeyAction(.escape, .quit), KeyAction(.interrupt, .quit)],
                   "quit (Ctrl-Z suspends to the shell; fg comes back)",
                   footer: FooterHint(key: "q", label: "quit", short: "quit", priority: 0),
                   paintFooter: FooterHint(key: "q", label: "quit", short: "quit", priority: 0)),
    ]

    /// The status line's hints when there is no message: key action and what it does.
    public static let statusHints: [(action: ExplorerAction, text: String)] = [
        (.help, "help"), (.exportView, "export this view"), (.exportMontage, "export all heads"),
    ]
    /// The same when the model can run again: the live interventions (the footer keeps moving around).
    public static let liveStatusHints: [(action: ExplorerAction, text: String)] = [
        (.paintOcclusion, "paint occlusions"), (.ablateHead, "switch head off"), (.cycleCarrierCut, "cut carriers"),
        (.undo, "undo"), (.resetInterventions, "remove all"), (.differenceView, "after minus before"),
    ]

    /// Footer hints in table order.
    public static var footer: [FooterHint] { table.compactMap(\.footer) }
    /// The footer while occlusion painting is on.
    public static var paintFooter: [FooterHint] { table.compactMap(\.paintFooter) }

    /// The action `key` triggers, or nil (a mouse press or drag anywhere is `.pick`).
    public static func action(for key: Key) -> ExplorerAction? {
        if case .mousePress = key { return .pick }
        if case .mouseDrag = key { return .pick }
        for row in table { if let k = row.keys.first(where: { $0.key == key }) { return k.action } }
        return nil
    }

    /// The keys bound to `action`, in table order.
    public static func keys(for action: ExplorerAction) -> [Key] {
        table.flatMap { $0.keys.filter { $0.action == action }.map(\.key) }
    }

    /// How the keys of `actions` are named on screen: the row's label when the actions are exactly
    /// one row's ("r / R"), else the first key of each action joined by " / ".
    public static func label(for actions: [ExplorerAction]) -> String {
        let wanted = Set(actions)
        if let row = table.first(where: { Set($0.keys.map(\.action)) == wanted }) { return row.label }
        return actions.compactMap { keys(for: $0).first.map(name) }.joined(separator: " / ")
    }

    /// A key's name on screen: "s", "Tab", "Shift-Tab", "Esc", "\u{2190}", "Space", "Backspace".
    public static func name(_ key: Key) -> String {
        switch key {
        case .char(" "): return "Space"
        case .char("\u{7f}"), .char("\u{8}"): return "Backspace"
        case let .char(c): return String(c)
        case .up: return "\u{2191}"
        case .down: return "\u{2193}"
        case .left: return "\u{2190}"
        case .right: return "\u{2192}"
        case .tab: return "Tab"
        case .backTab: return "Shift-Tab"
        case .escape: return "Esc"
        case .enter: return "Enter"
        case .interrupt: return "Ctrl-C"
        case .suspend: return "Ctrl-Z"
        case .mousePress: return "click"
        case .mouseDrag: return "drag"
        case .wheelUp: return "wheel up"
        case .wheelDown: return "wheel down"
        case .resize, .unknown: return ""
        }
    }
}

public enum KeyHandling {
    public static func handle(_ state: AppState, _ key: Key) -> (AppState, [Effect]) {
        var s = state
        if case let .resize(w, h) = key {
            s.screenWidth = w; s.screenHeight = h
            return (s, [.redraw])
        }
        // Ctrl-C quits from anywhere, the help overlay included (it is also in the quit row).
        if key == .interrupt { return (s, [.quit]) }
        // Input that is no key (Alt+key, function keys, terminal reports) changes nothing.
        if key == .unknown || key == .suspend { return (state, []) }
        if s.showHelp {
            // ↓ / ↑ page through a help taller than the screen; any other key closes it; q quits.
            let (total, visible) = Renderer.helpExtent(width: s.screenWidth, height: s.screenHeight)
            if total > visible, key == .down || key == .up {
                let page = max(1, visible - 1)
                s.helpScroll = clamp(s.helpScroll + (key == .down ? page : -page), 0, total - visible)
                return (s, [.redraw])
            }
            s.showHelp = false
            s.helpScroll = 0
            if key == .char("q") { return (s, [.quit]) }
            return (s, [.redraw])
        }
        s.status = ""; s.statusIsError = false
        guard let stage = s.stage else {
            return KeyBindings.action(for: key) == .quit ? (s, [.quit]) : (s, [])
        }
        guard let action = KeyBindings.action(for: key) else { return (state, []) }
        if case .mouseDrag = key {} else { s.strokeHasUndoStep = false }
        switch action {
        case .quit: return (s, [.quit])
        case .help: s.showHelp = true
        case .queryLeft: moveQuery(&s, stage, dr: 0, dc: -1)
        case .queryRight: moveQuery(&s, stage, dr: 0, dc: 1)
        case .queryUp: moveQuery(&s, stage, dr: -1, dc: 0)
        case .queryDown: moveQuery(&s, stage, dr: 1, dc: 0)
        case .nextView: cycleView(&s, stage, by: 1)
        case .previousView: cycleView(&s, stage, by: -1)
        case .nextStage: stepStage(&s, by: 1)
        case .previousStage: stepStage(&s, by: -1)
        case .nextBlock: stepBlock(&s, stage, by: 1)
        case .previousBlock: stepBlock(&s, stage, by: -1)
        case .nextHead: stepHead(&s, stage, by: 1)
        case .previousHead: stepHead(&s, stage, by: -1)
        case .meanOfHeads:
            if stage.heads > 0 { s.selection.head = s.selection.head == nil ? 0 : nil }
        case .nextWindow: stepWindow(&s, stage, by: 1)
        case .previousWindow: stepWindow(&s, stage, by: -1)
        case .nextCarrier: stepCarrier(&s, stage, by: 1)
        case .previousCarrier: stepCarrier(&s, stage, by: -1)
        case .nextColormap: s.colormapIndex = (s.colormapIndex + 1) % s.colormaps.count
        case .exportView: return (s, [.export(s.view, s.selection), .redraw])
        case .exportMontage: return (s, [.exportMontage(s.view, s.selection), .redraw])
        case .tour: return (s, [.openTour(step: 0), .redraw])
        case .tourStatistics: return (s, [.openTour(step: .max), .redraw])
        case .pick:
            switch key {
            case let .mousePress(x, y):
                click(&s, stage, x: x, y: y)
                if s.painting && onImage(s, x: x, y: y) {
                    // A press paints the brush there and fixes what the drag does: occlude, or
                    // clear when everything under the brush was occluded.
                    s.strokeOccludes = toggleBrush(&s, stage)
                    s.strokeHasUndoStep = true
                } else {
                    s.strokeOccludes = nil
                }
            case let .mouseDrag(x, y):
                let before = s.selection
                click(&s, stage, x: x, y: y)
                if s.painting, let occlude = s.strokeOccludes, s.selection != before {
                    // The terminal reports where the pointer is, not every cell it crossed: a
                    // quick stroke skipped tokens. The brush goes over each token on the way.
                    let end = s.selection
                    var tokens: [StageToken] = []
                    for (r, c) in tokenLine(from: (before.queryRow, before.queryCol), to: (end.queryRow, end.queryCol)).dropFirst() {
                        s.selection.queryRow = r; s.selection.queryCol = c
                        tokens += brushTokens(s, stage)
                    }
                    s.selection = end
                    let was = s.edits
                    paint(&s, stage, tokens: tokens, occlude: occlude, joinStroke: s.strokeHasUndoStep)
                    if s.edits != was { s.strokeHasUndoStep = true }
                }
            default: return (state, [])
            }
        case .paintOcclusion:
            guard live(&s) else { break }
            s.painting.toggle()
            s.strokeOccludes = nil
            s.status = s.painting
                ? "painting occlusions on stage \(stage.level + 1) (brush: \(s.brush.rawValue)); the model runs again after each change"
                : "painting off"
        case .toggleOcclusion:
            guard live(&s) else { break }
            guard s.painting else {
                s.status = "\(keyName(.paintOcclusion)): start painting occlusions first"
                break
            }
            _ = toggleBrush(&s, stage)
        case .smallerBrush, .largerBrush:
            let all = Brush.allCases
            let i = all.firstIndex(of: s.brush) ?? 0
            s.brush = all[clamp(i + (action == .largerBrush ? 1 : -1), 0, all.count - 1)]
            s.status = "brush: \(s.brush.rawValue)" + (s.painting ? "" : " (\(keyName(.paintOcclusion)): start painting)")
        case .ablateHead:
            guard live(&s) else { break }
            ablate(&s, stage)
        case .cycleCarrierCut:
            guard live(&s) else { break }
            cycleCut(&s, stage)
        case .undo:
            guard live(&s) else { break }
            if let last = s.undoStack.popLast() {
                s.edits = last
                s.status = "undone"
            } else {
                s.status = "nothing to undo"
            }
        case .resetInterventions:
            guard live(&s) else { break }
            if s.edits.isEmpty {
                s.status = "no interventions to remove"
            } else {
                change(&s) { $0 = LiveEdits() }
                s.showDiff = false
                s.status = "every intervention removed: the plain run (\(keyName(.undo)): back)"
            }
        case .differenceView:
            guard live(&s) else { break }
            if s.showDiff {
                s.showDiff = false
            } else if s.edits.isEmpty {
                s.status = "the difference view compares with an intervention: make one first ("
                    + [ExplorerAction.paintOcclusion, .ablateHead, .cycleCarrierCut].map(keyName).joined(separator: ", ") + ")"
            } else {
                s.showDiff = true
            }
        }
        return (s, [.redraw])
    }

    // MARK: - Live interventions

    /// The first key bound to `action`, as the screen names it.
    static func keyName(_ action: ExplorerAction) -> String {
        KeyBindings.keys(for: action).first.map(KeyBindings.name) ?? "?"
    }

    /// Whether interventions can run; else says why in the status line.
    static func live(_ s: inout AppState) -> Bool {
        if let why = s.liveUnavailable { s.status = why; return false }
        return true
    }

    /// Applies a change to the interventions, keeping the previous ones for undo.
    static func change(_ s: inout AppState, _ edit: (inout LiveEdits) -> Void) {
        var e = s.edits
        edit(&e)
        guard e != s.edits else { return }
        s.undoStack.append(s.edits)
        if s.undoStack.count > 200 { s.undoStack.removeFirst() }
        s.edits = e
    }

    /// The tokens under the brush: the query token, the 2 x 2 tokens from it (shifted back at the
    /// grid's end), or the query's window (in a convolutional stage: its 8 x 8 block), all within
    /// the real (unpadded) token grid.
    public static func brushTokens(_ s: AppState, _ st: ExplorerStage) -> [StageToken] {
        let r = clamp(s.selection.queryRow, 0, st.tokenRows - 1), c = clamp(s.selection.queryCol, 0, st.tokenCols - 1)
        let rows: ClosedRange<Int>, cols: ClosedRange<Int>
        switch s.brush {
        case .token: rows = r ... r; cols = c ... c
        case .square:
            let r0 = max(0, min(r, st.tokenRows - 2)), c0 = max(0, min(c, st.tokenCols - 2))
            rows = r0 ... min(st.tokenRows - 1, r0 + 1); cols = c0 ... min(st.tokenCols - 1, c0 + 1)
        case .window:
            let side = st.attention?.windowSize ?? 8
            let r0 = (s.selection.queryRow / side) * side, c0 = (s.selection.queryCol / side) * side
            rows = min(r0, st.tokenRows - 1) ... min(st.tokenRows - 1, r0 + side - 1)
            cols = min(c0, st.tokenCols - 1) ... min(st.tokenCols - 1, c0 + side - 1)
        }
        return rows.flatMap { rr in cols.map { StageToken(stage: st.level + 1, row: rr, col: $0) } }
    }

    /// Occludes the tokens under the brush, or clears them when all of them were occluded;
    /// returns whether it occluded.
    @discardableResult
    static func toggleBrush(_ s: inout AppState, _ st: ExplorerStage) -> Bool {
        let tokens = brushTokens(s, st)
        let occlude = !tokens.allSatisfy { s.edits.occluded.contains($0) }
        paint(&s, st, occlude: occlude)
        return occlude
    }

    static func paint(_ s: inout AppState, _ st: ExplorerStage, occlude: Bool) {
        paint(&s, st, tokens: brushTokens(s, st), occlude: occlude)
    }

    /// Occludes (or clears) `tokens` as one change, or as part of the stroke's change when
    /// `joinStroke` (no undo step of its own).
    static func paint(_ s: inout AppState, _ st: ExplorerStage, tokens list: [StageToken], occlude: Bool,
                      joinStroke: Bool = false) {
        var seen = Set<StageToken>()
        let tokens = list.filter { seen.insert($0).inserted }
        let edit: (inout LiveEdits) -> Void = { e in for t in tokens { if occlude { e.occluded.insert(t) } else { e.occluded.remove(t) } } }
        if joinStroke { edit(&s.edits) } else { change(&s, edit) }
        let n = s.edits.occluded.count
        s.status = (occlude ? "occluded" : "cleared") + " \(tokens.count) token\(tokens.count == 1 ? "" : "s") of stage \(st.level + 1)"
            + " (\(n) occluded in all)"
    }

    /// The grid positions on the straight line from `a` to `b`, both ends included, each a step
    /// of at most one row and one column from the one before.
    static func tokenLine(from a: (Int, Int), to b: (Int, Int)) -> [(Int, Int)] {
        let n = max(abs(b.0 - a.0), abs(b.1 - a.1))
        guard n > 0 else { return [a] }
        return (0 ... n).map { i in
            (a.0 + Int((Double((b.0 - a.0) * i) / Double(n)).rounded()), a.1 + Int((Double((b.1 - a.1) * i) / Double(n)).rounded()))
        }
    }

    /// Whether the cell is over the picture's image.
    static func onImage(_ s: AppState, x: Int, y: Int) -> Bool {
        guard let pic = s.picture, case .image = pic.content else { return false }
        return pic.contentPoint(cellX: x, cellY: y) != nil
    }

    /// `x`: the current head of the current block off, or on again (carrier view: carrier attention).
    static func ablate(_ s: inout AppState, _ st: ExplorerStage) {
        guard let g = st.attention else {
            s.status = "stage \(st.level + 1) is convolutional: it has no attention heads"
            return
        }
        guard let h = s.selection.head else {
            s.status = "\(keyName(.ablateHead)) switches off one head: pick one with \(keyName(.nextHead)) (now: mean of heads)"
            return
        }
        let module: AttentionModule = s.view == .carrier && g.hasCarriers ? .hatAttn : .attn
        let ref = HeadRef(level: st.level, block: s.selection.block, module: module, head: h)
        let on = s.edits.ablated.contains(ref)
        change(&s) { e in if on { e.ablated.remove(ref) } else { e.ablated.insert(ref) } }
        s.status = (on ? "head back on: " : "head switched off: ") + ref.intervention.description
    }

    /// The carrier cuts that apply to a stage, in `K`'s order after "none".
    public static func cuts(for st: ExplorerStage) -> [CarrierCut] {
        guard let g = st.attention, g.hasCarriers else { return [] }
        return [.cutCarriers, .cutGlobal] + (st.hasPropagation ? [.noPropagation] : [])
    }

    static func cycleCut(_ s: inout AppState, _ st: ExplorerStage) {
        let options = cuts(for: st)
        guard !options.isEmpty else {
            s.status = st.isConvolutional ? "stage \(st.level + 1) is convolutional: it has no carrier tokens to cut"
                : "stage \(st.level + 1) has no carrier tokens: no carrier cut applies"
            // Say where the carriers are and the key that goes there.
            let withCarriers = s.geometry.stages.filter { !cuts(for: $0).isEmpty }.map(\.level)
            if let nearest = withCarriers.min(by: { abs($0 - st.level) < abs($1 - st.level) }) {
                let step = KeyBindings.keys(for: nearest > st.level ? .nextStage : .previousStage).first.map(KeyBindings.name) ?? "?"
                s.status += " (carriers in stage \(withCarriers.map { String($0 + 1) }.joined(separator: ", ")); \(step): "
                    + (nearest > st.level ? "next" : "previous") + " stage)"
            }
            return
        }
        let cycle: [CarrierCut] = [.none] + options
        let now = s.edits.cuts[st.level] ?? .none
        let next = cycle[wrap((cycle.firstIndex(of: now) ?? 0) + 1, cycle.count)]
        change(&s) { $0.cuts[st.level] = next == .none ? nil : next }
        s.status = next.intervention(level: st.level).map { "carrier cut: \($0.description)" }
            ?? "no carrier cut in stage \(st.level + 1)"
    }

    // MARK: - Steps

    static func moveQuery(_ s: inout AppState, _ st: ExplorerStage, dr: Int, dc: Int) {
        s.selection.queryRow = clamp(s.selection.queryRow + dr, 0, st.gridRows - 1)
        s.selection.queryCol = clamp(s.selection.queryCol + dc, 0, st.gridCols - 1)
        s.selection.carrierSlot = nil
    }

    static func cycleView(_ s: inout AppState, _ st: ExplorerStage, by d: Int) {
        let views = st.views
        guard views.count > 1 else {
            let next = KeyBindings.keys(for: .nextStage).first.map(KeyBindings.name) ?? "?"
            s.status = "stage \(st.level + 1) is convolutional: it has only the energy view (\(next): next stage)"
            return
        }
        let i = views.firstIndex(of: s.view) ?? 0
        s.view = views[wrap(i + d, views.count)]
        s.lastTransformerView = s.view
    }

    static func stepStage(_ s: inout AppState, by d: Int) {
        let stages = s.geometry.stages
        guard let old = s.stage, stages.count > 1 else { return }
        let new = stages[wrap(s.stageIndex + d, stages.count)]
        // Keep the query over the same spot of the image.
        let cy = s.selection.queryRow * old.stride + old.stride / 2
        let cx = s.selection.queryCol * old.stride + old.stride / 2
        s.selection.level = new.level
        s.selection.queryRow = clamp(cy / max(1, new.stride), 0, new.gridRows - 1)
        s.selection.queryCol = clamp(cx / max(1, new.stride), 0, new.gridCols - 1)
        s.selection.carrierSlot = nil
        if new.isConvolutional {
            s.view = .energy
            s.selection.head = nil
        } else {
            if !new.recordedBlocks.contains(s.selection.block) {
                s.selection.block = new.recordedBlocks.last { $0 <= s.selection.block } ?? new.recordedBlocks.first ?? 0
            }
            if old.isConvolutional || s.selection.head != nil {
                s.selection.head = min(s.selection.head ?? 0, max(0, new.heads - 1))
            }
            s.selection.carrier = min(s.selection.carrier, max(0, (new.attention?.carrierCount ?? 0) - 1))
            s.view = new.views.contains(s.lastTransformerView) ? s.lastTransformerView : (new.views.first ?? .local)
        }
    }

    static func stepBlock(_ s: inout AppState, _ st: ExplorerStage, by d: Int) {
        let blocks = st.recordedBlocks
        guard !blocks.isEmpty else { s.status = "stage \(st.level + 1) has no attention blocks"; return }
        let i = blocks.firstIndex(of: s.selection.block) ?? 0
        s.selection.block = blocks[wrap(i + d, blocks.count)]
    }

    /// Heads 0 ..< H, then the mean of heads (nil), then around again.
    static func stepHead(_ s: inout AppState, _ st: ExplorerStage, by d: Int) {
        guard st.heads > 0 else { return }
        let positions = st.heads + 1
        let i = s.selection.head ?? st.heads
        let n = wrap(i + d, positions)
        s.selection.head = n == st.heads ? nil : n
    }

    static func stepWindow(_ s: inout AppState, _ st: ExplorerStage, by d: Int) {
        guard let g = st.attention, let w = s.window else { return }
        let t = g.localToken(row: s.selection.queryRow, col: s.selection.queryCol)
        let p = g.tokenPosition(window: wrap(w + d, g.windowCount), local: t)
        s.selection.queryRow = p.row
        s.selection.queryCol = p.col
    }

    static func stepCarrier(_ s: inout AppState, _ st: ExplorerStage, by d: Int) {
        guard let g = st.attention, g.hasCarriers else {
            if s.view != .carrier { s.status = "no carrier tokens in stage \(st.level + 1)" }
            return
        }
        if s.view == .carrier {
            s.selection.carrier = wrap(s.selection.carrier + d, g.carrierCount)
            return
        }
        // nil (the grid token), 0 ..< c*c, and around.
        let positions = g.carriersPerWindow + 1
        let i = s.selection.carrierSlot ?? g.carriersPerWindow
        let n = wrap(i + d, positions)
        s.selection.carrierSlot = n == g.carriersPerWindow ? nil : n
    }

    static func click(_ s: inout AppState, _ st: ExplorerStage, x: Int, y: Int) {
        // The matrix beside the image (carrier view: the N x N carrier attention) takes its clicks.
        if let side = s.sideMatrix, side.rect.contains(x: x, y: y) {
            if let e = side.matrixEntry(cellX: x, cellY: y) { matrixClick(&s, st, row: e.row) }
            return
        }
        guard let pic = s.picture else { return }
        switch pic.content {
        case .image:
            guard let p = pic.contentPoint(cellX: x, cellY: y) else { return }
            s.selection.queryRow = clamp(Int(p.y) / max(1, st.stride), 0, st.gridRows - 1)
            s.selection.queryCol = clamp(Int(p.x) / max(1, st.stride), 0, st.gridCols - 1)
            s.selection.carrierSlot = nil
        case .matrix:
            guard let e = pic.matrixEntry(cellX: x, cellY: y) else { return }
            matrixClick(&s, st, row: e.row)
        }
    }

    /// A click on matrix row `row` picks that query: a carrier token in the carrier view's
    /// N x N matrix; in a window's matrix (carriers first, then its w*w tokens) that slot or token.
    static func matrixClick(_ s: inout AppState, _ st: ExplorerStage, row: Int) {
        guard let g = st.attention else { return }
        if s.view == .carrier {
            if row < g.carrierCount { s.selection.carrier = row }
            return
        }
        guard let w = s.window else { return }
        let c = g.carriersPerWindow
        if row < c {
            s.selection.carrierSlot = row
        } else {
            guard row < g.tokensPerWindow else { return }
            let p = g.tokenPosition(window: w, local: row - c)
            s.selection.queryRow = p.row
            s.selection.queryCol = p.col
            s.selection.carrierSlot = nil
        }
    }

    @inline(__always) static func clamp(_ v: Int, _ lo: Int, _ hi: Int) -> Int { max(lo, min(hi, v)) }
    @inline(__always) static func wrap(_ v: Int, _ n: Int) -> Int { n <= 0 ? 0 : ((v % n) + n) % n }
}
