// `hatscope stats` over a dataset: each block of inputs is recorded as one batch and every
// recording's per-head sums are added exactly to the block's HeadStatisticsAccumulator (the
// command's sufficient statistics); DatasetRunner runs the blocks, DatasetProgress keeps them.
// Inputs that cannot be used (another size, NaN output) are skipped with the reason.
import Foundation
import HatModel
import HatRecording
import HatViews

extension HeadStatisticsAccumulator: DatasetSummary {}

public struct StatsJob: DatasetJob {
    public typealias Summary = HeadStatisticsAccumulator
    public typealias Row = NoRow

    public let model: ModelRun
    public let timing: StageTiming

    public init(model: ModelRun, timing: StageTiming = StageTiming()) {
        self.model = model
        self.timing = timing
    }

    /// Settings that change the numbers (for the run's fingerprint).
    public static func settings(batch: Int) -> [String: String] {
        ["batch": String(batch), "attentionBudgetBytes": String(recorderOptions.maxAttentionBytes)]
    }

    /// Every block is needed; the recorder's memory budget still applies (huge inputs keep fewer
    /// blocks and the missing ones are listed).
    static let recorderOptions = RecorderOptions(blocks: nil, maxAttentionBytes: 1 << 30)

    public func process(_ inputs: [DatasetInput]) throws -> DatasetBlockResult<Summary, Row> {
        let size = model.config.resolution
        var skipped: [SkippedInput] = []
        var batch: [DatasetInput] = []
        for x in inputs {
            let s = x.input.tensor.shape
            if s.count == 4, s[2] != size[0] || s[3] != size[1] {
                skipped.append(SkippedInput(index: x.index, name: x.item.name,
                                            reason: "another size: \(s[2])x\(s[3]), the model runs at \(size[0])x\(size[1]) (--resolution)"))
            } else {
                batch.append(x)
            }
        }
        let t0 = Date()
        let recordings = model.record(batch: batch.map(\.input), options: Self.recorderOptions)
        let t1 = Date()
        var acc = HeadStatisticsAccumulator()
        for (x, result) in zip(batch, recordings) {
            do {
                try acc.add(try result.get())
            } catch {
                skipped.append(SkippedInput(index: x.index, name: x.item.name, reason: DatasetRunner.reason(error, path: x.item.path)))
            }
        }
        timing.add(forward: t1.timeIntervalSince(t0), statistics: Date().timeIntervalSince(t1))
        return DatasetBlockResult(summary: acc, skipped: skipped)
    }
}

/// Seconds spent in the forward passes and in the statistics, summed over workers.
public final class StageTiming: @unchecked Sendable {
    private let lock = NSLock()
    public private(set) var forward = 0.0, statistics = 0.0
    public init() {}
    func add(forward f: Double, statistics s: Double) { lock.withLock { forward += f; statistics += s } }
}
