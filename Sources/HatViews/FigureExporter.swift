// Writing figures to a folder: which figures a request means (one selection, or `--all`: every
// view for every block and head), rendering each, writing PNGs atomically and collecting the
// manifest entries. Shared by `hatscope export` and the explorer's export keys, so both write the
// same files under the same names.
import Foundation
import HatImaging
import HatRecording
import HatSystem

/// One figure to write: a view at a selection, or a montage of all heads of that view.
public struct ExportItem: Sendable, Equatable {
    public var kind: ViewKind
    public var selection: Selection
    public var montage: Bool
    public init(kind: ViewKind, selection: Selection, montage: Bool = false) {
        self.kind = kind; self.selection = selection; self.montage = montage
    }
}

/// Where the time went (milliseconds, summed over figures).
public struct ExportTiming: Sendable, Equatable {
    public var computeMs: Double = 0, renderMs: Double = 0, encodeMs: Double = 0, writeMs: Double = 0
    /// The slowest single figure (compute + render + encode + write) and its file name.
    public var slowestMs: Double = 0
    public var slowestFile = ""
    /// CPU time of this thread for that slowest figure: unlike wall time it does not grow when
    /// other processes compete for the cores.
    public var slowestCPUMs: Double = 0
    public var figures: Int = 0
    public init() {}
}

public enum FigureExporter {
    /// Views that vary with the head (and so have montages).
    public static let perHeadKinds: [ViewKind] = [.local, .carrier, .reach, .rollout, .matrix]

    /// The figures for `kinds` at one selection; with `montage`, also a montage of every per-head
    /// kind.
    public static func plan(_ kinds: [ViewKind], selection: Selection, montage: Bool) -> [ExportItem] {
        var items = kinds.map { ExportItem(kind: $0, selection: selection) }
        if montage {
            items += kinds.filter { perHeadKinds.contains($0) }.map { ExportItem(kind: $0, selection: selection, montage: true) }
        }
        return items
    }

    /// Every view for every block and head (and their mean) of every transformer stage, a montage
    /// per block and view, each stage's propagation and each convolutional stage's energy. The
    /// query and carrier of `selection` are carried to the other stages by input position.
    public static func planAll(recording: Recording, selection: Selection) -> [ExportItem] {
        var items: [ExportItem] = []
        for conv in recording.convStages {
            items.append(ExportItem(kind: .energy, selection: moved(selection, to: conv.level, recording: recording)))
        }
        for stage in recording.stages {
            let base = moved(selection, to: stage.level, recording: recording)
            items.append(ExportItem(kind: .propagation, selection: base))
            for b in 0 ..< stage.blocks.count {
                for kind in perHeadKinds {
                    for head in Array(0 ..< stage.heads).map(Optional.some) + [nil] {
                        var s = base
                        s.block = b; s.head = head
                        items.append(ExportItem(kind: kind, selection: s))
                    }
                    var s = base
                    s.block = b
                    items.append(ExportItem(kind: kind, selection: s, montage: true))
                }
            }
        }
        return items
    }

    /// `s` moved to stage `level`: the query goes to the token under the same input pixel (the
    /// centre of the original query token), the carrier slot is dropped, the carrier clamped.
    public static func moved(_ s: Selection, to level: Int, recording: Recording) -> Selection {
        guard level != s.level else { return s }
        var out = s
        out.level = level
        out.carrierSlot = nil
        let fromStride = recording.stages.first { $0.level == s.level }?.stride
            ?? recording.convStages.first { $0.level == s.level }?.stride ?? 16
        let y = s.queryRow * fromStride + fromStride / 2, x = s.queryCol * fromStride + fromStride / 2
        if let st = recording.stages.first(where: { $0.level == level }) {
            out.queryRow = min(max(y / st.stride, 0), max(st.paddedHeight - 1, 0))
            out.queryCol = min(max(x / st.stride, 0), max(st.paddedWidth - 1, 0))
            out.carrier = min(s.carrier, max(st.carriers.count - 1, 0))
            out.block = min(s.block, max(st.blocks.count - 1, 0))
            if let h = s.head, h >= st.heads { out.head = st.heads - 1 }
        }
        return out
    }

    /// Renders and writes `items` into `folder` (which must exist). Views that do not apply are
    /// not written; they are returned as skipped with their reason (one entry per view, stage and
    /// reason). Two items with the same file name are written once. `progress(done, total, file)`
    /// is called after each item. With a `batch`, the files become final only when the caller
    /// commits it (all together); without, each file is final once written.
    public static func export(_ items: [ExportItem], recording: Recording, folder: String,
                              options: FigureOptions, sharedScale: Bool, batch: OutputBatch? = nil,
                              progress: ((Int, Int, String) -> Void)? = nil) throws
        -> (figures: [Manifest.Figure], skipped: [Manifest.Skipped], timing: ExportTiming) {
        let input = FigureRenderer.inputImage(recording)
        var figures: [Manifest.Figure] = []
        var skipped: [Manifest.Skipped] = []
        var seenSkips = Set<String>()
        var seenFiles = Set<String>()
        var timing = ExportTiming()
        for (i, item) in items.enumerated() {
            let name = FigureNaming.fileName(item.kind, item.selection, recording: recording,
                                             montage: item.montage, sharedScale: sharedScale)
            defer { progress?(i + 1, items.count, name) }
            guard seenFiles.insert(name).inserted else { continue }
            let t0 = now(), c0 = cpuNow()
            let image: RGBImage
            let entry: Manifest.Figure
            do {
                if item.montage {
                    let panels = try Montage.views(item.kind, recording: recording, selection: item.selection)
                    let t1 = now()
                    image = Montage.render(panels, input: input, options: options, sharedScale: sharedScale).image
                    timing.computeMs += t1 - t0
                    timing.renderMs += now() - t1
                    var sel = item.selection
                    sel.head = nil
                    let mean = panels[panels.count - 1].view
                    entry = Manifest.Figure(file: name, result: mean, selection: sel, montage: true,
                                            range: sharedScale ? Montage.sharedRange(panels) : nil)
                } else {
                    let view = try Views.compute(item.kind, recording: recording, selection: item.selection)
                    let t1 = now()
                    image = FigureRenderer.render(view, input: input, options: options)
                    timing.computeMs += t1 - t0
                    timing.renderMs += now() - t1
                    entry = Manifest.Figure(file: name, result: view, selection: item.selection)
                }
            } catch let e as ViewError {
                let key = "\(item.kind)|\(item.selection.level)|\(e)"
                if seenSkips.insert(key).inserted {
                    skipped.append(Manifest.Skipped(view: item.kind, selection: item.selection, reason: e.description))
                }
                continue
            }
            let t2 = now()
            let png = try PNGCodec.encode(image)
            let t3 = now()
            if let batch { try batch.write(png, to: folder + "/" + name) } else { try OutputFile.write(png, to: folder + "/" + name) }
            let t4 = now()
            timing.encodeMs += t3 - t2
            timing.writeMs += t4 - t3
            if t4 - t0 > timing.slowestMs {
                timing.slowestMs = t4 - t0; timing.slowestFile = name; timing.slowestCPUMs = cpuNow() - c0
            }
            timing.figures += 1
            figures.append(entry)
        }
        return (figures, skipped, timing)
    }

    /// Writes the difference figure of `kind` at `selection` (DiffView: `after` minus `before`,
    /// diverging colours, its colour bar labelled "after - before") into `folder` as
    /// `diff_<the view's file name>`, over `after`'s input; returns the file name.
    public static func exportDifference(_ kind: ViewKind, selection: Selection, before: Recording, after: Recording,
                                        folder: String, options: FigureOptions) throws -> String {
        let view = try DiffView.compute(kind, before: before, after: after, selection: selection)
        let name = "diff_" + FigureNaming.fileName(kind, selection, recording: after)
        let image = FigureRenderer.render(view, input: FigureRenderer.inputImage(after), options: options)
        try OutputFile.write(try PNGCodec.encode(image), to: folder + "/" + name)
        return name
    }

    /// This thread's CPU time in milliseconds.
    static func cpuNow() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) * 1000 + Double(ts.tv_nsec) / 1e6
    }

    /// Milliseconds on a monotonic clock.
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) * 1000 + Double(ts.tv_nsec) / 1e6
    }
}
