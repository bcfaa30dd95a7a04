// The explorer's run loop: read a key, let the pure handler make the next state, carry out its
// effects (export, quit), compute the view once per selection (cached), render into a cell
// buffer and hand it to the terminal. Also the figure export behind `e` / `E`, which writes the
// same files as `hatscope export` (FigureRenderer / Montage / FigureNaming from HatViews).
import Foundation
import HatImaging
import HatRecording
import HatViews

public struct ExplorerOptions: Sendable {
    public var terminal: TerminalOptions
    public var exportDirectory: String
    public var colormap: String
    public init(terminal: TerminalOptions = .init(), exportDirectory: String = ".", colormap: String = "viridis") {
        self.terminal = terminal; self.exportDirectory = exportDirectory; self.colormap = colormap
    }
}

/// Computes views once per (kind, selection) and remembers the last few.
final class ViewCache {
    private var entries: [(ViewKind, Selection, Result<ViewResult, Error>)] = []
    let recording: Recording
    init(recording: Recording) { self.recording = recording }

    func view(_ kind: ViewKind, _ s: Selection) -> Result<ViewResult, Error> {
        if let hit = entries.first(where: { $0.0 == kind && $0.1 == s }) { return hit.2 }
        let r = Result { try Views.compute(kind, recording: recording, selection: s) }
        entries.insert((kind, s, r), at: 0)
        if entries.count > 32 { entries.removeLast() }
        return r
    }
}

/// `e` / `E`: the export command's own code path (FigureExporter with its default figure options
/// and per-panel montage scales), so the files are byte for byte what `hatscope export` writes.
public enum FigureExport {
    public struct Skipped: Error, CustomStringConvertible {
        public let description: String
    }

    static func write(_ item: ExportItem, recording: Recording, colormap: String, directory: String) throws -> String {
        let options = FigureOptions(colormap: Colormap(rawValue: colormap) ?? .default)
        let result = try FigureExporter.export([item], recording: recording, folder: directory, options: options,
                                               sharedScale: false)
        if let f = result.figures.first { return (directory as NSString).appendingPathComponent(f.file) }
        throw Skipped(description: result.skipped.first?.reason ?? "nothing to write for this view")
    }

    /// Writes the view as a PNG into `directory`; returns the path.
    public static func view(_ kind: ViewKind, _ s: Selection, recording: Recording, colormap: String,
                            directory: String) throws -> String {
        try write(ExportItem(kind: kind, selection: s), recording: recording, colormap: colormap, directory: directory)
    }

    /// Writes the montage of every head (and their mean); returns the path.
    public static func montage(_ kind: ViewKind, _ s: Selection, recording: Recording, colormap: String,
                               directory: String) throws -> String {
        try write(ExportItem(kind: kind, selection: s, montage: true), recording: recording, colormap: colormap,
                  directory: directory)
    }
}

public final class Explorer {
    let context: ExplorerContext
    let options: ExplorerOptions
    let theme: Theme
    let cache: ViewCache

    public init(context: ExplorerContext, options: ExplorerOptions, theme: Theme = .standard) {
        self.context = context; self.options = options; self.theme = theme
        cache = ViewCache(recording: context.recording)
    }

    /// The initial state for a screen of this size.
    public func initialState(width: Int, height: Int) -> AppState {
        AppState(geometry: context.geometry, colormaps: Colormap.allCases.map(\.rawValue),
                 colormap: options.colormap, screenWidth: width, screenHeight: height)
    }

    /// Renders `state` into a frame (tests and the benchmark use this without a terminal).
    public func frame(_ state: AppState, tier: ColorTier) -> Frame {
        Renderer.render(state, view: cache.view(state.view, state.selection), context: context, theme: theme, tier: tier)
    }

    /// Carries out an export effect; returns the status line and whether it is an error.
    func perform(_ effect: Effect, state: AppState) -> (String, Bool)? {
        let rec = context.recording, dir = options.exportDirectory
        do {
            switch effect {
            case let .export(kind, sel):
                let p = try FigureExport.view(kind, sel, recording: rec, colormap: state.colormap, directory: dir)
                return ("wrote \(p)", false)
            case let .exportMontage(kind, sel):
                let p = try FigureExport.montage(kind, sel, recording: rec, colormap: state.colormap, directory: dir)
                return ("wrote \(p)", false)
            default: return nil
            }
        } catch {
            return ("export failed: \(error)", true)
        }
    }

    /// Takes over the terminal until the person quits. `onFirstFrame` runs after the first frame
    /// is on screen (startup timing).
    public func run(onFirstFrame: (() -> Void)? = nil, quitAfterFirstFrame: Bool = false) throws {
        let term = try Terminal(options: options.terminal)
        defer { term.stop() }
        let size = term.size
        var state = initialState(width: size.width, height: size.height)
        if term.terminalName == "xterm-direct" || term.tier != .truecolor {
            state.status = "colours: \(term.tier.rawValue) (\(term.terminalName)) - press ? for help"
        }
        var f = frame(state, tier: term.tier)
        state.picture = f.picture
        state.sideMatrix = f.sideMatrix
        term.draw(f.buffer)
        onFirstFrame?()
        if quitAfterFirstFrame { return }
        while true {
            let key = term.readKey()
            var (next, effects) = KeyHandling.handle(state, key)
            var redraw = false
            for e in effects {
                switch e {
                case .quit: return
                case .redraw: redraw = true
                case let .openTour(step):
                    // The tour borrows the terminal until q / Esc, then the explorer redraws.
                    TourScreen(context: context, theme: theme, colormap: next.colormap).run(on: term, start: step)
                    next.screenWidth = term.size.width; next.screenHeight = term.size.height
                    redraw = true
                case .export, .exportMontage:
                    if let (msg, isError) = perform(e, state: next) {
                        next.status = msg; next.statusIsError = isError
                    }
                    redraw = true
                }
            }
            state = next
            if redraw {
                f = frame(state, tier: term.tier)
                state.picture = f.picture
                state.sideMatrix = f.sideMatrix
                term.draw(f.buffer)
            }
        }
    }
}
