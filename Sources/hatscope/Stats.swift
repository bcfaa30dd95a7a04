// `hatscope stats`: per-head attention statistics (mean attention distance in input pixels,
// normalized entropy, share of attention on carrier tokens) for every transformer block, averaged
// over one image or a folder of images, written as stats.csv, stats.json and PNG charts; sharded,
// resumable and mergeable. The work is HatPipeline's (StatsJob on DatasetRunner, StatsOutputs).
import ArgumentParser
import Foundation
import HatCore
import HatImaging
import HatPipeline
import HatRecordingFile
import HatSystem
import HatViews

struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Per-head attention statistics (distance, entropy, carrier share) over one image or a folder; sharded, resumable.",
        discussion: """
        Inputs: a checkpoint (--checkpoint, default the embedded demo model) and inputs: --image / \
        --input (repeatable: a PNG/JPEG photo, preprocessed like timm's eval transform, or a .npy \
        or safetensors tensor [1, 3, H, W]; - for standard input) and/or --images DIR (every \
        .png/.jpg/.jpeg in it, sorted by the bytes of the name; --recursive for subfolders). An \
        input that cannot be used (unreadable, corrupt, another size) is skipped: named on \
        stderr and in stats.json's "skipped" list; the run completes with the others (exit \
        status 1 only when none could be used). Or recording files (--recording R, repeatable; \
        the model does not run and their maps are read in place; no shards, progress or \
        partial.json).

        Output, in --out (created if missing; all files appear together, none on failure; the \
        folder is locked for the run): stats.csv (one row per attention, stage, block and \
        head), stats.json (the same with the definitions and stage shapes), PNG charts: \
        scatter_distance.png / scatter_entropy.png (x = block, one dot per head; window attention \
        blue, carrier attention orange) and heatmap_<attention>_<number>.png (blocks x heads), \
        and partial.json (the exact sums behind every number, for hatscope merge).

        Large runs: --shard K/N does part K of N (blocks of --batch images of the sorted list, \
        the same on every machine) and writes only partial.json; `hatscope merge OUT PARTS...` \
        combines the parts into exactly the numbers of one run. A run saves its progress in \
        OUT/.hatscope-progress as it goes: killed at any moment, the same command continues \
        where it stopped and ends with the same result.

        Definitions: the mean distance is, per query, the sum over keys of probability times the \
        distance in input pixels between the query's and the key's centre (grid tokens at the \
        centre of their cell, carrier tokens at the centre of their pooling box), averaged over \
        the queries. Queries are the real (unpadded) tokens of every window; carrier rows of the \
        window attention are not counted (they have their own series, the carrier attention). \
        Keys include padded tokens, which the model attends to. Normalized entropy divides by \
        ln(number of keys). Averages pool every query of every image; sums are exact, so the \
        order, threads and shards do not change a bit.

        Examples:
          hatscope stats --image cat.jpg --out stats
          hatscope stats --checkpoint fastervit_0.pth.tar --images photos/ --out st
          hatscope stats --checkpoint C --images val/ --recursive --shard 3/8 --out parts/3
          hatscope merge stats parts/*
          hatscope stats --recording a.safetensors --recording b.safetensors --out stats
        """)

    @OptionGroup var model: ModelOptions
    @OptionGroup var input: InputOption
    @OptionGroup var recording: RecordingOptions
    @OptionGroup var dataset: DatasetOptions

    @Option(help: "Output folder (created if missing).")
    var out: String

    @Option(help: "Images per batch through the network, and per block of --shard and of saved progress (1-256). Part of a run's identity: shards to merge must use the same.")
    var batch: Int = 16

    @Option(help: "Integer enlargement of the PNG charts (1-8).")
    var scale: Int = 2

    @Option(help: "Colour map of the heatmaps: \(Colormap.allCases.map(\.rawValue).joined(separator: ", ")).")
    var colormap: String = Colormap.default.rawValue

    func validate() throws {
        if input.inputs.isEmpty && dataset.folder == nil && !recording.isGiven {
            throw ValidationError("give --image FILE (or --input), --images DIR or --recording R")
        }
        guard (1 ... 256).contains(batch) else { throw ValidationError("--batch must be 1-256 (got \(batch))") }
        guard (1 ... 8).contains(scale) else { throw ValidationError("--scale must be 1-8 (got \(scale))") }
        guard Colormap.named(colormap) != nil else {
            throw ValidationError("--colormap must be one of \(Colormap.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        try recording.checkAlone(model.givenOptions + [("--input", !input.inputs.isEmpty), ("--images", dataset.folder != nil),
                                                       ("--shard", dataset.shard != nil)])
        if recording.isGiven { return try runRecordings() }
        let list = try dataset.list(inputs: input.inputs, blockSize: batch)
        let shard = dataset.shardSpec
        let outFolder = try OutputFolder(out, option: "--out", resumable: true)
        let model = try self.model.run()
        let fingerprint = RunFingerprint(tool: "hatscope \(HatScopeVersion.string)", kind: "stats", model: model.loaded,
                                         request: self.model.request, settings: StatsJob.settings(batch: batch))
        let shardImages = list.range(ofBlocks: shard.blocks(of: list.blockCount)).count
        let bar = ProgressLine(label: shard.isWhole ? "stats" : "stats \(shard)", total: shardImages)
        let timing = StageTiming()
        let t0 = Date()
        // A single input's failure is the command's error (below), not a note.
        let (partial, progress) = try DatasetRunner.runShard(
            StatsJob(model: model, timing: timing), list: list, shard: shard, outFolder: out, fingerprint: fingerprint,
            model: model, jobs: DatasetRunner.defaultJobs(requested: dataset.jobs), decoders: DatasetRunner.defaultDecoders,
            events: dataset.events(bar, label: "stats", noteSkips: list.count > 1))
        bar?.finish()
        let total = Date().timeIntervalSince(t0)
        let used = partial.covered.count

        let t1 = Date()
        let files = OutputBatch()
        var charts = 0
        if shard.isWhole {
            guard used > 0, let stats = StatsOutputs.statistics(partial) else {
                progress.remove()
                if list.count == 1, let only = partial.skipped.first { throw CLIError("\(only.name): \(only.reason)") }
                throw CLIError("no input could be used (\(partial.skipped.count) skipped, each named above)")
            }
            charts = try StatsOutputs.write(partial, stats: stats, into: outFolder, batch: files,
                                            colormap: Colormap(rawValue: colormap) ?? .default, scale: scale)
            try files.commit()
            for line in stats.textSummary() { print(line) }
            for m in stats.missing { print("  missing: \(m)") }
            print("wrote stats.csv, stats.json, partial.json and \(charts) charts to \(out)"
                  + (partial.skipped.isEmpty ? "" : " (\(used) of \(list.count) inputs; \(partial.skipped.count) skipped, listed in stats.json)"))
        } else {
            try StatsOutputs.write(partial, stats: nil, into: outFolder, batch: files, colormap: .default, scale: scale)
            try files.commit()
            print("wrote partial.json to \(out): shard \(shard) of \(list.count) images, \(shardImages) in this shard, "
                  + "\(used) used, \(partial.skipped.count) skipped; combine the shards with `hatscope merge OUT PARTS...`")
        }
        progress.remove()
        outFolder.finish()
        let writeMs = Date().timeIntervalSince(t1) * 1000
        for n in model.loaded.notes + model.notes { note(n) }
        if DeveloperSwitches.timing {
            let perImage = total / Double(max(1, shardImages)) * 1000
            StandardStreams.error(String(
                format: "timing: %d input(s) in blocks of %d, %d job(s): %.0f ms total, %.1f ms per input (forward %.0f ms, statistics %.0f ms summed over jobs), writing %.0f ms\n",
                shardImages, batch, DatasetRunner.defaultJobs(requested: dataset.jobs), total * 1000, perImage,
                timing.forward * 1000, timing.statistics * 1000, writeMs))
        }
    }

    /// Recording files: statistics straight from their maps (read in place), one file at a time;
    /// one that cannot be used is skipped like an unusable input.
    private func runRecordings() throws {
        let paths = recording.paths
        let outFolder = try OutputFolder(out, option: "--out")
        let bar = ProgressLine(label: "stats", total: paths.count)
        var accumulator = HeadStatisticsAccumulator()
        var skipped: [HeadStatistics.Skipped] = []
        for (i, path) in paths.enumerated() {
            do {
                try accumulator.add(try RecordingReader.read(path: path))
            } catch {
                let reason = "\(error)".hasPrefix(path + ": ") ? String("\(error)".dropFirst(path.count + 2)) : "\(error)"
                skipped.append(.init(input: path, reason: reason))
                if paths.count > 1 { note("skipped \(path): \(reason)", progress: bar) }
            }
            bar?.update(i + 1, item: path)
        }
        bar?.finish()
        guard accumulator.recordings > 0, var stats = accumulator.statistics else {
            if paths.count == 1, let only = skipped.first { throw CLIError("\(only.input): \(only.reason)") }
            throw CLIError("no input could be used (\(skipped.count) skipped, each named above)")
        }
        stats.skipped = skipped
        let files = OutputBatch()
        let charts = try StatsOutputs.write(nil, stats: stats, into: outFolder, batch: files,
                                            colormap: Colormap(rawValue: colormap) ?? .default, scale: scale)
        try files.commit()
        outFolder.finish()
        for line in stats.textSummary() { print(line) }
        for m in stats.missing { print("  missing: \(m)") }
        print("wrote stats.csv, stats.json and \(charts) charts to \(out)"
              + (skipped.isEmpty ? "" : " (\(accumulator.recordings) of \(paths.count) inputs; \(skipped.count) skipped, listed in stats.json)"))
    }
}
