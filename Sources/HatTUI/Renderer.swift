// Draws one whole frame into a CellBuffer from the state and the current ViewResult: header with
// the view tabs, title, picture, colorbar, side panel, status line, footer, help overlay. Pure:
// reads the state, never changes it; the terminal only copies the buffer out.
import Foundation
import HatImaging
import HatRecording
import HatViews

/// What stays fixed while the explorer runs: the recording, the model's description, class
/// names, and the image sampler (with its size cache).
public final class ExplorerContext: @unchecked Sendable {
    public let recording: Recording
    public let geometry: ExplorerGeometry
    /// Model name and checkpoint line for the side panel ("demo checkpoint", path + sha prefix).
    public let modelName: String
    public let checkpointLabel: String
    /// The image file (or "drawn scene") for the side panel.
    public let imageLabel: String
    /// Class names by index; empty = show "class N".
    public let classNames: [String]
    /// The embedded demo model (the tour then cites its measured accuracies).
    public let isDemo: Bool
    let sampler: ImageSampler
    let top: [(index: Int, probability: Float)]

    public init(recording: Recording, modelName: String? = nil, checkpointLabel: String, imageLabel: String = "",
                classNames: [String] = [], isDemo: Bool = false) {
        self.imageLabel = imageLabel
        self.recording = recording
        geometry = ExplorerGeometry(recording: recording)
        self.modelName = modelName ?? recording.config.name
        self.checkpointLabel = checkpointLabel
        self.classNames = classNames
        self.isDemo = isDemo
        sampler = ImageSampler(recording: recording)
        top = recording.topK(5)
    }

    /// A recording read from a file: the labels come from its provenance (checkpoint file,
    /// input file, class names); `fileLabel` names the recording when the input is unknown.
    public convenience init(recording: Recording, fileLabel: String) {
        let p = recording.provenance
        self.init(recording: recording, modelName: recording.config.name,
                  checkpointLabel: p.checkpoint?.label ?? "recording \(fileLabel)",
                  imageLabel: p.input?.label ?? fileLabel, classNames: p.classNames, isDemo: p.checkpoint?.demo ?? false)
    }

    /// The same labels over another run of the same model and input (an intervened one).
    public func with(recording other: Recording) -> ExplorerContext {
        ExplorerContext(recording: other, modelName: modelName, checkpointLabel: checkpointLabel, imageLabel: imageLabel,
                        classNames: classNames, isDemo: isDemo)
    }

    func className(_ i: Int) -> String {
        i >= 0 && i < classNames.count ? classNames[i] : "class \(i)"
    }
}

/// A drawn frame and where its picture (and the matrix beside it, if any) went, for mouse clicks;
/// in pixel mode also the pictures to place over the cells left blank for them.
public struct Frame {
    public var buffer: CellBuffer
    public var picture: PictureMap?
    public var sideMatrix: PictureMap? = nil
    public var pictures: [FramePicture] = []
}

public enum Renderer {
    /// `live`: what the side panel and the marker say about live interventions (nil: none offered).
    public static func render(_ state: AppState, view: Result<ViewResult, Error>, context: ExplorerContext,
                              theme: Theme = .standard, tier: ColorTier = .truecolor, mode: PictureMode = .blocks,
                              live: LiveStatus? = nil) -> Frame {
        let w = state.screenWidth, h = state.screenHeight
        var buf = CellBuffer(width: w, height: h, fill: Cell(fg: theme.text, bg: theme.background))
        let layout = Layout.compute(width: w, height: h)
        if layout.tooSmall {
            drawTooSmall("terminal too small", theme: theme, into: &buf)
            Palette.adapt(&buf, to: tier, background: theme.background)
            return Frame(buffer: buf, picture: nil)
        }
        let result = try? view.get()
        // A difference is drawn with the diverging map, whatever map is chosen.
        let cmap = result?.diverging == true ? Colormap.diverging.rawValue : state.colormap
        drawHeader(state, colormap: cmap, layout: layout, theme: theme, live: live, into: &buf)
        var titleText: String
        switch view {
        case .success(let v): titleText = v.title
        case .failure(let e): titleText = "\(state.view.rawValue): " + String(describing: e)
        }
        // The picture is of an earlier state while the model runs again.
        if live?.stale == true { titleText = "[stale: re-running] " + titleText }
        buf.put(titleText, x: layout.title.x, y: layout.title.y, fg: theme.text, bg: theme.background,
                attributes: .bold, maxWidth: layout.title.width)

        // Picture: a matrix when the view has only a matrix, else the image with the field, and
        // a view's extra matrix (carrier strip, carrier matrix) beside it when there is room. In
        // pixel mode the figure code draws all of it at the terminal's resolution; the help
        // overlay then shows over the half-block picture (no picture protocol draws below text).
        var picture: PictureMap? = nil, sideMatrix: PictureMap? = nil
        var pictures: [FramePicture] = []
        let area = layout.pictureArea
        if case let .pixels(cw, ch, maxW, maxH) = mode, !state.showHelp {
            let heat = HeatPalette(name: cmap, min: 0, max: 1)
            let options = FigureOptions(colormap: heat.map, opacity: theme.fieldOpacity)
            let matrixOnly = result.map { $0.field == nil && $0.matrix != nil } ?? false
            let (pic, map, side) = PixelPicture.render(result, input: context.sampler.image, area: area, cellWidth: cw,
                                                       cellHeight: ch, maxWidth: maxW, maxHeight: maxH, options: options, matrixOnly: matrixOnly,
                                                       background: theme.background)
            buf.fill(x: pic.rect.x, y: pic.rect.y, width: pic.rect.width, height: pic.rect.height,
                     with: Cell(fg: theme.text, bg: theme.background))
            pictures.append(pic)
            picture = map
            sideMatrix = side
        } else if let v = result, v.field == nil, let m = v.matrix {
            let (cw, ch) = PictureDrawer.matrixUnits(m)
            let map = PictureMap.fit(content: PictureDrawer.matrixContent(m), width: cw, height: ch,
                                     in: CellRect(x: area.x + 1, y: area.y, width: max(1, area.width - 2), height: area.height))
            PictureDrawer.drawMatrix(m, view: v, map: map, colormap: cmap, tier: tier, theme: theme, into: &buf)
            picture = map
        } else {
            var imageArea = area
            let iw = context.sampler.width, ih = context.sampler.height
            if let v = result, let m = v.matrix {
                let fullImageWidth = min(area.width, area.height * 2 * iw / max(1, ih))
                if m.rows == 1 {
                    // A 1 x c*c strip (local view's carriers): a labelled list beside the image.
                    let stripWidth = 20
                    // Only when the image keeps most of its size (else the panel's numbers say it).
                    if area.width - stripWidth - 1 >= max(24, fullImageWidth * 3 / 4) {
                        imageArea.width = area.width - stripWidth - 1
                        PictureDrawer.drawStrip(m, view: v, at: CellRect(x: area.x + imageArea.width + 1, y: area.y,
                                                                          width: stripWidth, height: area.height),
                                                colormap: cmap, tier: tier, theme: theme, into: &buf)
                    }
                } else {
                    let (cw, ch) = PictureDrawer.matrixUnits(m)
                    let needed = max(1, (area.height * 2 * cw) / max(1, ch))
                    let matrixWidth = min(needed, max(area.width - fullImageWidth - 3, area.width * 35 / 100))
                    if matrixWidth >= 8 && area.width - matrixWidth - 3 >= 20 {
                        imageArea.width = area.width - matrixWidth - 3
                        let mArea = CellRect(x: area.x + imageArea.width + 2, y: area.y, width: matrixWidth, height: area.height)
                        let mmap = PictureMap.fit(content: PictureDrawer.matrixContent(m), width: cw, height: ch, in: mArea)
                        PictureDrawer.drawMatrix(m, view: v, map: mmap, colormap: cmap, tier: tier, theme: theme,
                                                 into: &buf)
                        sideMatrix = mmap
                    }
                }
            }
            let map = PictureMap.fit(content: .image, width: iw, height: ih, in: imageArea)
            PictureDrawer.drawImage(result, map: map, sampler: context.sampler, colormap: cmap, tier: tier,
                                    theme: theme, into: &buf)
            picture = map
        }
        if let v = result { drawColorbar(v, colormap: cmap, layout: layout, theme: theme, tier: tier, into: &buf) }
        Panel.draw(state, view: result, context: context, live: live, rect: layout.panel, theme: theme, into: &buf)
        drawStatus(state, layout: layout, theme: theme, into: &buf)
        drawFooter(layout: layout, theme: theme, painting: state.painting, into: &buf)
        if state.showHelp { drawHelp(layout: layout, scroll: state.helpScroll, theme: theme, into: &buf) }
        Palette.adapt(&buf, to: tier, background: theme.background)
        return Frame(buffer: buf, picture: picture, sideMatrix: sideMatrix, pictures: pictures)
    }

    /// `colormap`: the map the picture is drawn with (the diverging one for a difference).
    static func drawHeader(_ state: AppState, colormap: String, layout: Layout, theme: Theme, live: LiveStatus? = nil,
                           into buf: inout CellBuffer) {
        let r = layout.header
        buf.fill(x: r.x, y: r.y, width: r.width, height: 1, with: Cell(fg: theme.barText, bg: theme.barBackground))
        var x = r.x + buf.put(" hatscope ", x: r.x, y: r.y, fg: theme.heading, bg: theme.barBackground, attributes: .bold)
        let views = state.stage?.views ?? ViewKind.allCases
        for v in views {
            let active = v == state.view
            x += buf.put(" \(v.rawValue) ", x: x, y: r.y, fg: active ? theme.activeTabText : theme.barText,
                         bg: active ? theme.activeTab : theme.barBackground, attributes: active ? .bold : [])
            x += 1
        }
        let count = state.geometry.stages.count
        var right = "stage \(state.stageIndex + 1)/\(count)  \(colormap) "
        if state.showDiff { right = "after - before  " + right }
        if x + right.count < r.width {
            buf.put(right, x: r.width - right.count, y: r.y, fg: theme.barText, bg: theme.barBackground)
        }
        // The live marker: the model is running again (the picture is stale), or interventions
        // are active, or a run failed.
        if let live, let mark = live.marker {
            let text = " \(mark) "
            let at = r.width - right.count - text.count - 1
            if at > x {
                buf.put(text, x: at, y: r.y, fg: theme.activeTabText, bg: live.stale || live.failure != nil ? theme.statusError : theme.activeTab,
                        attributes: .bold)
            }
        }
    }

    /// The colour scale: with a stepped palette (few colours) exactly its steps, each an equal
    /// share of the bar.
    static func drawColorbar(_ v: ViewResult, colormap: String, layout: Layout, theme: Theme, tier: ColorTier,
                             into buf: inout CellBuffer) {
        let r = layout.colorbar
        drawScale(v, x: r.x, y: r.y, width: r.width, maxBar: 48, colormap: colormap, theme: theme, tier: tier, into: &buf)
    }

    /// One row: the low value, the colour bar, the high value, the label (the explorer's and the
    /// tour's). Where the row is narrow the label is shortened, never the bar: a narrow screen
    /// (64 x 20, the tour at 80 x 24) showed only "0 .. 0.352 attention probabilit", no colours.
    /// `labelBelow`: the label goes on the row under the bar (the tour, where a second row is free).
    static func drawScale(_ v: ViewResult, x x0: Int, y: Int, width: Int, maxBar: Int, colormap: String, theme: Theme,
                          tier: ColorTier, labelBelow: Bool = false, into buf: inout CellBuffer) {
        let lo = formatValue(v.rangeMin), hi = formatValue(v.rangeMax)
        var label = labelBelow ? "" : v.scaleLabel
        var barWidth = min(maxBar, width - lo.count - hi.count - label.count - 5)
        if barWidth < 6 {
            barWidth = 6
            let room = width - lo.count - hi.count - barWidth - 4
            label = room >= label.count ? label : room >= 4 ? String(label.prefix(room - 1)) + "\u{2026}" : ""
        }
        if labelBelow {
            buf.put(v.scaleLabel, x: x0, y: y + 1, fg: theme.dimText, bg: theme.background, maxWidth: width)
        }
        var x = x0
        guard barWidth >= 4 else {
            buf.put("\(lo) .. \(hi) \(v.scaleLabel)", x: x, y: y, fg: theme.text, bg: theme.background, maxWidth: width)
            return
        }
        guard lo.count + hi.count + barWidth + 2 <= width else {
            buf.put("\(lo) .. \(hi) \(v.scaleLabel)", x: x, y: y, fg: theme.text, bg: theme.background, maxWidth: width)
            return
        }
        x += buf.put(lo + " ", x: x, y: y, fg: theme.text, bg: theme.background)
        let cmap = HeatPalette(name: colormap, min: v.rangeMin, max: v.rangeMax, tier: tier)
        for i in 0..<barWidth {
            let c = cmap.color(atFraction: (Float(i) + 0.5) / Float(barWidth))
            buf[x + i, y] = Cell(glyph: " ", fg: c, bg: c, attributes: .picture)
        }
        x += barWidth
        x += buf.put(" " + hi + " ", x: x, y: y, fg: theme.text, bg: theme.background)
        if x < x0 + width - 1 && !label.isEmpty { x += 1 }
        buf.put(label, x: x, y: y, fg: theme.dimText, bg: theme.background, maxWidth: max(0, x0 + width - x))
    }

    /// Whether the scale's row holds the bar (6 cells at least) and the whole label.
    static func scaleFitsOneRow(_ v: ViewResult, width: Int) -> Bool {
        width - formatValue(v.rangeMin).count - formatValue(v.rangeMax).count - v.scaleLabel.count - 5 >= 6
    }

    static func drawStatus(_ state: AppState, layout: Layout, theme: Theme, into buf: inout CellBuffer) {
        let r = layout.status
        if state.status.isEmpty && state.painting {
            let text = " painting occlusions on stage \(state.selection.level + 1), brush \(state.brush.rawValue): the brush follows the query"
            buf.put(text, x: r.x, y: r.y, fg: theme.statusOK, bg: theme.background, attributes: .bold, maxWidth: r.width)
        } else if state.status.isEmpty {
            // Hints from the key table: key names in the key colour, like the footer's.
            var x = r.x + 1
            for h in state.liveUnavailable == nil ? KeyBindings.liveStatusHints : KeyBindings.statusHints {
                let key = KeyBindings.label(for: [h.action])
                guard x + key.unicodeScalars.count + h.text.count + 4 <= r.x + r.width else { break }
                x += buf.put(key, x: x, y: r.y, fg: theme.key, bg: theme.background, attributes: .bold)
                x += buf.put(" " + h.text + "   ", x: x, y: r.y, fg: theme.dimText, bg: theme.background)
            }
        } else {
            buf.put(" " + state.status, x: r.x, y: r.y, fg: state.statusIsError ? theme.statusError : theme.statusOK,
                    bg: theme.background, attributes: .bold, maxWidth: r.width)
        }
    }

    static func drawFooter(layout: Layout, theme: Theme, painting: Bool = false, into buf: inout CellBuffer) {
        let r = layout.footer
        buf.fill(x: r.x, y: r.y, width: r.width, height: 1, with: Cell(fg: theme.barText, bg: theme.barBackground))
        // Full labels if they all fit; else short labels with one space between hints, leaving
        // out the least important ones until they fit.
        func total(_ hints: [FooterHint], short: Bool) -> Int {
            hints.reduce(0) { $0 + $1.key.unicodeScalars.count + 1 + (short ? $1.short.count + 1 : $1.label.count + 2) }
        }
        var shown = painting ? KeyBindings.paintFooter : KeyBindings.footer
        var short = false
        if total(shown, short: false) > r.width - 1 {
            short = true
            for level in stride(from: shown.map(\.priority).max() ?? 0, to: 0, by: -1)
                where total(shown, short: true) > r.width - 1 {
                shown.removeAll { $0.priority == level }
            }
        }
        var x = r.x + 1
        for h in shown {
            let label = short ? h.short : h.label
            if x + h.key.unicodeScalars.count + 1 + label.count > r.x + r.width { break }
            x += buf.put(h.key, x: x, y: r.y, fg: theme.key, bg: theme.barBackground, attributes: .bold)
            x += buf.put(" " + label + (short ? " " : "  "), x: x, y: r.y, fg: theme.barText, bg: theme.barBackground)
        }
    }

    /// The help overlay's key lines (key label, text) for a screen `width` wide, and its size.
    static func helpLines(width: Int) -> (lines: [(String, String)], keyWidth: Int, boxWidth: Int, textWidth: Int) {
        let keyWidth = KeyBindings.table.map { $0.label.unicodeScalars.count }.max() ?? 10
        let boxWidth = min(width - 4, 96)
        let textWidth = boxWidth - keyWidth - 6
        var lines: [(String, String)] = []
        for b in KeyBindings.table {
            let parts = wrap(b.help, width: max(10, textWidth))
            for (i, p) in parts.enumerated() { lines.append((i == 0 ? b.label : "", p)) }
        }
        return (lines, keyWidth, boxWidth, textWidth)
    }

    /// How many key lines the help has on this screen and how many it shows at once (the rest
    /// is paged with ↓ / ↑; KeyHandling uses the same numbers).
    public static func helpExtent(width: Int, height: Int) -> (total: Int, visible: Int) {
        let total = helpLines(width: width).lines.count
        let boxHeight = min(height - 2, total + 4)
        return total <= boxHeight - 4 ? (total, total) : (total, max(1, boxHeight - 5))
    }

    static func drawHelp(layout: Layout, scroll: Int = 0, theme: Theme, into buf: inout CellBuffer) {
        let (lines, keyWidth, boxWidth, textWidth) = helpLines(width: layout.width)
        let boxHeight = min(layout.height - 2, lines.count + 4)
        let x0 = (layout.width - boxWidth) / 2, y0 = max(0, (layout.height - boxHeight) / 2)
        let bg = Cell(fg: theme.text, bg: theme.overlayBackground)
        buf.fill(x: x0, y: y0, width: boxWidth, height: boxHeight, with: bg)
        for x in x0..<(x0 + boxWidth) {
            buf[x, y0] = Cell(glyph: "\u{2500}", fg: theme.overlayBorder, bg: theme.overlayBackground)
            buf[x, y0 + boxHeight - 1] = Cell(glyph: "\u{2500}", fg: theme.overlayBorder, bg: theme.overlayBackground)
        }
        for y in y0..<(y0 + boxHeight) {
            buf[x0, y] = Cell(glyph: "\u{2502}", fg: theme.overlayBorder, bg: theme.overlayBackground)
            buf[x0 + boxWidth - 1, y] = Cell(glyph: "\u{2502}", fg: theme.overlayBorder, bg: theme.overlayBackground)
        }
        for (x, y, g) in [(x0, y0, "\u{250C}"), (x0 + boxWidth - 1, y0, "\u{2510}"),
                          (x0, y0 + boxHeight - 1, "\u{2514}"), (x0 + boxWidth - 1, y0 + boxHeight - 1, "\u{2518}")] {
            buf[x, y] = Cell(glyph: Unicode.Scalar(g)!, fg: theme.overlayBorder, bg: theme.overlayBackground)
        }
        let (total, visible) = helpExtent(width: layout.width, height: layout.height)
        let paged = visible < total
        let title = paged ? " Keys (\u{2193} \u{2191} page, q quits, any other key closes) " : " Keys (q quits, any other key closes) "
        buf.put(title, x: x0 + 2, y: y0, fg: theme.heading, bg: theme.overlayBackground, attributes: .bold, maxWidth: boxWidth - 4)
        // A screen too low for every key shows a page of them with a line saying what is left
        // above and below (80 x 24 showed a third of the keys and no way to the rest).
        var first = max(0, min(scroll, total - visible))
        while first > 0, first < total - 1, lines[first].0.isEmpty { first += 1 }   // a page starts with a key
        let shown = lines[first ..< min(total, first + visible)]
        for (i, l) in shown.enumerated() {
            buf.put(l.0, x: x0 + 2, y: y0 + 2 + i, fg: theme.key, bg: theme.overlayBackground, attributes: .bold)
            buf.put(l.1, x: x0 + 4 + keyWidth, y: y0 + 2 + i, fg: theme.text, bg: theme.overlayBackground, maxWidth: textWidth)
        }
        if paged {
            let below = max(0, total - first - visible)
            let note = below > 0 ? "\u{2026} \(below) more lines: \u{2193} shows them" + (first > 0 ? ", \u{2191} the ones before" : "")
                : "end of the keys: \u{2191} the ones before"
            buf.put(note, x: x0 + 2, y: y0 + 2 + visible, fg: theme.dimText, bg: theme.overlayBackground, maxWidth: boxWidth - 4)
        }
    }

    /// "`what`: need 64 x 20 (now w x h)", wrapped and centred (the explorer's and the tour's).
    static func drawTooSmall(_ what: String, theme: Theme, into buf: inout CellBuffer) {
        let w = buf.width, h = buf.height
        let msg = "\(what): need \(Layout.minWidth) x \(Layout.minHeight) (now \(w) x \(h))"
        let lines = wrap(msg, width: max(1, w - 2))
        for (i, l) in lines.enumerated() {
            buf.put(l, x: max(0, (w - l.count) / 2), y: max(0, h / 2 - lines.count / 2 + i),
                    fg: theme.text, bg: theme.background, attributes: .bold)
        }
    }

    /// Short numbers for labels: 3 significant digits, no exponent for ordinary magnitudes.
    static func formatValue(_ v: Float) -> String {
        if v.isNaN { return "nan" }
        if v == 0 { return "0" }
        let a = abs(v)
        if a >= 1e4 || a < 1e-3 { return String(format: "%.2e", v) }
        return String(format: "%.3g", v)
    }

    /// Greedy word wrap to `width` columns (words longer than a line are cut).
    static func wrap(_ text: String, width: Int) -> [String] {
        guard width > 0 else { return [] }
        var lines: [String] = [], line = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: true) {
            var w = String(word)
            while w.count > width { if !line.isEmpty { lines.append(line); line = "" }; lines.append(String(w.prefix(width))); w = String(w.dropFirst(width)) }
            if line.isEmpty { line = w } else if line.count + 1 + w.count <= width { line += " " + w } else { lines.append(line); line = w }
        }
        if !line.isEmpty { lines.append(line) }
        return lines
    }
}
