// The explorer's run loop: read a key, let the pure handler make the next state, carry out its
// effects (export, quit), compute the view once per selection (cached), render into a cell
// buffer and hand it to the terminal. Also the figure export behind `e` / `E`, which writes the
// same files as `hatscope export` (FigureRenderer / Montage / FigureNaming from HatViews).
//
// Live interventions: when the executable hands it a runner (LiveSetup), every change of the
// interventions (state.edits) asks a background worker (LiveRunner) to run the model again; the
// loop keeps reading keys and drawing the last finished run with a stale marker, and draws the
// new run when the worker wakes it. The last few runs are kept, so undo shows a run at once.
import Foundation
import HatImaging
import HatRecording
import HatSystem
import HatViews

public struct ExplorerOptions: Sendable {
    public var terminal: TerminalOptions
    public var exportDirectory: String
    public var colormap: String
    public init(terminal: TerminalOptions = .init(), exportDirectory: String = ".", colormap: String = "viridis") {
        self.terminal = terminal; self.exportDirectory = exportDirectory; self.colormap = colormap
    }
}

/// Computes views once per (kind, selection) and remembers the last few; with `before`, the
/// difference view (this recording minus `before`).
final class ViewCache {
    private var entries: [(ViewKind, Selection, Result<ViewResult, Error>)] = []
    private var differences: [(ViewKind, Selection, Result<ViewResult, Error>)] = []
    let recording: Recording
    init(recording: Recording) { self.recording = recording }

    func view(_ kind: ViewKind, _ s: Selection) -> Result<ViewResult, Error> {
        if let hit = entries.first(where: { $0.0 == kind && $0.1 == s }) { return hit.2 }
        let r = Result { try Views.compute(kind, recording: recording, selection: s) }
        entries.insert((kind, s, r), at: 0)
        if entries.count > 32 { entries.removeLast() }
        return r
    }

    func difference(_ kind: ViewKind, _ s: Selection, before: Recording) -> Result<ViewResult, Error> {
        if let hit = differences.first(where: { $0.0 == kind && $0.1 == s }) { return hit.2 }
        let r = Result { try DiffView.compute(kind, before: before, after: recording, selection: s) }
        differences.insert((kind, s, r), at: 0)
        if differences.count > 32 { differences.removeLast() }
        return r
    }
}

/// What the explorer needs to run the model again: the executable's runner, and the command
/// line's interventions with the recording already made with them (nil when there are none).
public struct LiveSetup: Sendable {
    public var runner: RecordingRunner
    public var initial: [Intervention]
    public var initialRecording: Recording?
    public init(runner: @escaping RecordingRunner, initial: [Intervention] = [], initialRecording: Recording? = nil) {
        self.runner = runner; self.initial = initial; self.initialRecording = initialRecording
    }
}

/// A finished run with interventions, ready to draw.
final class LiveRun {
    let interventions: [Intervention]
    /// Their option spellings, sorted: what identifies the run.
    let key: [String]
    let context: ExplorerContext
    let cache: ViewCache
    let milliseconds: Double?
    init(_ interventions: [Intervention], context: ExplorerContext, milliseconds: Double?) {
        self.interventions = interventions
        key = LiveRun.key(interventions)
        self.context = context
        cache = ViewCache(recording: context.recording)
        self.milliseconds = milliseconds
    }
    static func key(_ list: [Intervention]) -> [String] { list.map(\.description).sorted() }
}

/// `e` / `E`: the export command's own code path (FigureExporter with its default figure options
/// and per-panel montage scales), so the files are byte for byte what `hatscope export` writes.
public enum FigureExport {
    public struct Skipped: Error, CustomStringConvertible {
        public let description: String
    }

    static func write(_ item: ExportItem, recording: Recording, colormap: String, directory: String) throws -> String {
        // Created at the first export, like `hatscope export --out` creates its folder.
        try OutputFolder.ensure(directory, option: "--export-dir")
        let options = FigureOptions(colormap: Colormap(rawValue: colormap) ?? .default)
        let result = try FigureExporter.export([item], recording: recording, folder: directory, options: options,
                                               sharedScale: false)
        if let f = result.figures.first { return (directory as NSString).appendingPathComponent(f.file) }
        throw Skipped(description: result.skipped.first?.reason ?? "nothing to write for this view")
    }

    /// Writes the difference figure (`after` minus `before`, DiffView) into `directory`; returns the path.
    public static func difference(_ kind: ViewKind, _ s: Selection, before: Recording, after: Recording, colormap: String,
                                  directory: String) throws -> String {
        try OutputFolder.ensure(directory, option: "--export-dir")
        let name = try FigureExporter.exportDifference(kind, selection: s, before: before, after: after, folder: directory,
                                                       options: FigureOptions(colormap: Colormap(rawValue: colormap) ?? .default))
        return (directory as NSString).appendingPathComponent(name)
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
    /// The plain run (no interventions), also the "before" of every comparison.
    public let context: ExplorerContext
    let options: ExplorerOptions
    let theme: Theme
    let cache: ViewCache
    let live: LiveSetup?
    /// Finished runs with interventions, newest first (a few, so undo shows one at once).
    private var runs: [LiveRun] = []
    private var worker: LiveRunner?
    /// The interventions last asked for, and why their run failed (if it did).
    private var requested: [String] = []
    private var failure: String?
    private let beforeProbabilities: [Float]

    public init(context: ExplorerContext, options: ExplorerOptions, theme: Theme = .standard, live: LiveSetup? = nil) {
        self.context = context; self.options = options; self.theme = theme; self.live = live
        cache = ViewCache(recording: context.recording)
        beforeProbabilities = context.recording.probabilities()
        if let live, let r = live.initialRecording, !live.initial.isEmpty {
            runs = [LiveRun(live.initial, context: context.with(recording: r), milliseconds: nil)]
            requested = LiveRun.key(live.initial)
        }
    }

    /// The initial state for a screen of this size.
    public func initialState(width: Int, height: Int) -> AppState {
        var s = AppState(geometry: context.geometry, colormaps: Colormap.allCases.map(\.rawValue),
                         colormap: options.colormap, screenWidth: width, screenHeight: height)
        if let live {
            s.liveUnavailable = nil
            s.edits = LiveEdits(live.initial)
        } else {
            s.liveUnavailable = "interventions need the model: this explorer draws a recording without it (explore a checkpoint and an image to intervene)"
        }
        return s
    }

    /// The run `state` shows: the finished run of exactly its interventions, or while that one
    /// is still running the newest finished run (stale), or the plain run.
    func shownRun(_ state: AppState) -> LiveRun? {
        guard live != nil, !state.edits.isEmpty else { return nil }
        let key = LiveRun.key(state.edits.interventions)
        return runs.first { $0.key == key } ?? runs.first
    }

    /// What the side panel and the marker say, nil without live interventions.
    func liveStatus(_ state: AppState) -> LiveStatus? {
        guard live != nil else { return nil }
        let wanted = state.edits.interventions
        let key = LiveRun.key(wanted)
        let run = shownRun(state)
        let exact = run?.key == key
        let failed = failure != nil && requested == key
        return LiveStatus(before: beforeProbabilities, after: run.map { $0.context.recording.probabilities() },
                          shown: run?.interventions.map(\.description) ?? [], wanted: wanted.map(\.description),
                          stale: !wanted.isEmpty && !exact && !failed, failure: failed ? failure : nil,
                          forwardMs: exact ? run?.milliseconds : nil)
    }

    /// Renders `state` into a frame (tests and the benchmark use this without a terminal).
    public func frame(_ state: AppState, tier: ColorTier, mode: PictureMode = .blocks) -> Frame {
        let run = shownRun(state)
        var view: Result<ViewResult, Error>
        if state.showDiff, let run {
            view = run.cache.difference(state.view, state.selection, before: context.recording)
        } else if state.showDiff {
            view = .failure(ViewError.notApplicable("after - before: waiting for the model's first run"))
        } else {
            view = (run?.cache ?? cache).view(state.view, state.selection)
        }
        view = view.map { decorate($0, state) }
        return Renderer.render(state, view: view, context: run?.context ?? context, theme: theme, tier: tier, mode: mode,
                               live: liveStatus(state))
    }

    /// While painting: the occluded boxes (the runs' own inputs show them as the mean colour once
    /// they are in; the outlines show what is painted at once) and the brush, over the picture.
    /// Without painting the picture is exactly the run's figure.
    func decorate(_ v: ViewResult, _ state: AppState) -> ViewResult {
        guard live != nil, state.painting else { return v }
        var out = v
        let strides = Dictionary(state.geometry.stages.map { ($0.level + 1, $0.stride) }, uniquingKeysWith: { a, _ in a })
        func rect(_ t: StageToken) -> PixelRect? {
            strides[t.stage].map { PixelRect(x0: t.col * $0, y0: t.row * $0, width: $0, height: $0) }
        }
        for case let .occludeTokens(box) in state.edits.interventions {
            guard let s = strides[box.stage] else { continue }
            out.overlays.occluded.append(PixelRect(x0: box.cols.lowerBound * s, y0: box.rows.lowerBound * s,
                                                   width: box.cols.count * s, height: box.rows.count * s))
        }
        if let st = state.stage {
            let cells = KeyHandling.brushTokens(state, st).compactMap(rect)
            if let x0 = cells.map(\.x0).min(), let y0 = cells.map(\.y0).min(),
               let x1 = cells.map({ $0.x0 + $0.width }).max(), let y1 = cells.map({ $0.y0 + $0.height }).max() {
                out.overlays.brush = PixelRect(x0: x0, y0: y0, width: x1 - x0, height: y1 - y0)
            }
        }
        return out
    }

    deinit { worker?.stop() }

    /// Asks for a run of `state`'s interventions when they changed (none: nothing to run). The
    /// background worker starts at the first request.
    func sync(_ state: AppState) {
        guard let live else { return }
        if worker == nil { worker = LiveRunner(runner: live.runner) }
        guard let worker else { return }
        let wanted = state.edits.interventions
        let key = LiveRun.key(wanted)
        guard key != requested else { return }
        requested = key
        failure = nil
        if wanted.isEmpty || runs.contains(where: { $0.key == key }) {
            worker.cancel()
        } else {
            worker.request(wanted)
        }
    }

    /// Takes a finished run from the worker; true when there was one.
    func collect() -> Bool {
        guard let o = worker?.take() else { return false }
        switch o.result {
        case let .success(r):
            runs.removeAll { $0.key == LiveRun.key(o.interventions) }
            runs.insert(LiveRun(o.interventions, context: context.with(recording: r), milliseconds: o.milliseconds), at: 0)
            if runs.count > 8 { runs.removeLast() }
        case let .failure(e):
            failure = String(describing: e)
        }
        return true
    }

    /// Blocks until the worker's next result is in and taken (benchmarks, the developer tool's
    /// frames); false after `timeoutMs` without one.
    func waitForRun(timeoutMs: Int) -> Bool {
        guard let worker else { return false }
        let end = DispatchTime.now().uptimeNanoseconds + UInt64(timeoutMs) * 1_000_000
        while DispatchTime.now().uptimeNanoseconds < end {
            if collect() { return true }
            var p = pollfd(fd: worker.wakeFD, events: Int16(POLLIN), revents: 0)
            if poll(&p, 1, 50) > 0 {
                var sink = [UInt8](repeating: 0, count: 64)
                while read(worker.wakeFD, &sink, sink.count) > 0 {}
            }
        }
        return collect()
    }

    /// Asks for `state`'s run and waits for it when it is not in yet (frames printed by the
    /// developer tool); false when the model did not answer within a minute.
    public func settle(_ state: AppState) -> Bool {
        sync(state)
        guard live != nil, !state.edits.isEmpty, shownRun(state)?.key != LiveRun.key(state.edits.interventions) else { return true }
        return waitForRun(timeoutMs: 60_000)
    }

    /// Forgets the finished runs (benchmarks: every change then runs the model).
    func forgetRuns() { runs.removeAll(); requested = [] }

    /// Carries out an export effect; returns the status line and whether it is an error.
    func perform(_ effect: Effect, state: AppState) -> (String, Bool)? {
        let run = shownRun(state)
        let rec = run?.context.recording ?? context.recording, dir = options.exportDirectory
        do {
            switch effect {
            case let .export(kind, sel):
                if state.showDiff {
                    guard let run else { return ("after - before: waiting for the model's first run", true) }
                    let p = try FigureExport.difference(kind, sel, before: context.recording, after: run.context.recording,
                                                        colormap: state.colormap, directory: dir)
                    return ("wrote \(p)", false)
                }
                let p = try FigureExport.view(kind, sel, recording: rec, colormap: state.colormap, directory: dir)
                return ("wrote \(p)", false)
            case let .exportMontage(kind, sel):
                if state.showDiff {
                    return ("no montage of a difference: e exports this one", true)
                }
                let p = try FigureExport.montage(kind, sel, recording: rec, colormap: state.colormap, directory: dir)
                return ("wrote \(p)", false)
            default: return nil
            }
        } catch {
            return ("export failed: \(error)", true)
        }
    }

    /// The tour on the run shown (its interventions stated), able to run the model again.
    func tour(_ state: AppState) -> TourScreen {
        let run = shownRun(state)
        return TourScreen(context: run?.context ?? context, theme: theme, colormap: state.colormap, runner: live?.runner,
                          interventions: run?.interventions ?? [])
    }

    /// Takes over the terminal until the person quits. `onFirstFrame` runs after the first frame
    /// is on screen (startup timing).
    public func run(onFirstFrame: (() -> Void)? = nil, quitAfterFirstFrame: Bool = false) throws {
        let term = try Terminal(options: options.terminal)
        // On the way out the terminal goes back at once; then a forward pass under way is let
        // finish (at most one, seconds with a large model): the process must not exit under it.
        defer { worker?.stop(); term.stop(); worker?.join(); worker = nil }
        let size = term.size
        var state = initialState(width: size.width, height: size.height)
        state.display = term.displayLabel   // the side panel says how pictures and colours are shown
        sync(state)
        let mode = term.pictureMode
        var f = frame(state, tier: term.tier, mode: mode)
        state.picture = f.picture
        state.sideMatrix = f.sideMatrix
        term.draw(f.buffer, pictures: f.pictures)
        onFirstFrame?()
        if quitAfterFirstFrame { return }
        while true {
            var next = state
            var effects: [Effect] = []
            switch term.readEvent(wake: worker?.wakeFD) {
            case .woken:
                if collect() { effects = [.redraw] }
            case let .key(key):
                (next, effects) = KeyHandling.handle(state, key)
            }
            var redraw = false
            for e in effects {
                switch e {
                case .quit: return
                case .redraw: redraw = true
                case let .openTour(step):
                    // The tour borrows the terminal until q / Esc, then the explorer redraws.
                    tour(next).run(on: term, start: step)
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
            sync(state)
            if redraw {
                f = frame(state, tier: term.tier, mode: mode)
                state.picture = f.picture
                state.sideMatrix = f.sideMatrix
                term.draw(f.buffer, pictures: f.pictures)
            }
        }
    }
}
