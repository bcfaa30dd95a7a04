// Per-head summary numbers of hierarchical attention: for every transformer block and head, how
// far (in input pixels) its queries look, how spread out its attention is, and how much of it goes
// to carrier tokens. Computed from `Recording`s only, summed over any number of them.
//
// Definitions (the same words appear in stats.json and the README):
// - Window attention. Queries: the REAL window tokens of every window, i.e. grid tokens inside the
//   unpadded r_h x r_w map. Excluded: the carrier-token rows of the window attention (carriers are
//   queries there too, but they are summarised by the carrier series) and the zero-padded tokens
//   of any-res stages (they have no image under them). Keys: all T = c*c + w*w keys of the query's
//   window, padded tokens included, because the official code attends to them (there is no mask).
// - Carrier attention: queries and keys are all N carrier tokens of the stage (global attention).
// - Key and query positions: a grid token sits at the centre of its stride x stride pixel cell; a
//   carrier token at the centre of the average-pooling box its content was pooled from
//   (`CarrierGeometry.box`; see `carrierOrigins` for the non-square any-res case, where the
//   official code moves carrier content between grid positions from block to block).
// - mean distance = average over queries of sum_k p(k) * |centre(query) - centre(k)| (Euclidean,
//   input pixels) — the "mean attention distance" of the ViT paper, window-aware.
// - normalized entropy = average over queries of (-sum_k p(k) ln p(k)) / ln(#keys): 0 = one key
//   takes everything, 1 = uniform over every key (#keys = T or N; 0 when there is one key).
// - carrier share = average over queries of sum over the window's c*c carrier keys of p(k);
//   only for window attention of stages with carriers.
// - padding share = the same over padded keys; only for stages that are padded.
// - Several recordings: sums and query counts are pooled, so every query of every image weighs
//   the same (for one model at one resolution that is the mean of the per-image means).
// - Spread: the sample standard deviation over the pooled queries, and over images of each
//   image's own mean (how much a head's number varies from image to image).
// - Sums are exact (ExactSum): each image's numbers are computed on their own and summed without
//   rounding, so the result is the same bits in whatever order, on whatever threads, shards or
//   resumed runs the images were summed (HeadStatisticsAccumulator.swift).
import Foundation
import HatRecording

/// The numbers of one head of one block.
public struct HeadStat: Sendable, Equatable, Codable {
    public var attention: AttentionKind
    /// Official level (2 or 3); the stage people call "stage level + 1".
    public var level: Int
    /// Block index inside the stage.
    public var block: Int
    /// Transformer block index counted across the transformer stages in order (stage 3's block 0
    /// is depth 0): the x axis of the distance scatter.
    public var depth: Int
    public var head: Int
    public var meanDistance: Double
    public var normalizedEntropy: Double
    /// nil for carrier attention and for stages without carrier tokens.
    public var carrierShare: Double?
    /// nil when the stage is not padded.
    public var paddingShare: Double?
    /// Query rows averaged (over all recordings).
    public var queries: Int
    /// Keys per row (T or N).
    public var keys: Int
    /// Recordings that contributed.
    public var images: Int
    /// Sample standard deviations of the numbers above (same units).
    public var distanceSpread: Spread
    public var entropySpread: Spread
    /// nil where carrierShare is nil.
    public var carrierSpread: Spread?
}

/// How much a head's number varies: sample standard deviations over the pooled queries and over
/// the images' own means (nil with fewer than two images).
public struct Spread: Sendable, Equatable, Codable {
    public var overQueries: Double
    public var overImages: Double?
    public init(overQueries: Double, overImages: Double?) { self.overQueries = overQueries; self.overImages = overImages }
}

/// One transformer stage as the statistics saw it.
public struct StatsStage: Sendable, Equatable, Codable {
    public var level: Int
    public var blocks: Int
    public var heads: Int
    /// Depth of the stage's block 0.
    public var firstDepth: Int
    public var hasCarriers: Bool
    public var padded: Bool
    /// e.g. "14 x 14 tokens, 2 x 2 windows of 7 x 7, 16 carrier tokens"
    public var summary: String
}

/// a + b for counts that may come from a file (a hand-edited part can hold any Int): an overflow
/// is an error, never a trap.
func addCounts(_ a: Int, _ b: Int) throws -> Int {
    let (s, overflow) = a.addingReportingOverflow(b)
    if overflow { throw StatisticsError.invalid("counts too large to add (\(a) + \(b))") }
    return s
}

/// Per-head statistics of one or more recordings of the same model at the same input size.
public struct HeadStatistics: Sendable, Equatable, Codable {
    public var model: String
    public var inputHeight: Int, inputWidth: Int
    public var recordings: Int
    public var stages: [StatsStage]
    /// Window attention, ordered by (level, block, head).
    public var window: [HeadStat]
    /// Carrier attention, ordered by (level, block, head); empty without carrier tokens.
    public var carrier: [HeadStat]
    /// Blocks whose maps were not in the recordings ("stage 3 block 2: window attention not recorded").
    public var missing: [String]
    /// Inputs that could not be used, with the reason (set by the caller that ran them).
    public var skipped: [Skipped] = []
    /// What the numbers cover when it is not the whole input list ("missing shards 3/8 ...").
    public var coverage: [String] = []

    public struct Skipped: Sendable, Equatable, Codable {
        public var input: String
        public var reason: String
        public init(input: String, reason: String) { self.input = input; self.reason = reason }
    }

    /// Statistics of a single recording.
    public static func compute(_ recording: Recording) -> HeadStatistics {
        var acc = HeadStatisticsAccumulator()
        // A single recording always matches the empty accumulator's layout.
        try? acc.add(recording)
        return acc.statistics ?? HeadStatistics(model: recording.config.name, inputHeight: recording.inputHeight,
                                                inputWidth: recording.inputWidth, recordings: 0, stages: [],
                                                window: [], carrier: [], missing: [])
    }

    /// The series `kind`.
    public func series(_ kind: AttentionKind) -> [HeadStat] { kind == .window ? window : carrier }

    /// Total transformer blocks (the scatter's x range).
    public var depthCount: Int { stages.reduce(0) { $0 + $1.blocks } }
    /// Largest head count of any stage (the heatmap's width).
    public var maxHeads: Int { stages.map(\.heads).max() ?? 0 }
}

/// Errors of the statistics.
public enum StatisticsError: Error, Equatable, CustomStringConvertible {
    /// A recording whose model or layout differs from the ones already summed.
    case mismatch(String)
    /// Nothing was added.
    case empty
    /// Sums that cannot be combined: counts that would overflow, curves of another length.
    case invalid(String)
    public var description: String {
        switch self {
        case .mismatch(let s): return "statistics: recordings do not match: \(s)"
        case .empty: return "statistics: no recordings were added"
        case .invalid(let s): return "statistics: \(s)"
        }
    }
}
