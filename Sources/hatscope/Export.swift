// `hatscope export`: run the model once with the attention recorder, then write PNG figures of
// the chosen views (or of everything with --all) and a manifest.json that can re-make each one.
// All option checks happen before the model loads; files are written atomically.
import ArgumentParser
import Foundation
import HatCheckpoint
import HatCore
import HatImaging
import HatModel
import HatPipeline
import HatRecording
import HatSystem
import HatViews

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write PNG heatmaps of FasterViT's attention and a manifest.json to a folder.",
        discussion: """
        Inputs: a checkpoint (--checkpoint; default the embedded demo model), and an image \
        (--image / --input, PNG or JPEG, preprocessed exactly like timm's eval transform for the \
        model; or a ready network input, .npy or safetensors [1,3,H,W]; - for standard input; \
        default the demo image); or a recording file (--recording R, from `hatscope record` or \
        tools/record_torch.py): then the model does not run, and the PNGs are the same bytes as \
        from the checkpoint.

        Output: one PNG per figure in --out (created if missing) and manifest.json (tool \
        version, model, checkpoint sha256, image, preprocessing, the relative-position buffers \
        used (--buffers) and how they compare with the geometry, the interventions, every \
        selection, value ranges, file names), enough to make any figure again. All files appear together when the run \
        succeeds, none when it fails (a folder it created is removed again); the folder is \
        locked for the run, so a second export into it is refused until the first is done.

        Views: local (a query's window attention and its carrier tokens), carrier (one carrier \
        token's global attention over the whole image, and the N x N matrix), propagation (what \
        the carriers add back in a stage's last block), reach (direct plus via-carrier reach of \
        a query in one block), rollout (attention rollout through the stage's blocks), matrix \
        (a window's raw T x T matrix), energy (convolutional stages 1-2). Default: every view \
        that applies to the stage. --montage adds, per view, one figure with every head of the \
        block and their mean.

        Selection: stages are numbered 1-4 (stage 3 = levels.2; --stage also takes levels.2); \
        blocks (or --block levels.2.blocks.1, which names the stage too), heads, windows and \
        token rows/columns count from 0. The query is --query ROW,COL on the stage's token \
        grid, or --window W with --query-index K (the K-th token of the window, row-major; \
        default its centre token); --carrier-slot S makes the query the window's S-th carrier \
        token instead. Without any, the query is the stage's centre token.

        Interventions (--occlude, --occlude-box, --ablate-head, --cut-carriers, --cut-global, \
        --no-propagation; repeatable) change the forward pass the figures show; every title \
        ends with them ("| with --cut-global levels.2") and manifest.json lists them. With \
        --recording the recording's own are used (the options are refused).

        --all writes every view for every block and head (and the montages) of every stage, \
        with a progress bar when stderr is a terminal. File names are deterministic: \
        local_s3_b2_h4_w1_q3-5.png is view, stage, block, head (hmean = mean of heads), window, \
        query row-col.

        Examples:
          hatscope export --image cat.jpg --out figs
          hatscope export --checkpoint fastervit_0_224_1k.pth.tar --image cat.jpg \\
              --out figs --view local --view reach --block 2 --head 4 --query 3,5
          hatscope export --input x.npy --out figs --view carrier --carrier 5 \\
              --montage --shared-scale
          hatscope export --recording rec.safetensors --out figs --view local --montage
          hatscope export --image cat.jpg --out all --all --scale 1
          hatscope export --out cut --view carrier --block 1 --cut-global levels.2
        """)


    @OptionGroup var model: ModelOptions
    @OptionGroup var input: InputOption
    @OptionGroup var recording: RecordingOptions
    @OptionGroup(title: InterventionOptions.title) var interventions: InterventionOptions

    @Option(help: "Output folder for the PNGs and manifest.json (created if missing).")
    var out: String

    @Option(name: .customLong("view"), help: "View to write (repeatable): \(ViewKind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var views: [String] = []

    @Option(help: "Stage 1-4 (1-2 convolutional: energy only; 3-4 transformer), or levels.0-levels.3. Default: 3.")
    var stage: String?

    @Option(help: "Block of the stage, from 0, or an official path levels.L.blocks.B.")
    var block: String = "0"

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

    @Option(help: "Carrier token (grid order, from 0) for the carrier view; default 0.")
    var carrier: Int?

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

    /// Every option check, before anything loads.
    func checkOptions() throws -> (level: Int, block: Int) {
        guard Colormap.named(colormap) != nil else {
            throw CLIError("unknown colour map '\(colormap)' (choose \(Colormap.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        guard opacity.isFinite && (0 ... 1).contains(opacity) else { throw CLIError("--opacity must be between 0 and 1") }
        guard (1 ... 8).contains(scale) else { throw CLIError("--scale must be 1-8") }
        var level = try stage.map { try StageNumbering.level($0, option: "--stage") } ?? 2
        let (blockLevel, b) = try StageNumbering.block(block, option: "--block")
        if let l = blockLevel {
            // --block levels.L.blocks.B names the stage; --stage, when given too, must agree.
            if stage != nil && l != level {
                throw CLIError("--block \(block) is in stage \(l + 1), but --stage says \(level + 1)")
            }
            level = l
        }
        for v in views where ViewKind(rawValue: v) == nil {
            throw CLIError("unknown view '\(v)' (choose \(ViewKind.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        _ = try parsedHead()
        _ = try parsedQuery()
        if query != nil && (window != nil || queryIndex != nil) {
            throw CLIError("give the query either as --query ROW,COL or as --window W [--query-index K]")
        }
        if queryIndex != nil && window == nil { throw CLIError("--query-index needs --window") }
        if let c = carrier, c < 0 { throw CLIError("--carrier must be a number from 0 (got \(c))") }
        return (level, b)
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
        try recording.checkAlone(model.givenOptions + [("--input", !input.inputs.isEmpty)] + interventions.givenOptions)
        let (level, block) = try checkOptions()
        let kinds = views.compactMap(ViewKind.init(rawValue:))
        let options = FigureOptions(colormap: Colormap(rawValue: colormap) ?? .default, opacity: opacity, scale: scale)
        let folder = try OutputFolder(out, option: "--out")
        let batch = OutputBatch()

        let t0 = Date()
        var t1 = Date()
        var forwardMs = 0.0
        let recording: Recording
        var source = Manifest.Source()
        var preprocessing: Manifest.Preprocessing?
        var checkpoint: Manifest.Checkpoint?
        var buffers: Manifest.Buffers?
        var applied: [String] = []
        var notes: [String] = []
        if self.recording.isGiven {
            // A recording file: drawn as recorded, no model.
            let (path, rec) = try self.recording.single(for: "export")
            recording = rec
            if !all && level >= 2 {
                try StageNumbering.check(level: level, block: block, config: rec.config, option: "--block", item: self.block)
            }
            let p = rec.provenance
            checkpoint = p.checkpoint.map { Manifest.Checkpoint(path: $0.path, sha256: $0.sha256 ?? "unknown") }
            if let i = p.input { if i.kind == "image" { source.image = i.path } else { source.input = i.path } }
            source.recording = path
            preprocessing = p.preprocessing
            buffers = Manifest.Buffers(choice: p.buffers, comparison: "as recorded (see the recording's notes)")
            applied = p.interventions
        } else {
            let path = try input.path()
            let file = try NetworkInputReader.open(path)
            let run = try model.run(inputResolution: file.resolution)
            run.loaded.digest.start()  // the manifest shows the hash: hash while the model runs
            let config = run.config
            let x = try file.input(for: config)
            let edits = try interventions.resolve(config: config, height: x.tensor.shape[2], width: x.tensor.shape[3])
            if x.kind == .image {
                source.image = path
                preprocessing = Manifest.Preprocessing(height: config.resolution[0], width: config.resolution[1],
                                                       cropPct: config.cropPct, cropMode: config.cropMode)
            } else {
                source.input = path
            }
            // Without --all only the selected stage's blocks up to the selected one are needed
            // (rollout runs through them); carrier maps are always kept by the recorder.
            let keep: Set<BlockID>? = all || level < 2 ? nil : Set((0 ... block).map { BlockID(level: level, block: $0) })
            if !all && level >= 2 {
                try StageNumbering.check(level: level, block: block, config: config, option: "--block", item: self.block)
            }
            t1 = Date()
            recording = try run.record(x, options: RecorderOptions(blocks: keep), interventions: edits)
            applied = recording.provenance.interventions
            forwardMs = Date().timeIntervalSince(t1) * 1000
            checkpoint = Manifest.Checkpoint(path: run.loaded.checkpointPath, sha256: run.loaded.checkpointSHA256)
            buffers = Manifest.Buffers(choice: run.loaded.buffers.rawValue,
                                       comparison: run.loaded.bufferAudit(resolution: [x.tensor.shape[2], x.tensor.shape[3]]).summary())
            notes = run.loaded.notes + run.notes
        }
        let selection = try makeSelection(recording, level: level, block: block, kinds: kinds)

        let items: [ExportItem]
        if all {
            // --view narrows --all to those views; block and head choices are all of them.
            items = FigureExporter.planAll(recording: recording, selection: selection)
                .filter { kinds.isEmpty || kinds.contains($0.kind) }
        } else {
            let chosen = kinds.isEmpty ? (level < 2 ? [.energy] : ViewKind.allCases.filter { $0 != .energy }) : kinds
            items = FigureExporter.plan(chosen, selection: selection, montage: montage)
        }
        let bar = all ? ProgressLine(label: "export", total: items.count) : nil
        let result = try FigureExporter.export(items, recording: recording, folder: out, options: options,
                                               sharedScale: sharedScale, batch: batch) { done, _, name in
            bar?.update(done, item: name)
        }
        bar?.finish()
        guard !result.figures.isEmpty else {
            throw CLIError("no figure applies: " + result.skipped.map { "\($0.view.rawValue): \($0.reason)" }.joined(separator: "; "))
        }
        let manifest = Manifest(version: HatScopeVersion.string, model: recording.config, checkpoint: checkpoint,
                                source: source, preprocessing: preprocessing, inputHeight: recording.inputHeight,
                                inputWidth: recording.inputWidth, rendering: Manifest.Rendering(options, sharedScale: sharedScale),
                                figures: result.figures, skipped: result.skipped, buffers: buffers,
                                interventions: applied)
        try manifest.write(toFolder: out, batch: batch)
        try batch.commit()
        folder.finish()
        if !all {
            for s in result.skipped { note("skipped \(s.view.rawValue): \(s.reason)") }
        }
        print("wrote \(result.figures.count) figure\(result.figures.count == 1 ? "" : "s") and manifest.json to \(out)"
              + (all && !result.skipped.isEmpty ? " (\(result.skipped.count) view/stage combinations do not apply; see manifest.json)" : ""))
        for n in notes { note(n) }
        if DeveloperSwitches.timing {
            let t = result.timing
            let n = Double(max(t.figures, 1))
            StandardStreams.error(String(format: "timing: load+preprocess %.0f ms, forward %.0f ms; %d figures: views %.1f ms, render %.1f ms, PNG encode %.1f ms, write %.1f ms (%.1f ms per figure; slowest %.1f ms wall, %.1f ms CPU: %@); total %.0f ms\n",
                        t1.timeIntervalSince(t0) * 1000, forwardMs, t.figures, t.computeMs, t.renderMs, t.encodeMs, t.writeMs,
                        (t.computeMs + t.renderMs + t.encodeMs + t.writeMs) / n, t.slowestMs, t.slowestCPUMs, t.slowestFile,
                        Date().timeIntervalSince(t0) * 1000))
        }
    }

    /// The selection from the options, checked against the recorded stage.
    private func makeSelection(_ rec: Recording, level: Int, block: Int, kinds: [ViewKind]) throws -> Selection {
        var sel = Selection(level: level, block: block, head: try parsedHead(), carrier: carrier ?? 0)
        guard let st = rec.stages.first(where: { $0.level == level }) else { return sel }  // conv stage: energy only
        if let (r, c) = try parsedQuery() {
            sel.queryRow = r; sel.queryCol = c
        } else if let w = window {
            guard w >= 0 && w < st.windowCount else {
                throw CLIError("--window \(w): stage \(level + 1) has windows 0-\(st.windowCount - 1)")
            }
            let n = st.windowSize * st.windowSize
            let k = queryIndex ?? (st.windowSize / 2) * st.windowSize + st.windowSize / 2
            guard k >= 0 && k < n else { throw CLIError("--query-index \(k): windows of stage \(level + 1) have tokens 0-\(n - 1)") }
            let p = st.geometry.tokenPosition(window: w, local: k)
            sel.queryRow = p.row; sel.queryCol = p.col
        } else {
            sel.queryRow = st.height / 2; sel.queryCol = st.width / 2
        }
        sel.carrierSlot = carrierSlot
        // An explicit --carrier is checked like --block: out of range is an error, not a skip.
        if let c = carrier, c >= st.carriers.count {
            throw CLIError(st.carriers.isEmpty ? "--carrier \(c): stage \(level + 1) has no carrier tokens"
                                               : "--carrier \(c): stage \(level + 1) has carrier tokens 0-\(st.carriers.count - 1)")
        }
        // Checks block, head, query and slot against the recording with one clear message.
        do { _ = try Views.compute(.matrix, recording: rec, selection: sel) } catch let e as ViewError {
            if case .invalidSelection = e { throw CLIError(e.description) }
        }
        return sel
    }
}
