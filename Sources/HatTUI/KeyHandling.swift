// Key handling as a pure function: (state, key) -> (state, effects). It never draws and never
// touches the terminal, so tests drive it with plain values. The binding table below is the one
// source for the footer hints and the help overlay.
import HatViews

/// An input event, already decoded from ncurses.
public enum Key: Equatable, Sendable {
    case char(Character)
    case up, down, left, right, tab, backTab, escape, enter
    case resize(width: Int, height: Int)
    case mousePress(x: Int, y: Int)
    case wheelUp, wheelDown
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

public enum KeyBindings {
    /// (keys, what they do, footer label or nil when only in the help overlay).
    public static let table: [(keys: String, action: String, hint: String?)] = [
        ("\u{2190}\u{2193}\u{2191}\u{2192} h j k l", "move the query token (crosses windows)", "query"),
        ("Tab / Shift-Tab", "next / previous view", "view"),
        ("s / S", "next / previous stage (1-2 convolutional: energy)", "stage"),
        ("b / B", "next / previous block", "block"),
        ("n / N", "next / previous head, with \"mean of heads\" after the last", "head"),
        ("m", "mean of heads on / off", "mean"),
        ("w / W", "next / previous window (same spot inside it)", "window"),
        ("r / R", "carrier view: next / previous carrier token; other views: query = carrier slot of the window", "carrier"),
        ("c", "next colour map", "colors"),
        ("e", "export the current view as PNG", "export"),
        ("E", "export the montage of all heads as PNG", nil),
        ("t / T", "guided tour of this image (T: straight to the per-head statistics)", "tour"),
        ("mouse click", "pick the query token (and its window); on a matrix, its query row", nil),
        ("mouse wheel", "next / previous head", nil),
        ("?", "this help (any key closes it)", "help"),
        ("q / Esc", "quit", "quit"),
    ]

    /// Footer hints in display order: key, label, a shorter label for narrow screens, and a
    /// priority (hints with the highest number are left out first when even short ones don't fit).
    public static let footer: [(key: String, label: String, short: String, priority: Int)] = [
        ("\u{2190}\u{2191}\u{2193}\u{2192}", "query", "move", 0), ("Tab", "view", "view", 0),
        ("s", "stage", "stage", 1), ("b", "block", "blk", 1), ("n", "head", "head", 1),
        ("w", "window", "win", 1), ("r", "carrier", "ct", 3), ("t", "tour", "tour", 2), ("c", "cmap", "cmap", 4),
        ("e/E", "export", "export", 2), ("?", "help", "help", 0), ("q", "quit", "quit", 0),
    ]
}

public enum KeyHandling {
    public static func handle(_ state: AppState, _ key: Key) -> (AppState, [Effect]) {
        var s = state
        if case let .resize(w, h) = key {
            s.screenWidth = w; s.screenHeight = h
            return (s, [.redraw])
        }
        if s.showHelp {
            // Any key closes the help; q still quits.
            s.showHelp = false
            if key == .char("q") { return (s, [.quit]) }
            return (s, [.redraw])
        }
        s.status = ""; s.statusIsError = false
        guard let stage = s.stage else {
            return key == .char("q") || key == .escape ? (s, [.quit]) : (s, [])
        }
        switch key {
        case .char("q"), .escape: return (s, [.quit])
        case .char("?"): s.showHelp = true
        case .left, .char("h"): moveQuery(&s, stage, dr: 0, dc: -1)
        case .right, .char("l"): moveQuery(&s, stage, dr: 0, dc: 1)
        case .up, .char("k"): moveQuery(&s, stage, dr: -1, dc: 0)
        case .down, .char("j"): moveQuery(&s, stage, dr: 1, dc: 0)
        case .tab: cycleView(&s, stage, by: 1)
        case .backTab: cycleView(&s, stage, by: -1)
        case .char("s"): stepStage(&s, by: 1)
        case .char("S"): stepStage(&s, by: -1)
        case .char("b"): stepBlock(&s, stage, by: 1)
        case .char("B"): stepBlock(&s, stage, by: -1)
        case .char("n"), .wheelDown: stepHead(&s, stage, by: 1)
        case .char("N"), .wheelUp: stepHead(&s, stage, by: -1)
        case .char("m"):
            if stage.heads > 0 { s.selection.head = s.selection.head == nil ? 0 : nil }
        case .char("w"): stepWindow(&s, stage, by: 1)
        case .char("W"): stepWindow(&s, stage, by: -1)
        case .char("r"): stepCarrier(&s, stage, by: 1)
        case .char("R"): stepCarrier(&s, stage, by: -1)
        case .char("c"): s.colormapIndex = (s.colormapIndex + 1) % s.colormaps.count
        case .char("e"): return (s, [.export(s.view, s.selection), .redraw])
        case .char("E"): return (s, [.exportMontage(s.view, s.selection), .redraw])
        case .char("t"): return (s, [.openTour(step: 0), .redraw])
        case .char("T"): return (s, [.openTour(step: .max), .redraw])
        case let .mousePress(x, y): click(&s, stage, x: x, y: y)
        default: return (state, [])
        }
        return (s, [.redraw])
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
            s.status = "stage \(st.level + 1) is convolutional: it has only the energy view (s: next stage)"
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
