// The files of `stats` (and of `merge` on stats parts): stats.csv, stats.json, the charts and
// partial.json, written together into the output folder (all appear or none), from a partial
// result, so a single run and a merge of its shards write the same numbers.
import Foundation
import HatImaging
import HatSystem
import HatViews

public enum StatsOutputs {
    public typealias Partial = PartialResult<HeadStatisticsAccumulator, NoRow>

    /// The statistics of `partial` with its skipped inputs and coverage notes; nil when no input
    /// contributed.
    public static func statistics(_ partial: Partial, coverage: [String] = []) -> HeadStatistics? {
        guard var stats = partial.summary.statistics else { return nil }
        stats.skipped = partial.skipped.map { HeadStatistics.Skipped(input: $0.name, reason: $0.reason) }
        stats.coverage = coverage
        return stats
    }

    /// Writes partial.json (when given) and, when `stats` is given, stats.csv, stats.json and the
    /// charts into `folder` through `batch` (committed by the caller). Returns the chart count.
    @discardableResult
    public static func write(_ partial: Partial?, stats: HeadStatistics?, into folder: OutputFolder, batch: OutputBatch,
                             colormap: Colormap, scale: Int) throws -> Int {
        if let partial { try batch.write(try partial.encoded(), to: folder.file("partial.json")) }
        guard let stats else { return 0 }
        let charts = StatsCharts.all(stats, colormap: colormap, scale: scale)
        try batch.write(Array(stats.csv().utf8), to: folder.file("stats.csv"))
        try batch.write(Array(try stats.json()), to: folder.file("stats.json"))
        for (name, image) in charts {
            try ImageIO.writePNG(image, to: folder.file(name), batch: batch)
        }
        return charts.count
    }
}
