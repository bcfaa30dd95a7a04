// The guided tour on screen: pure key handling over a small state and its key table, a pure frame
// renderer into a CellBuffer (header with progress, the step's picture on the left drawn by the
// explorer's PictureDrawer, the step's text on the right with its explorer hints spelled in keys,
// key hints at the bottom), and a run loop that can own the terminal (`hatscope tour`) or borrow
// the explorer's (`t` in the explorer). What a step says comes from HatViews' TourGuide.
import Foundation
import HatImaging
import HatRecording
import HatViews

/// Where the tour is.
public struct TourState: Equatable, Sendable {
    public var index: Int
    public let count: Int
    /// Text lines of the step scrolled past (Space / \u{2193} page through a text taller than the screen).
    public var scroll = 0
    public var screenWidth: Int, screenHeight: Int
    public init(count: Int, index: Int = 0, screenWidth: Int = 120, screenHeight: Int = 40) {
        self.count = count
        self.index = max(0, min(index, max(count - 1, 0)))
        self.screenWidth = screenWidth; self.screenHeight = screenHeight
    }
    public var isLast: Bool { index >= count - 1 }
}

/// What a key does in the tour.
public enum TourAction: Sendable, Equatable {
    case next, back, first, last, leave
}

/// A row of the tour's key table: the keys, the ones the footer names, the action and its label.
public struct TourKeyBinding: Sendable {
    public let keys: [Key]
    public let shown: [Key]
    public let action: TourAction
    public let label: String
}

public enum TourKeys {
    /// The tour's key table: handling, the footer and its test all read it.
    public static let table: [TourKeyBinding] = [
        TourKeyBinding(keys: [.char(" "), .enter, .right, .down, .char("l"), .char("j"), .char("n"), .wheelDown, .tab],
                       shown: [.char(" "), .right], action: .next, label: "next"),
        TourKeyBinding(keys: [.char("\u{7f}"), .char("\u{8}"), .left, .up, .char("h"), .char("k"), .char("p"), .wheelUp, .backTab],
                       shown: [.char("\u{7f}"), .left], action: .back, label: "back"),
        TourKeyBinding(keys: [.char("g")], shown: [.char("g")], action: .first, label: "first"),
        TourKeyBinding(keys: [.char("G")], shown: [.char("G")], action: .last, label: "last"),
        TourKeyBinding(keys: [.char("q"), .escape, .interrupt], shown: [.char("q"), .escape], action: .leave, label: "leave the tour"),
    ]

    /// (keys, action) for the footer: "Space/\u{2192}", "next".
    public static var hints: [(String, String)] {
        table.map { ($0.shown.map(KeyBindings.name).joined(separator: "/"), $0.label) }
    }

    /// Keys that page through a step's text before they move to the next / previous step (→ and
    /// ← always move).
    static let pageDown: [Key] = [.char(" "), .down, .char("j"), .wheelDown, .enter]
    static let pageUp: [Key] = [.up, .char("k"), .wheelUp, .char("\u{7f}"), .char("\u{8}")]

    /// Next state and whether to leave. `text`: the step's text lines and how many show at once
    /// (TourScreen.textExtent); where it does not fit, the paging keys scroll it first.
    public static func handle(_ s: TourState, _ key: Key, text: (total: Int, visible: Int) = (0, 0)) -> (state: TourState, quit: Bool) {
        var n = s
        if case let .resize(w, h) = key {
            n.screenWidth = w; n.screenHeight = h   // the page stays (after fg too); drawing clamps it
            return (n, false)
        }
        // A text that fits (a larger screen since) has nothing to page.
        if text.total <= text.visible { n.scroll = 0 }
        let page = max(1, text.visible - 1)
        if pageDown.contains(key), n.scroll + text.visible < text.total {
            n.scroll = min(n.scroll + page, text.total - text.visible)
            return (n, false)
        }
        if pageUp.contains(key), n.scroll > 0 {
            n.scroll = max(0, min(n.scroll, text.total - text.visible) - page)
            return (n, false)
        }
        guard let action = table.first(where: { $0.keys.contains(key) })?.action else { return (s, false) }
        n.scroll = 0
        switch action {
        case .leave: return (s, true)
        case .next: n.index = min(s.index + 1, max(s.count - 1, 0))
        case .back: n.index = max(s.index - 1, 0)
        case .first: n.index = 0
        case .last: n.index = max(s.count - 1, 0)
        }
        return (n, false)
    }
}

/// Draws and runs the tour for one recording.
public final class TourScreen {
    let context: ExplorerContext
    /// The steps (HatViews builds them from the recording; this screen only draws them).
    public let guide: TourGuide
    let theme: Theme
    let colormap: String

    /// `runner`: the model run again on the same input (the carrier step uses it; nil for a
    /// recording file); `interventions`: those the context's recording was run with.
    public init(context: ExplorerContext, theme: Theme = .standard, colormap: String = "viridis",
                runner: RecordingRunner? = nil, interventions: [Intervention] = []) {
        self.context = context
        guide = TourGuide(TourInputs(recording: context.recording, classNames: context.classNames, runner: runner,
                                     interventions: interventions, isDemo: context.isDemo))
        self.theme = theme
        self.colormap = colormap
    }

    public var stepCount: Int { guide.count }

    /// One frame's cells (tests and `hatscope-dev frame` use this without a terminal).
    public func frame(_ state: TourState, tier: ColorTier = .truecolor) -> CellBuffer {
        render(state, tier: tier).buffer
    }

    /// One frame; in pixel mode the step's picture is drawn by the figure code and placed over
    /// the cells left blank for it.
    public func render(_ state: TourState, tier: ColorTier = .truecolor, mode: PictureMode = .blocks) -> Frame {
        let w = state.screenWidth, h = state.screenHeight
        var buf = CellBuffer(width: w, height: h, fill: Cell(fg: theme.text, bg: theme.background))
        var pictures: [FramePicture] = []
        guard w >= Layout.minWidth, h >= Layout.minHeight, guide.count > 0 else {
            // Wrapped: a line cut at the screen's edge lost the size it needs.
            Renderer.drawTooSmall("terminal too small for the tour", theme: theme, into: &buf)
            Palette.adapt(&buf, to: tier, background: theme.background)
            return Frame(buffer: buf, picture: nil)
        }
        let step = guide.step(state.index)
        drawHeader(state, step, into: &buf)

        // Left: picture (+ colour bar); right: text.
        let top = 2, bottom = h - 2  // rows [top, bottom) between header+blank and footer
        let text = textLines(step)
        let panelWidth = self.panelWidth(text, width: w, rows: bottom - top)
        let leftWidth = w - panelWidth - 1
        // A colour bar under pictures with values (a field or a matrix).
        let hasScale = step.picture.map { $0.field != nil || $0.matrix != nil } ?? false
        // A narrow picture column (80 x 24) puts the scale's label on a row of its own.
        let labelBelow = step.picture.map { !Renderer.scaleFitsOneRow($0, width: max(1, leftWidth - 2)) } ?? false
        let picRows = max(1, bottom - top - (hasScale ? (labelBelow ? 2 : 1) : 0))
        let area = CellRect(x: 1, y: top, width: max(1, leftWidth - 2), height: picRows)
        if let stats = step.statistics {
            TourStatsDrawer.draw(stats, rect: CellRect(x: 1, y: top, width: max(1, leftWidth - 2), height: bottom - top),
                                 theme: theme, colormap: colormap, into: &buf)
        } else {
            // A matrix alone (the block step's window matrix), or the image with the field.
            let matrixOnly = step.picture.map { $0.field == nil && $0.matrix != nil } ?? false
            if case let .pixels(cw, ch, maxW, maxH) = mode {
                var v = step.picture
                if !matrixOnly { v?.matrix = nil }
                let options = FigureOptions(colormap: Colormap(rawValue: colormap) ?? .default, opacity: theme.fieldOpacity)
                let (pic, _, _) = PixelPicture.render(v, input: context.sampler.image, area: area, cellWidth: cw, cellHeight: ch,
                                                      maxWidth: maxW, maxHeight: maxH, options: options, matrixOnly: matrixOnly, background: theme.background)
                pictures.append(pic)
            } else if matrixOnly, let v = step.picture, let m = v.matrix {
                let (cw, ch) = PictureDrawer.matrixUnits(m)
                let map = PictureMap.fit(content: PictureDrawer.matrixContent(m), width: cw, height: ch,
                                         in: CellRect(x: area.x + 1, y: area.y, width: max(1, area.width - 2), height: area.height))
                PictureDrawer.drawMatrix(m, view: v, map: map, colormap: colormap, tier: tier, theme: theme, into: &buf)
            } else {
                let map = PictureMap.fit(content: .image, width: context.sampler.width, height: context.sampler.height, in: area)
                PictureDrawer.drawImage(step.picture, map: map, sampler: context.sampler, colormap: colormap, tier: tier,
                                        theme: theme, into: &buf)
            }
            if let v = step.picture, hasScale {
                Renderer.drawScale(v, x: area.x, y: top + picRows, width: area.width, maxBar: 32, colormap: colormap, theme: theme,
                                   tier: tier, labelBelow: labelBelow, into: &buf)
            }
        }
        drawText(text, rect: CellRect(x: leftWidth + 1, y: top, width: panelWidth - 1, height: bottom - top), scroll: state.scroll,
                 into: &buf)
        drawFooter(state, into: &buf)
        Palette.adapt(&buf, to: tier, background: theme.background)
        return Frame(buffer: buf, picture: nil, pictures: pictures)
    }

    func drawHeader(_ state: TourState, _ step: TourStep, into buf: inout CellBuffer) {
        let w = buf.width
        buf.fill(x: 0, y: 0, width: w, height: 1, with: Cell(fg: theme.barText, bg: theme.barBackground))
        var x = buf.put(" hatscope tour ", x: 0, y: 0, fg: theme.heading, bg: theme.barBackground, attributes: .bold)
        x += buf.put(" step \(state.index + 1)/\(guide.count) ", x: x, y: 0, fg: theme.activeTabText, bg: theme.activeTab,
                     attributes: .bold)
        // Progress: one mark per step, filled up to the current one.
        let marks = (0 ..< guide.count).map { $0 <= state.index ? "\u{25CF}" : "\u{25CB}" }.joined()
        let right = " " + context.modelName + "  " + marks + " "
        let room = w - x - right.unicodeScalars.count - 1
        if room > 4 {
            buf.put(" " + step.title, x: x, y: 0, fg: theme.barText, bg: theme.barBackground, attributes: .bold, maxWidth: room)
        }
        if x + right.unicodeScalars.count < w {
            buf.put(right, x: w - right.unicodeScalars.count, y: 0, fg: theme.barText, bg: theme.barBackground)
        }
    }

    /// A paragraph of the text panel: its runs, colour, attributes, indent and bullet, and the
    /// blank line after it.
    struct Paragraph {
        var runs: [TextRun]
        var color: CellColor
        var attributes: CellAttributes = []
        var indent = 0
        var bullet = ""
        var gapAfter = false
    }

    /// The step's text, top to bottom: title, "does not apply", facts, sentences, explorer hints.
    func textLines(_ step: TourStep) -> [Paragraph] {
        var out = [Paragraph(runs: [TextRun(step.title)], color: theme.heading, attributes: .bold, gapAfter: step.applies)]
        if !step.applies {
            out.append(Paragraph(runs: [TextRun("does not apply to \(context.modelName)")], color: theme.statusError,
                                 attributes: .bold, gapAfter: true))
        }
        for f in step.facts {
            // Numbered facts (the block's steps) carry their number instead of a bullet.
            let numbered = f.first?.isNumber == true && f.contains(". ")
            out.append(Paragraph(runs: [TextRun(f)], color: theme.text, indent: numbered ? 0 : 2, bullet: numbered ? "" : "\u{2022}"))
        }
        if !step.facts.isEmpty { out[out.count - 1].gapAfter = true }
        for s in step.sentences { out.append(Paragraph(runs: [TextRun(s)], color: theme.text, gapAfter: true)) }
        if !step.explorer.isEmpty {
            out.append(Paragraph(runs: [TextRun("In the explorer, from where it opens:")], color: theme.dimText))
            for l in TourHints.lines(step.explorer, geometry: context.geometry) {
                out.append(Paragraph(runs: l, color: theme.dimText, indent: 2))
            }
        }
        return out
    }

    /// The panel's lines at `width`: (paragraph index, first line of it, placed runs), blank lines
    /// as nil.
    func layout(_ text: [Paragraph], width: Int) -> [(p: Int, first: Bool, runs: [(x: Int, run: TextRun)])?] {
        var out: [(p: Int, first: Bool, runs: [(x: Int, run: TextRun)])?] = []
        for (i, para) in text.enumerated() {
            for (j, l) in TourHints.wrap(para.runs, width: max(1, width - para.indent)).enumerated() {
                out.append((i, j == 0, l))
            }
            if para.gapAfter { out.append(nil) }
        }
        return out
    }

    /// The text panel's width: ~42% of the screen, more (up to ~65%) when the text would not fit.
    func panelWidth(_ text: [Paragraph], width w: Int, rows: Int) -> Int {
        var panelWidth = max(34, min(72, w * 42 / 100))
        while panelWidth < w * 65 / 100 && layout(text, width: panelWidth - 1).count > rows { panelWidth += 2 }
        return panelWidth
    }

    /// The panel's lines as drawn: trailing blanks gone, and every blank line gone when the text
    /// is taller than `rows`.
    func panelLines(_ text: [Paragraph], width: Int, rows: Int) -> [(p: Int, first: Bool, runs: [(x: Int, run: TextRun)])?] {
        var lines = layout(text, width: width)
        while lines.last.map({ $0 == nil }) == true { lines.removeLast() }
        if lines.count > rows { lines.removeAll { $0 == nil } }
        return lines
    }

    /// The step's text lines at `state`'s screen size and how many show at once (the last row
    /// of a text that does not fit says what is left).
    public func textExtent(_ state: TourState) -> (total: Int, visible: Int) {
        let w = state.screenWidth, rows = state.screenHeight - 4
        guard w >= Layout.minWidth, state.screenHeight >= Layout.minHeight, guide.count > 0, rows > 1 else { return (0, 0) }
        let text = textLines(guide.step(state.index))
        let total = panelLines(text, width: panelWidth(text, width: w, rows: rows) - 1, rows: rows).count
        return total <= rows ? (total, total) : (total, rows - 1)
    }

    func drawText(_ text: [Paragraph], rect: CellRect, scroll: Int = 0, into buf: inout CellBuffer) {
        let all = panelLines(text, width: rect.width, rows: rect.height)
        // Taller than the screen (80 x 24, and half the steps at 100 x 30): a page of it, the
        // last row saying what is left and which keys show it (it was cut, the rest unreachable).
        let cut = all.count > rect.height
        let visible = cut ? rect.height - 1 : rect.height
        let first = cut ? max(0, min(scroll, all.count - visible)) : 0
        let lines = Array(all.dropFirst(first))
        for (row, line) in lines.prefix(visible).enumerated() {
            guard let line else { continue }
            let para = text[line.p], y = rect.y + row
            if line.first && !para.bullet.isEmpty {
                buf.put(para.bullet, x: rect.x, y: y, fg: theme.dimText, bg: theme.background)
            }
            for (x, run) in line.runs {
                buf.put(run.text, x: rect.x + para.indent + x, y: y, fg: run.isKey ? theme.key : para.color,
                        bg: theme.background, attributes: run.isKey ? .bold : para.attributes,
                        maxWidth: rect.width - para.indent - x)
            }
        }
        if cut {
            let below = all.count - first - visible
            let note = below > 0 ? "\u{2026} \(below) more line\(below == 1 ? "" : "s"): Space / \u{2193}" + (first > 0 ? ", \u{2191} back" : "")
                : "\u{2191} the lines before; Space: next step"
            buf.put(note, x: rect.x, y: rect.y + rect.height - 1, fg: theme.dimText, bg: theme.background, maxWidth: rect.width)
        }
    }

    func drawFooter(_ state: TourState, into buf: inout CellBuffer) {
        let y = buf.height - 1, w = buf.width
        buf.fill(x: 0, y: y, width: w, height: 1, with: Cell(fg: theme.barText, bg: theme.barBackground))
        var x = 1
        for (k, a) in TourKeys.hints {
            let need = k.unicodeScalars.count + a.count + 3
            if x + need > w { break }
            x += buf.put(k, x: x, y: y, fg: theme.key, bg: theme.barBackground, attributes: .bold)
            x += buf.put(" " + a + "  ", x: x, y: y, fg: theme.barText, bg: theme.barBackground)
        }
        if state.isLast {
            let msg = "end of the tour "
            if x + msg.count < w { buf.put(msg, x: w - msg.count, y: y, fg: theme.statusOK, bg: theme.barBackground, attributes: .bold) }
        }
    }

    // MARK: - Running

    /// Runs the tour on a terminal someone else owns (the explorer's); returns when the person
    /// leaves the tour, the terminal still set up.
    public func run(on term: Terminal, start: Int = 0) {
        let size = term.size
        var state = TourState(count: guide.count, index: start, screenWidth: size.width, screenHeight: size.height)
        var f = render(state, tier: term.tier, mode: term.pictureMode)
        term.draw(f.buffer, pictures: f.pictures)
        while true {
            let key = term.readKey()
            let (next, quit) = TourKeys.handle(state, key, text: textExtent(state))
            if quit { return }
            // A resize redraws even at the same size: after a suspend everything is sent again.
            var resized = false
            if case .resize = key { resized = true }
            if next != state || resized {
                state = next
                f = render(state, tier: term.tier, mode: term.pictureMode)
                term.draw(f.buffer, pictures: f.pictures)
            }
        }
    }

    /// Takes over the terminal for the tour alone (`hatscope tour`).
    public func run(options: TerminalOptions, start: Int = 0) throws {
        let term = try Terminal(options: options)
        defer { term.stop() }
        run(on: term, start: start)
    }
}
