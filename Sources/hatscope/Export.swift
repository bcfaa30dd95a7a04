// `hatscope export`: run the model once with the attention recorder, then write PNG figures of
// the chosen views (or of everything with --all) and a manifest.json that can re-make each one.
// All option checks happen before the model loads; files are written atomically.
import ArgumentParser
import Foundation
import HatCheckpoint
import HatCore
import HatImaging
import HatModel
import HatRecording
import HatViews

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write PNG heatmaps of FasterViT's attention and a manifest.json to a folder.",
        discussion: """
        Inputs: a checkpoint (--checkpoint; default the embedded demo model), and an image \
        (--image, PNG or JPEG, preprocessed exactly like timm's eval transform for the model; \
        default the demo image) or a ready network input (--input X.npy, [1,3,H,W] float32).

        Output: one PNG per figure in --out (created if missing) and manifest.json (tool \
        version, model, checkpoint sha256, image, preprocessing, every selection, value ranges, \
        file names), enough to make any figure again.

        Views: local (a query's window attention and its carrier tokens), carrier (one carrier \
        token's global attention over the whole image, and the N x N matrix), propagation (what \
        the carriers add back in a stage's last block), reach (direct plus via-carrier reach of \
        a query in one block), rollout (attention rollout through the stage's blocks), matrix \
        (a window's raw T x T matrix), energy (convolutional stages 1-2). Default: every view \
        that applies to the stage. --montage adds, per view, one figure with every head of the \
        block and their mean.

        Selection: stages are numbered 1-4 (stage 3 = levels.2); blocks, heads, windows and \
        token rows/columns count from 0. The query is --query ROW,COL on the stage's token \
        grid, or --window W with --query-index K (the K-th token of the window, row-major; \
        default its centre token); --carrier-slot S makes the query the window's S-th carrier \
        token instead. Without any, the query is the stage's centre token.

        --all writes every view for every block and head (and the montages) of every stage, \
        with a progress bar when stderr is a terminal. File names are deterministic: \
        local_s3_b2_h4_w1_q3-5.png is view, stage, block, head (hmean = mean of heads), window, \
        query row-col. --timing prints where the time went.

        Examples:
          hatscope export --image cat.jpg --out figs
          hatscope export --checkpoint fastervit_0_224_1k.pth.tar --image cat.jpg \\
              --out figs --view local --view reach --block 2 --head 4 --query 3,5
          hatscope export --input x.npy --out figs --view carrier --carrier 5 \\
              --montage --shared-scale
          hatscope export --image cat.jpg --out all --all --scale 1 --timing
        """)


    @OptionGroup var model: ModelOptions

    @Option(help: "Image file (PNG or JPEG); default: the demo image when --input is not given.")
    var image: String?

    @Option(help: "Network input as .npy ([1,3,H,W] float32), fed as is instead of an image.")
    var input: String?

    @Option(help: "Output folder for the PNGs and manifest.json (created if missing).")
    var out: String

    @Option(name: .customLong("view"), help: "View to write (repeatable): \(ViewKind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var views: [String] = []

    @Option(help: "Stage 1-4 (1-2 convolutional: energy only; 3-4 transformer).")
    var stage: Int = 3

    @Option(help: "Block of the stage, from 0.")
    var block: Int = 0

    @Option(help: "Head, from 0, or 'mean' for the mean over heads.")
    var head: String = "mean"

    @Option(help: "Window (row-major, from 0) holding the query; use with --query-index.")
    var window: Int?

    @Option(help: "Query token as ROW,COL on the stage's token grid.")
    var query: String?

    @Option(name: .customLong("query-index"), help: "Query as the K-th token (row-major) of --window.")
    var queryIndex: Int?

    @Option(name: .customLong("carrier-slot"), help: "Make the query the window's S-th carrier token.")
    var carrierSlot: Int?

    @Option(help: "Carrier token (grid order, from 0) for the carrier view.")
    var carrier: Int = 0

    @Option(help: "Colour map: \(Colormap.allCases.map(\.rawValue).joined(separator: ", ")).")
    var colormap: String = Colormap.default.rawValue

    @Option(help: "Opacity of the heat cells over the image, 0-1.")
    var opacity: Float = 0.7

    @Option(help: "Integer upscale of the image in figures, 1-8.")
    var scale: Int = 2

    @Flag(help: "Montages: one colour scale for all heads (default: each panel its own).")
    var sharedScale = false

    @Flag(help: "Also write a montage of every head (and their mean) for each per-head view.")
    var montage = false

    @Flag(help: "Write every view (or every --view) for every block and head of every stage.")
    var all = false

    @Flag(help: "Print the forward, render and encode/write times (ms) to stderr.")
    var timing = false

    /// Every option check, before anything loads; CLIError -> `hatscope: ...` and exit 1.
    func checkOptions() throws {
        if image != nil && input != nil { throw CLIError("give either --image or --input, not both") }
        guard Colormap(rawValue: colormap) != nil else {
            throw CLIError("unknown colour map '\(colormap)' (choose \(Colormap.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        guard opacity.isFinite && (0 ... 1).contains(opacity) else { throw CLIError("--opacity must be between 0 and 1") }
        guard (1 ... 8).contains(scale) else { throw CLIError("--scale must be 1-8") }
        guard (1 ... 4).contains(stage) else { throw CLIError("--stage must be 1-4 (stage 3 is levels.2)") }
        for v in views where ViewKind(rawValue: v) == nil {
            throw CLIError("unknown view '\(v)' (choose \(ViewKind.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        _ = try parsedHead()
        _ = try parsedQuery()
        if query != nil && (window != nil || queryIndex != nil) {
            throw CLIError("give the query either as --query ROW,COL or as --window W [--query-index K]")
        }
        if queryIndex != nil && window == nil { throw CLIError("--query-index needs --window") }
    }

    func parsedHead() throws -> Int? {
        if head == "mean" { return nil }
        guard let h = Int(head), h >= 0 else { throw CLIError("--head must be a number from 0 or 'mean', got '\(head)'") }
        return h
    }

    func parsedQuery() throws -> (Int, Int)? {
        guard let q = query else { return nil }
        let parts = q.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let r = parts[0], let c = parts[1], r >= 0, c >= 0 else {
            throw CLIError("--query must be ROW,COL (two numbers from 0), got '\(q)'")
        }
        return (r, c)
    }

    func run() throws {
        do { try export() } catch { fail(error) }
    }

    private func export() throws {
        try checkOptions()
        let level = stage - 1
        let kinds = views.compactMap(ViewKind.init(rawValue:))
        let options = FigureOptions(colormap: Colormap(rawValue: colormap) ?? .default, opacity: opacity, scale: scale)
        try prepareFolder(out)

        let t0 = Date()
        let loaded = try model.load()
        loaded.digest.start()  // the manifest / header shows the hash: hash while the model runs
        let net = try FasterViT(config: loaded.config, weights: loaded.weights)
        let config = loaded.config
        var preprocessing: Manifest.Preprocessing?
        var source = Manifest.Source()
        let tensor: Tensor
        if let npy = input {
            tensor = try EngineInput.single(NPY.read(path: npy), from: npy)
            source.input = npy
        } else {
            let path = try image ?? DemoAssets.defaultImage
            tensor = try preprocessImage(path: path, config: config).tensor
            source.image = path
            preprocessing = Manifest.Preprocessing(height: config.resolution[0], width: config.resolution[1],
                                                   cropPct: config.cropPct, cropMode: config.cropMode)
        }
        // Without --all only the selected stage's blocks up to the selected one are needed
        // (rollout runs through them); carrier maps are always kept by the recorder.
        let keep: Set<BlockID>? = all || level < 2 ? nil : Set((0 ... max(block, 0)).map { BlockID(level: level, block: $0) })
        let recorder = AttentionRecorder(options: RecorderOptions(blocks: keep))
        let t1 = Date()
        _ = try net.forward(tensor, recorder: recorder)
        let forwardMs = Date().timeIntervalSince(t1) * 1000
        let recording = try recorder.recording()
        let selection = try makeSelection(recording, level: level)

        let items: [ExportItem]
        if all {
            // --view narrows --all to those views; block and head choices are all of them.
            items = FigureExporter.planAll(recording: recording, selection: selection)
                .filter { kinds.isEmpty || kinds.contains($0.kind) }
        } else {
            let chosen = kinds.isEmpty ? (level < 2 ? [.energy] : ViewKind.allCases.filter { $0 != .energy }) : kinds
            items = FigureExporter.plan(chosen, selection: selection, montage: montage)
        }
        let bar = all && isatty(STDERR_FILENO) != 0 ? ProgressBar() : nil
        let result = try FigureExporter.export(items, recording: recording, folder: out, options: options,
                                               sharedScale: sharedScale) { done, total, name in
            bar?.update(done, total, name)
        }
        bar?.finish()

        let manifest = Manifest(version: HatScopeVersion.string, model: config,
                                checkpoint: Manifest.Checkpoint(path: loaded.checkpointPath, sha256: loaded.checkpointSHA256),
                                source: source, preprocessing: preprocessing, inputHeight: recording.inputHeight,
                                inputWidth: recording.inputWidth, rendering: Manifest.Rendering(options, sharedScale: sharedScale),
                                figures: result.figures, skipped: result.skipped)
        guard !result.figures.isEmpty else {
            throw CLIError("no figure applies: " + result.skipped.map { "\($0.view.rawValue): \($0.reason)" }.joined(separator: "; "))
        }
        try manifest.write(toFolder: out)
        if !all {
            for s in result.skipped { warn("skipped \(s.view.rawValue): \(s.reason)") }
        }
        print("wrote \(result.figures.count) figure\(result.figures.count == 1 ? "" : "s") and manifest.json to \(out)"
              + (all && !result.skipped.isEmpty ? " (\(result.skipped.count) view/stage combinations do not apply; see manifest.json)" : ""))
        if timing {
            let t = result.timing
            let n = Double(max(t.figures, 1))
            warn(String(format: "timing: load+preprocess %.0f ms, forward %.0f ms; %d figures: views %.1f ms, render %.1f ms, PNG encode %.1f ms, write %.1f ms (%.1f ms per figure; slowest %.1f ms wall, %.1f ms CPU: %@); total %.0f ms",
                        t1.timeIntervalSince(t0) * 1000, forwardMs, t.figures, t.computeMs, t.renderMs, t.encodeMs, t.writeMs,
                        (t.computeMs + t.renderMs + t.encodeMs + t.writeMs) / n, t.slowestMs, t.slowestCPUMs, t.slowestFile,
                        Date().timeIntervalSince(t0) * 1000))
        }
    }

    /// The selection from the options, checked against the recorded stage.
    private func makeSelection(_ rec: Recording, level: Int) throws -> Selection {
        var sel = Selection(level: level, block: block, head: try parsedHead(), carrier: carrier)
        guard let st = rec.stages.first(where: { $0.level == level }) else { return sel }  // conv stage: energy only
        if let (r, c) = try parsedQuery() {
            sel.queryRow = r; sel.queryCol = c
        } else if let w = window {
            guard w >= 0 && w < st.windowCount else {
                throw CLIError("--window \(w): stage \(stage) has windows 0-\(st.windowCount - 1)")
            }
            let n = st.windowSize * st.windowSize
            let k = queryIndex ?? (st.windowSize / 2) * st.windowSize + st.windowSize / 2
            guard k >= 0 && k < n else { throw CLIError("--query-index \(k): windows of stage \(stage) have tokens 0-\(n - 1)") }
            let p = st.geometry.tokenPosition(window: w, local: k)
            sel.queryRow = p.row; sel.queryCol = p.col
        } else {
            sel.queryRow = st.height / 2; sel.queryCol = st.width / 2
        }
        sel.carrierSlot = carrierSlot
        // Checks block, head, query and slot against the recording with one clear message.
        do { _ = try Views.compute(.matrix, recording: rec, selection: sel) } catch let e as ViewError {
            if case .invalidSelection = e { throw CLIError(e.description) }
        }
        return sel
    }

    /// Creates the output folder when missing and checks it can be written.
    private func prepareFolder(_ path: String) throws {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
            guard isDir.boolValue else { throw CLIError("--out \(path) is a file, not a folder") }
        } else {
            do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
                throw CLIError("cannot create output folder \(path): \(error.localizedDescription)")
            }
        }
        guard access(path, W_OK) == 0 else { throw CLIError("output folder \(path) is not writable") }
    }

    private func warn(_ s: String) {
        FileHandle.standardError.write(("hatscope: " + s + "\n").data(using: .utf8) ?? Data())
    }
}

/// A one-line progress bar on stderr, redrawn in place.
private final class ProgressBar {
    private var lastDrawn = -1
    func update(_ done: Int, _ total: Int, _ name: String) {
        let width = 30
        let filled = total > 0 ? done * width / total : width
        guard filled != lastDrawn || done == total || done % 10 == 0 else { return }
        lastDrawn = filled
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let shown = name.count > 40 ? String(name.prefix(40)) : name
        let line = "\r[\(bar)] \(done)/\(total) \(shown)" + String(repeating: " ", count: max(0, 40 - shown.count))
        FileHandle.standardError.write(line.data(using: .utf8) ?? Data())
    }
    func finish() { FileHandle.standardError.write("\n".data(using: .utf8) ?? Data()) }
}
