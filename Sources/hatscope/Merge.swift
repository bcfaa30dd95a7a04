// `hatscope merge OUT PART...`: combines the partial results of sharded runs (`stats --shard`)
// into the outputs one run over all their images writes. The checks and the pooling are
// HatPipeline's PartialMerge; the files are written by the command's own output writer.
import ArgumentParser
import Foundation
import HatImaging
import HatPipeline
import HatSystem
import HatViews

struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Combine the partial results of sharded runs (stats or faithfulness --shard K/N) into one result.",
        discussion: """
        Inputs: PART... are partial.json files, or the --out folders of the shards holding them. \
        They must come from one run: the same command, model, checkpoint (by SHA-256), options \
        and input list, and cover different images; anything else is refused with one line \
        saying which two parts differ and how.

        Output, in OUT (created if missing; all files appear together): what the command writes \
        for a single run over the same images (stats: stats.csv, stats.json, the charts; \
        faithfulness: faithfulness.csv, faithfulness.json, curves.png, sanity.png) and \
        partial.json, so merges can be done in steps. The numbers are exactly those of one run: \
        the parts hold exact sums. Shards that no part covers are reported (a note, and in \
        stats.json's "coverage"); the merge of the others is still written.

        Examples:
          hatscope merge stats parts/1 parts/2 parts/3 parts/4
          hatscope merge stats parts/*/partial.json
        """)

    @Argument(help: ArgumentHelp("Output folder (created if missing).", valueName: "out"))
    var out: String

    @Argument(help: ArgumentHelp("Partial results: partial.json files or folders holding one.", valueName: "part"))
    var parts: [String] = []

    @Option(help: "Integer enlargement of the PNG charts (1-8).")
    var scale: Int = 2

    @Option(help: "Colour map of the heatmaps: \(Colormap.allCases.map(\.rawValue).joined(separator: ", ")).")
    var colormap: String = Colormap.default.rawValue

    func validate() throws {
        guard !parts.isEmpty else { throw ValidationError("give the output folder and at least one partial result: hatscope merge OUT PART...") }
        guard (1 ... 8).contains(scale) else { throw ValidationError("--scale must be 1-8 (got \(scale))") }
        guard Colormap(rawValue: colormap) != nil else {
            throw ValidationError("--colormap must be one of \(Colormap.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        try PartialFile.checkMergeOutput(out, parts: parts)
        // Each part is read once (a FIFO or `<(cmd)` cannot be read again).
        let loaded = try parts.map { try PartialFile.load($0) }
        let kinds = loaded.map(\.kind)
        if let other = kinds.firstIndex(where: { $0 != kinds[0] }) {
            throw CLIError("\(UserMessage.name(parts[0])) (\(kinds[0])) and \(UserMessage.name(parts[other])) (\(kinds[other])) are results of different commands")
        }
        switch kinds[0] {
        case "stats": try mergeStats(loaded)
        case "faithfulness": try mergeFaithfulness(loaded)
        default: throw CLIError("\(UserMessage.name(parts[0])): partial results of '\(kinds[0].prefix(40))' cannot be merged by this hatscope")
        }
    }

    private func mergeStats(_ loaded: [PartialFile.Loaded]) throws {
        let read = try zip(parts, loaded).map { (path: $0, partial: try StatsOutputs.Partial.decode($1)) }
        let merged = try PartialMerge.merge(read)
        let outFolder = try OutputFolder(out, option: "OUT")
        let partial = merged.partial
        guard let stats = StatsOutputs.statistics(partial, coverage: merged.missing.map { [$0] } ?? []) else {
            throw CLIError("no image contributed to the parts (\(partial.skipped.count) skipped)")
        }
        let batch = OutputBatch()
        let charts = try StatsOutputs.write(partial, stats: stats, into: outFolder, batch: batch,
                                            colormap: Colormap(rawValue: colormap) ?? .default, scale: scale)
        try batch.commit()
        outFolder.finish()
        for line in stats.textSummary() { print(line) }
        print("merged \(parts.count) part\(parts.count == 1 ? "" : "s") (\(partial.covered.count) images used, "
              + "\(partial.skipped.count) skipped, of \(partial.list.count)): wrote stats.csv, stats.json, partial.json and \(charts) charts to \(out)")
        if let m = merged.missing { note(m + "; the results cover the other shards only") }
    }

    private func mergeFaithfulness(_ loaded: [PartialFile.Loaded]) throws {
        let read = try zip(parts, loaded).map { (path: $0, partial: try FaithfulnessOutputs.Partial.decode($1)) }
        let merged = try PartialMerge.merge(read)
        let outFolder = try OutputFolder(out, option: "OUT")
        guard let report = FaithfulnessOutputs.report(merged.partial, coverage: merged.missing.map { [$0] } ?? []) else {
            throw CLIError("no image contributed to the parts (\(merged.partial.skipped.count) skipped)")
        }
        let batch = OutputBatch()
        let written = try FaithfulnessOutputs.write(merged.partial, report: report, into: outFolder, batch: batch, scale: scale)
        try batch.commit()
        outFolder.finish()
        for line in report.textSummary() { print(line) }
        print("merged \(parts.count) part\(parts.count == 1 ? "" : "s") (\(merged.partial.covered.count) images used, "
              + "\(merged.partial.skipped.count) skipped, of \(merged.partial.list.count)): wrote \(written.joined(separator: ", ")) to \(out)")
        if let m = merged.missing { note(m + "; the results cover the other shards only") }
    }
}
