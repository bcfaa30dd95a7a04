// The files of `faithfulness` (and of `merge` on its parts): faithfulness.csv, faithfulness.json,
// curves.png, sanity.png and partial.json, written together, from a partial result, so a single
// run and a merge of its shards write the same numbers.
import Foundation
import HatImaging
import HatRecording
import HatSystem
import HatViews

public enum FaithfulnessOutputs {
    public typealias Partial = PartialResult<FaithfulnessSummary, FaithfulnessRow>

    /// The report of `partial` for a model configuration (the fingerprint's), or nil when no image
    /// contributed.
    public static func report(_ partial: Partial, coverage: [String] = []) -> FaithfulnessReport? {
        guard partial.summary.images > 0 else { return nil }
        let config = (try? ModelConfig.decodeJSON(Data(partial.fingerprint.configuration.utf8)))
        let h = config?.resolution[0] ?? 0, w = config?.resolution[1] ?? 0
        let tokens = config.flatMap { ModelGeometry(config: $0, inputHeight: h, inputWidth: w).stage(level: 2) }.map { $0.height * $0.width } ?? 0
        return FaithfulnessReport(
            model: partial.fingerprint.model, inputHeight: h, inputWidth: w, tokens: tokens, summary: partial.summary,
            rows: partial.rows.map { FaithfulnessReport.ImageRow(index: $0.index, name: $0.name, row: $0.row) },
            skipped: partial.skipped.map { ($0.name, $0.reason) }, coverage: coverage,
            seed: UInt64(partial.fingerprint.settings["seed"] ?? "") ?? 0)
    }

    /// Writes partial.json and, with a report, the tables and figures into `folder` through
    /// `batch` (committed by the caller). Returns the file names.
    @discardableResult
    public static func write(_ partial: Partial, report: FaithfulnessReport?, into folder: OutputFolder, batch: OutputBatch,
                             scale: Int) throws -> [String] {
        try batch.write(try partial.encoded(), to: folder.file("partial.json"))
        guard let r = report else { return ["partial.json"] }
        try batch.write(Array(r.csv().utf8), to: folder.file("faithfulness.csv"))
        try batch.write(Array(try r.json()), to: folder.file("faithfulness.json"))
        try ImageIO.writePNG(FaithfulnessCharts.curves(r.summary, model: r.model, tokens: r.tokens, scale: scale),
                             to: folder.file("curves.png"), batch: batch)
        try ImageIO.writePNG(FaithfulnessCharts.sanity(r.summary, model: r.model, scale: scale), to: folder.file("sanity.png"), batch: batch)
        return ["faithfulness.csv", "faithfulness.json", "curves.png", "sanity.png", "partial.json"]
    }
}
