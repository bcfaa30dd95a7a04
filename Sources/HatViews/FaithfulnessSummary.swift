// The numbers of `hatscope faithfulness`: one row per image (its class, and per saliency source
// the deletion and insertion AUCs, the pointing-game hit, the sanity check's rank correlations),
// and the sufficient statistics over images (exact sums and sums of squares of every AUC, every
// curve point and every correlation, hit and trial counts), which shards merge exactly
// (ExactSum), so sharded, resumed and single runs report the same bits.
import Foundation
import HatRecording

/// A sum and a sum of squares, exact, with their count.
public struct ExactMoments: Sendable, Equatable, Codable {
    public var sum = ExactSum()
    public var sumSquares = ExactSum()
    public var count = 0
    public init() {}

    public mutating func add(_ x: Double) {
        guard !x.isNaN else { return }
        sum += x; sumSquares += x * x; count += 1
    }

    public mutating func merge(_ o: ExactMoments) throws {
        count = try addCounts(count, o.count)
        sum += o.sum; sumSquares += o.sumSquares
    }

    public var mean: Double? { count > 0 ? sum.value / Double(count) : nil }
    /// Sample standard deviation; nil below two values.
    public var standardDeviation: Double? {
        guard count > 1 else { return nil }
        let n = Double(count), s = sum.value
        return (max(0, sumSquares.value - s * s / n) / (n - 1)).squareRoot()
    }
}

/// One image's results for one saliency source.
public struct FaithfulnessScores: Sendable, Equatable, Codable {
    public var deletionAUC: Double
    public var insertionAUC: Double
    /// nil when the image has no boxes.
    public var pointingHit: Bool?
    /// Spearman correlation of the map with the trained model's after each randomisation step;
    /// nil when the image is not in the sanity check (NaN: a constant map).
    public var sanity: [Double]?
    public init(deletionAUC: Double, insertionAUC: Double, pointingHit: Bool?, sanity: [Double]?) {
        self.deletionAUC = deletionAUC; self.insertionAUC = insertionAUC; self.pointingHit = pointingHit; self.sanity = sanity
    }
}

/// One image's row.
public struct FaithfulnessRow: Sendable, Equatable, Codable {
    /// The clean image's top-1 class, its name and its probability.
    public var classIndex: Int
    public var className: String?
    public var probability: Double
    /// Keyed by SaliencySource raw value; sources that do not apply are absent.
    public var sources: [String: FaithfulnessScores]
    public init(classIndex: Int, className: String?, probability: Double, sources: [String: FaithfulnessScores]) {
        self.classIndex = classIndex; self.className = className; self.probability = probability; self.sources = sources
    }
}

public struct FaithfulnessSummary: Sendable, Equatable, Codable {
    /// Sums of one source over images.
    public struct SourceSums: Sendable, Equatable, Codable {
        public var deletionAUC = ExactMoments(), insertionAUC = ExactMoments()
        /// Per curve point s = 0...steps: sums of the class probability.
        public var deletionCurve: [ExactMoments], insertionCurve: [ExactMoments]
        public var pointingHits = 0, pointingTrials = 0
        /// Per randomisation step: the Spearman correlations (NaN ones left out).
        public var sanity: [ExactMoments]
        init(points: Int, sanitySteps: Int) {
            deletionCurve = Array(repeating: ExactMoments(), count: points)
            insertionCurve = Array(repeating: ExactMoments(), count: points)
            sanity = Array(repeating: ExactMoments(), count: sanitySteps)
        }
        mutating func merge(_ o: SourceSums) throws {
            guard o.deletionCurve.count == deletionCurve.count, o.insertionCurve.count == insertionCurve.count,
                  o.sanity.count == sanity.count else {
                throw StatisticsError.invalid("faithfulness curves or sanity steps of different lengths")
            }
            try deletionAUC.merge(o.deletionAUC); try insertionAUC.merge(o.insertionAUC)
            for i in deletionCurve.indices { try deletionCurve[i].merge(o.deletionCurve[i]); try insertionCurve[i].merge(o.insertionCurve[i]) }
            pointingHits = try addCounts(pointingHits, o.pointingHits); pointingTrials = try addCounts(pointingTrials, o.pointingTrials)
            for i in sanity.indices { try sanity[i].merge(o.sanity[i]) }
        }

        /// Whether the sums fit `steps` and `sanitySteps` and the counts can be true.
        func fits(points: Int, sanitySteps: Int) -> Bool {
            let moments = [deletionAUC, insertionAUC] + deletionCurve + insertionCurve + sanity
            return deletionCurve.count == points && insertionCurve.count == points && sanity.count == sanitySteps
                && moments.allSatisfy { $0.count >= 0 } && pointingTrials >= 0 && (0 ... pointingTrials).contains(pointingHits)
        }
    }

    /// Curve steps K (K + 1 points); 0 before the first image.
    public var steps = 0
    /// The randomisation steps of the sanity check, in order ("head", "levels.3", ...).
    public var sanitySteps: [String] = []
    public var sources: [String: SourceSums] = [:]
    public var images = 0
    public var cleanProbability = ExactMoments()
    /// Sources that did not apply to the model, with the reason.
    public var notApplicable: [String: String] = [:]

    public init() {}
    public init(steps: Int, sanitySteps: [String]) { self.steps = steps; self.sanitySteps = sanitySteps }

    /// Adds one image: its row and, per source, its deletion and insertion curves (steps + 1 points).
    public mutating func add(_ row: FaithfulnessRow, curves: [String: (deletion: [Double], insertion: [Double])]) {
        images += 1
        cleanProbability.add(row.probability)
        for (name, scores) in row.sources {
            var s = sources[name] ?? SourceSums(points: steps + 1, sanitySteps: sanitySteps.count)
            s.deletionAUC.add(scores.deletionAUC)
            s.insertionAUC.add(scores.insertionAUC)
            if let c = curves[name] {
                for i in 0 ..< min(c.deletion.count, s.deletionCurve.count) { s.deletionCurve[i].add(c.deletion[i]) }
                for i in 0 ..< min(c.insertion.count, s.insertionCurve.count) { s.insertionCurve[i].add(c.insertion[i]) }
            }
            if let hit = scores.pointingHit { s.pointingTrials += 1; if hit { s.pointingHits += 1 } }
            if let r = scores.sanity { for i in 0 ..< min(r.count, s.sanity.count) { s.sanity[i].add(r[i]) } }
            sources[name] = s
        }
    }

    /// Adds another summary (same steps required); exact.
    public mutating func merge(_ other: FaithfulnessSummary) throws {
        // A summary read from a file is checked before it is used (the report indexes its curves).
        guard other.steps >= 0, other.images >= 0, other.cleanProbability.count >= 0,
              other.sources.values.allSatisfy({ $0.fits(points: other.steps + 1, sanitySteps: other.sanitySteps.count) }) else {
            throw StatisticsError.invalid("faithfulness sums whose curves, sanity steps or counts do not fit their steps")
        }
        if other.images == 0 && other.sources.isEmpty { notApplicable.merge(other.notApplicable) { a, _ in a }; return }
        if images == 0 && sources.isEmpty && steps == 0 {
            let na = notApplicable
            self = other
            notApplicable.merge(na) { a, _ in a }
            return
        }
        guard steps == other.steps, sanitySteps == other.sanitySteps else {
            throw StatisticsError.mismatch("faithfulness with \(steps) steps and sanity steps \(sanitySteps) vs \(other.steps) and \(other.sanitySteps)")
        }
        var merged = self
        merged.images = try addCounts(images, other.images)
        try merged.cleanProbability.merge(other.cleanProbability)
        for (name, s) in other.sources {
            if var mine = merged.sources[name] { try mine.merge(s); merged.sources[name] = mine } else { merged.sources[name] = s }
        }
        self = merged
        notApplicable.merge(other.notApplicable) { a, _ in a }
    }

    /// The sources present, in SaliencySource order.
    public var sourceOrder: [SaliencySource] { SaliencySource.allCases.filter { sources[$0.rawValue] != nil } }

    /// Correlation at or above which a map "did not change" under randomisation.
    public static let unchangedCorrelation = 0.5

    /// Sources whose mean Spearman correlation with the trained map is still at least
    /// `unchangedCorrelation` after the last randomisation step (everything randomised): their
    /// maps do not depend on what the model learned.
    public var flagged: [SaliencySource] {
        sourceOrder.filter { s in
            guard let last = sources[s.rawValue]?.sanity.last, let m = last.mean else { return false }
            return m >= Self.unchangedCorrelation
        }
    }
}
