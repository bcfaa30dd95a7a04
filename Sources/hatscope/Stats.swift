// `hatscope stats`: per-head attention statistics (mean attention distance in input pixels,
// normalized entropy, share of attention on carrier tokens) for every transformer block, averaged
// over one image or a folder of images, written as stats.csv, stats.json and PNG charts. The runs
// themselves (worker threads, skipped inputs) are HatPipeline's StatsRunner.
import ArgumentParser
import Foundation
import HatCheckpoint
import HatCore
import HatImaging
import HatModel
import HatPipeline
import HatRecording
import HatRecordingFile
import HatSystem
import HatViews

struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Per-head attention statistics (distance, entropy, carrier share) over one image or a folder.",
        discussion: """
        Inputs: a checkpoint (--checkpoint, default the embedded demo model) and inputs: --image / \
        --input (repeatable: a PNG/JPEG photo, preprocessed like timm's eval transform, or a .npy \
        or safetensors tensor [1, 3, H, W]; - for standard input) and/or --images DIR (every \
        .png/.jpg/.jpeg in it, sorted by name). An input that cannot be used (unreadable, \
        corrupt, another size) is skipped: named on stderr and in stats.json's "skipped" list; \
        the run completes with the others (exit status 1 only when none could be used). Or \
        recording files (--recording R, repeatable; the model does not run and their maps are \
        read in place).

        Output, in --out (created if missing; all files appear together, none on failure; the \
        folder is locked for the run): stats.csv (one row per attention, stage, block and \
        head), stats.json (the same with the definitions and stage shapes), and PNG charts: \
        scatter_distance.png / scatter_entropy.png (x = block, one dot per head; window attention \
        blue, carrier attention orange) and heatmap_<attention>_<number>.png (blocks x heads).

        Definitions: the mean distance is, per query, the sum over keys of probability times the \
        distance in input pixels between the query's and the key's centre (grid tokens at the \
        centre of their cell, carrier tokens at the centre of their pooling box), averaged over \
        the queries. Queries are the real (unpadded) tokens of every window; carrier rows of the \
        window attention are not counted (they have their own series, the carrier attention). \
        Keys include padded tokens, which the model attends to. Normalized entropy divides by \
        ln(number of keys). Averages pool every query of every image.

        Examples:
          hatscope stats --image cat.jpg --out stats
          hatscope stats --checkpoint fastervit_0.pth.tar --images photos/ --out st
          hatscope stats --recording a.safetensors --recording b.safetensors --out stats
          hatscope stats --images photos/ --out stats --jobs 1 --scale 3
        """)

    @OptionGroup var model: ModelOptions
    @OptionGroup var input: InputOption
    @OptionGroup var recording: RecordingOptions

    @Option(name: .customLong("images"), help: "Folder of images (.png, .jpg, .jpeg; not recursive).")
    var folder: String?

    @Option(help: "Output folder (created if missing).")
    var out: String

    @Option(help: "Forward passes run at once: 0 = automatic (one per core when there are enough images), 1 = one at a time.")
    var jobs: Int = 0

    @Option(help: "Integer enlargement of the PNG charts (1-8).")
    var scale: Int = 2

    @Option(help: "Colour map of the heatmaps: \(Colormap.allCases.map(\.rawValue).joined(separator: ", ")).")
    var colormap: String = Colormap.default.rawValue

    func validate() throws {
        if input.inputs.isEmpty && folder == nil && !recording.isGiven {
            throw ValidationError("give --image FILE (or --input), --images DIR or --recording R")
        }
        guard jobs >= 0 && jobs <= 64 else { throw ValidationError("--jobs must be 0-64 (got \(jobs))") }
        guard (1 ... 8).contains(scale) else { throw ValidationError("--scale must be 1-8 (got \(scale))") }
        guard Colormap.named(colormap) != nil else {
            throw ValidationError("--colormap must be one of \(Colormap.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    /// Every input: --image/--input in order, then the folder's images sorted by name.
    func inputPaths() throws -> [String] {
        var paths = input.inputs
        if let dir = folder {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
                throw CLIError("--images \(dir): no such folder")
            }
            // opendir first: its errno names the problem (FileManager's error would not).
            guard let handle = opendir(dir) else { throw CLIError("--images \(dir): cannot list it (\(FileError.reason()))") }
            closedir(handle)
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
            let found = names.filter { n in
                let l = n.lowercased()
                return !n.hasPrefix(".") && (l.hasSuffix(".png") || l.hasSuffix(".jpg") || l.hasSuffix(".jpeg"))
            }
            if found.isEmpty { throw CLIError("--images \(dir): no .png, .jpg or .jpeg files in it") }
            paths += found.map { (dir as NSString).appendingPathComponent($0) }
        }
        return paths
    }

    func run() throws {
        try recording.checkAlone(model.givenOptions + [("--input", !input.inputs.isEmpty), ("--images", folder != nil)])
        let paths = recording.isGiven ? recording.paths : try inputPaths()
        let outFolder = try OutputFolder(out, option: "--out")
        let batch = OutputBatch()
        let model = recording.isGiven ? nil : try self.model.run()
        let workers = recording.isGiven ? 1 : StatsRunner.workers(requested: jobs, inputs: paths.count)
        let bar = ProgressLine(label: "stats", total: paths.count)
        let t0 = Date()
        var accumulator = HeadStatisticsAccumulator()
        var skipped: [(input: String, reason: String)] = []
        var used = 0, forwardSeconds = 0.0, statsSeconds = 0.0
        if let model {
            let run = try StatsRunner.run(model, inputs: paths, workers: workers, progress: { done, name in
                bar?.update(done, item: name)
            }, skipped: { entry in
                // A single input's failure is the command's error (below), not a note.
                if paths.count > 1 { note("skipped \(entry.input): \(entry.reason)", progress: bar) }
            })
            (accumulator, used, forwardSeconds, statsSeconds) = (run.accumulator, run.used, run.forwardSeconds, run.statsSeconds)
            skipped = run.skipped.map { ($0.input, $0.reason) }
        } else {
            // Recording files: statistics straight from their maps (read in place), one file at a
            // time; one that cannot be used is skipped like an unusable input.
            for (i, path) in paths.enumerated() {
                do {
                    try accumulator.add(try RecordingReader.read(path: path))
                    used += 1
                } catch {
                    let reason = "\(error)".hasPrefix(path + ": ") ? String("\(error)".dropFirst(path.count + 2)) : "\(error)"
                    skipped.append((path, reason))
                    if paths.count > 1 { note("skipped \(path): \(reason)", progress: bar) }
                }
                bar?.update(i + 1, item: path)
            }
            statsSeconds = Date().timeIntervalSince(t0)
        }
        bar?.finish()
        guard used > 0, var stats = accumulator.statistics else {
            if paths.count == 1, let only = skipped.first { throw CLIError("\(only.input): \(only.reason)") }
            throw CLIError("no input could be used (\(skipped.count) skipped, each named above)")
        }
        stats.skipped = skipped.map { HeadStatistics.Skipped(input: $0.input, reason: $0.reason) }
        let total = Date().timeIntervalSince(t0)

        let t1 = Date()
        let charts = StatsCharts.all(stats, colormap: Colormap(rawValue: colormap) ?? .default, scale: scale)
        try batch.write(Array(stats.csv().utf8), to: outFolder.file("stats.csv"))
        try batch.write(Array(try stats.json()), to: outFolder.file("stats.json"))
        for (name, image) in charts {
            try ImageIO.writePNG(image, to: outFolder.file(name), batch: batch)
        }
        try batch.commit()
        outFolder.finish()
        let writeMs = Date().timeIntervalSince(t1) * 1000

        for line in stats.textSummary() { print(line) }
        for m in stats.missing { print("  missing: \(m)") }
        print("wrote stats.csv, stats.json and \(charts.count) charts to \(out)"
              + (skipped.isEmpty ? "" : " (\(used) of \(paths.count) inputs; \(skipped.count) skipped, listed in stats.json)"))
        for n in (model?.loaded.notes ?? []) + (model?.notes ?? []) { note(n) }
        if DeveloperSwitches.timing {
            let perImage = total / Double(max(1, paths.count)) * 1000
            StandardStreams.error(String(
                format: "timing: %d input(s), %d job(s): %.0f ms total, %.0f ms per input (forward %.0f ms, statistics %.0f ms summed over jobs), writing %.0f ms\n",
                paths.count, workers, total * 1000, perImage, forwardSeconds * 1000, statsSeconds * 1000, writeMs))
        }
    }
}
