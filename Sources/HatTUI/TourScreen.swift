// The guided tour on screen: pure key handling over a small state, a pure frame renderer into a
// CellBuffer (header with progress, the step's picture on the left drawn by the explorer's
// PictureDrawer, the step's text on the right, key hints at the bottom), and a run loop that can
// own the terminal (`hatscope tour`) or borrow the explorer's (`t` in the explorer).
import Foundation
import HatRecording
import HatViews

/// Where the tour is.
public struct TourState: Equatable, Sendable {
    public var index: Int
    public let count: Int
    public var screenWidth: Int, screenHeight: Int
    public init(count: Int, index: Int = 0, screenWidth: Int = 120, screenHeight: Int = 40) {
        self.count = count
        self.index = max(0, min(index, max(count - 1, 0)))
        self.screenWidth = screenWidth; self.screenHeight = screenHeight
    }
    public var isLast: Bool { index >= count - 1 }
}

public enum TourKeys {
    /// (keys, action) for the footer.
    public static let hints: [(String, String)] = [
        ("Space/\u{2192}", "next"), ("Backspace/\u{2190}", "back"), ("g/G", "first/last"), ("q/Esc", "leave the tour"),
    ]

    /// Next state and whether to quit. Space, Enter, right/down arrow, l/j/n go forward;
    /// Backspace (DEL or ^H), left/up arrow, h/k/p go back; g / G first / last; q / Esc quit.
    public static func handle(_ s: TourState, _ key: Key) -> (state: TourState, quit: Bool) {
        var n = s
        switch key {
        case .char("q"), .escape: return (s, true)
        case .char(" "), .enter, .right, .down, .char("l"), .char("j"), .char("n"), .wheelDown, .tab:
            n.index = min(s.index + 1, max(s.count - 1, 0))
        case .char("\u{7f}"), .char("\u{8}"), .left, .up, .char("h"), .char("k"), .char("p"), .wheelUp, .backTab:
            n.index = max(s.index - 1, 0)
        case .char("g"): n.index = 0
        case .char("G"): n.index = max(s.count - 1, 0)
        case let .resize(w, h): n.screenWidth = w; n.screenHeight = h
        default: break
        }
        return (n, false)
    }
}

/// Draws and runs the tour for one recording.
public final class TourScreen {
    let context: ExplorerContext
    public let steps: [TourStep]
    let theme: Theme
    let colormap: String

    public init(context: ExplorerContext, theme: Theme = .standard, colormap: String = "viridis") {
        self.context = context
        steps = TourContent.steps(context.recording, classNames: context.classNames)
        self.theme = theme
        self.colormap = colormap
    }

    /// One frame (tests and `--print-frame` use this without a terminal).
    public func frame(_ state: TourState, tier: ColorTier = .truecolor) -> CellBuffer {
        let w = state.screenWidth, h = state.screenHeight
        var buf = CellBuffer(width: w, height: h, fill: Cell(fg: theme.text, bg: theme.background))
        defer { Palette.adapt(&buf, to: tier, background: theme.background) }
        guard w >= Layout.minWidth, h >= Layout.minHeight, !steps.isEmpty else {
            let msg = "terminal too small for the tour: need \(Layout.minWidth) x \(Layout.minHeight) (now \(w) x \(h))"
            buf.put(msg, x: 0, y: max(0, h / 2), fg: theme.text, bg: theme.background, attributes: .bold, maxWidth: w)
            return buf
        }
        let step = steps[min(state.index, steps.count - 1)]
        drawHeader(state, step, into: &buf)

        // Left: picture (+ colour bar); right: text. The text panel gets ~42% of the width.
        let panelWidth = max(34, min(72, w * 42 / 100))
        let leftWidth = w - panelWidth - 1
        let top = 2, bottom = h - 2  // rows [top, bottom) between header+blank and footer
        let picRows = max(1, bottom - top - (step.picture?.field != nil ? 1 : 0))
        let area = CellRect(x: 1, y: top, width: max(1, leftWidth - 2), height: picRows)
        if let stats = step.statistics {
            TourStatsDrawer.draw(stats, rect: CellRect(x: 1, y: top, width: max(1, leftWidth - 2), height: bottom - top),
                                 theme: theme, colormap: colormap, into: &buf)
        } else {
            let map = PictureMap.fit(content: .image, width: context.sampler.width, height: context.sampler.height, in: area)
            PictureDrawer.drawImage(step.picture, map: map, sampler: context.sampler, colormap: colormap, theme: theme, into: &buf)
            if let v = step.picture, v.field != nil {
                drawScale(v, x: area.x, y: top + picRows, width: area.width, into: &buf)
            }
        }
        drawText(step, rect: CellRect(x: leftWidth + 1, y: top, width: panelWidth - 1, height: bottom - top), into: &buf)
        drawFooter(state, into: &buf)
        return buf
    }

    func drawHeader(_ state: TourState, _ step: TourStep, into buf: inout CellBuffer) {
        let w = buf.width
        buf.fill(x: 0, y: 0, width: w, height: 1, with: Cell(fg: theme.barText, bg: theme.barBackground))
        var x = buf.put(" hatscope tour ", x: 0, y: 0, fg: theme.heading, bg: theme.barBackground, attributes: .bold)
        x += buf.put(" step \(state.index + 1)/\(steps.count) ", x: x, y: 0, fg: theme.activeTabText, bg: theme.activeTab,
                     attributes: .bold)
        // Progress: one mark per step, filled up to the current one.
        let marks = (0 ..< steps.count).map { $0 <= state.index ? "\u{25CF}" : "\u{25CB}" }.joined()
        let right = " " + context.modelName + "  " + marks + " "
        let room = w - x - right.unicodeScalars.count - 1
        if room > 4 {
            buf.put(" " + step.title, x: x, y: 0, fg: theme.barText, bg: theme.barBackground, attributes: .bold, maxWidth: room)
        }
        if x + right.unicodeScalars.count < w {
            buf.put(right, x: w - right.unicodeScalars.count, y: 0, fg: theme.barText, bg: theme.barBackground)
        }
    }

    func drawScale(_ v: ViewResult, x: Int, y: Int, width: Int, into buf: inout CellBuffer) {
        let lo = Renderer.formatValue(v.rangeMin), hi = Renderer.formatValue(v.rangeMax)
        let bar = min(32, width - lo.count - hi.count - v.scaleLabel.count - 5)
        var cx = x
        if bar < 6 {
            buf.put("\(lo) .. \(hi) \(v.scaleLabel)", x: x, y: y, fg: theme.text, bg: theme.background, maxWidth: width)
            return
        }
        cx += buf.put(lo + " ", x: cx, y: y, fg: theme.text, bg: theme.background)
        let cmap = QuantisedColormap(name: colormap, min: v.rangeMin, max: v.rangeMax)
        for i in 0 ..< bar {
            let c = cmap.color(atFraction: (Float(i) + 0.5) / Float(bar))
            buf[cx + i, y] = Cell(glyph: " ", fg: c, bg: c)
        }
        cx += bar
        cx += buf.put(" " + hi + "  ", x: cx, y: y, fg: theme.text, bg: theme.background)
        buf.put(v.scaleLabel, x: cx, y: y, fg: theme.dimText, bg: theme.background, maxWidth: x + width - cx)
    }

    func drawText(_ step: TourStep, rect: CellRect, into buf: inout CellBuffer) {
        var y = rect.y
        let end = rect.y + rect.height
        func lines(_ text: String, _ color: CellColor, _ attrs: CellAttributes = [], indent: Int = 0, first: String = "") {
            for (i, l) in Renderer.wrap(text, width: max(1, rect.width - indent)).enumerated() {
                guard y < end else { return }
                if i == 0 && !first.isEmpty {
                    buf.put(first, x: rect.x, y: y, fg: theme.key, bg: theme.background, attributes: .bold)
                }
                buf.put(l, x: rect.x + indent, y: y, fg: color, bg: theme.background, attributes: attrs, maxWidth: rect.width - indent)
                y += 1
            }
        }
        lines(step.title, theme.heading, .bold)
        if !step.applies {
            lines("does not apply to \(context.modelName)", theme.statusError, .bold)
        }
        y += 1
        for f in step.facts { lines(f, theme.text, indent: 2, first: "\u{2022}") }
        y += 1
        for s in step.sentences {
            lines(s, theme.text)
            if y < end - 1 { y += 1 }
        }
        if !step.explorerKeys.isEmpty { lines(step.explorerKeys, theme.dimText) }
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
        var state = TourState(count: steps.count, index: start, screenWidth: size.width, screenHeight: size.height)
        term.draw(frame(state, tier: term.tier))
        while true {
            let (next, quit) = TourKeys.handle(state, term.readKey())
            if quit { return }
            if next != state {
                state = next
                term.draw(frame(state, tier: term.tier))
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
