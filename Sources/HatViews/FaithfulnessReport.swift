// faithfulness.csv and faithfulness.json: per image and per saliency source, then the averages,
// with every definition written into the JSON so the file alone says what each number means.
import Foundation
import HatRecording

public struct FaithfulnessReport {
    public struct ImageRow {
        public var index: Int
        public var name: String
        public var row: FaithfulnessRow
        public init(index: Int, name: String, row: FaithfulnessRow) { self.index = index; self.name = name; self.row = row }
    }

    public var model: String
    public var inputHeight: Int, inputWidth: Int
    /// Stage-3 tokens of the input (the curves' n).
    public var tokens: Int
    public var summary: FaithfulnessSummary
    public var rows: [ImageRow]
    public var skipped: [(name: String, reason: String)]
    /// Notes on what the numbers cover ("missing shards 2/4 ...").
    public var coverage: [String]
    public var seed: UInt64

    public init(model: String, inputHeight: Int, inputWidth: Int, tokens: Int, summary: FaithfulnessSummary, rows: [ImageRow],
                skipped: [(name: String, reason: String)], coverage: [String], seed: UInt64) {
        self.model = model; self.inputHeight = inputHeight; self.inputWidth = inputWidth; self.tokens = tokens
        self.summary = summary; self.rows = rows; self.skipped = skipped
        self.coverage = coverage; self.seed = seed
    }

    public static let definitions: [String: String] = [
        "class": "the clean image's top-1 class; every curve and occlusion map follows its probability",
        "removing a token": "its input pixels (16 x 16 for stage 3) set to 0 after normalisation, i.e. the dataset mean colour",
        "order": "tokens sorted by saliency, largest first; ties by row-major index",
        "deletion": "probability of the class after removing the first floor(s*n/K) tokens of the order, s = 0..K (Petsiuk et al. 2018)",
        "insertion": "probability of the class with every token removed except the first floor(s*n/K) of the order, s = 0..K",
        "auc": "area under the curve against the fraction of tokens removed or revealed, trapezoid rule; deletion lower = better, insertion higher = better",
        "pointing": "hit when the centre of the most salient token lies in an object box (sidecar labels.json) grown by 15 input pixels; rate = hits / images with boxes (Zhang et al. 2016)",
        "sanity": "Spearman rank correlation between the map of the trained model and the map after cascading randomisation (Adebayo et al. 2018): each step replaces the learned tensors of one more part, from the head down (head and final norm, then levels.3, levels.2, levels.1, levels.0, patch_embed), with seeded Gaussian values of the trained tensor's mean and standard deviation; BatchNorm statistics and position buffers are kept",
        "flagged": "a source whose mean correlation is still >= 0.5 when every part is randomised: its map does not depend on what the model learned",
        "averages": "means over images with their sample standard deviation; sums are exact, so shards, resumed runs and merges give the same numbers",
    ]

    static func num(_ v: Double?) -> String {
        guard let v else { return "" }
        return v.isFinite ? String(format: "%.6g", v) : "nan"
    }

    /// One row per image and source, then one row per source with the means.
    public func csv() -> String {
        let stepCols = summary.sanitySteps.map { "sanity_" + $0.replacingOccurrences(of: ".", with: "_") }
        var out = (["image", "index", "source", "class", "class_name", "probability", "deletion_auc", "insertion_auc", "pointing_hit"]
                   + stepCols).joined(separator: ",") + "\n"
        for r in rows {
            for s in SaliencySource.allCases {
                guard let sc = r.row.sources[s.rawValue] else { continue }
                var cells = [Self.csvField(r.name), String(r.index), s.rawValue, String(r.row.classIndex), Self.csvField(r.row.className ?? ""),
                             Self.num(r.row.probability), Self.num(sc.deletionAUC), Self.num(sc.insertionAUC),
                             sc.pointingHit.map { $0 ? "1" : "0" } ?? ""]
                cells += (0 ..< stepCols.count).map { i in sc.sanity.map { i < $0.count ? Self.num($0[i]) : "" } ?? "" }
                out += cells.joined(separator: ",") + "\n"
            }
        }
        for s in summary.sourceOrder {
            guard let sums = summary.sources[s.rawValue] else { continue }
            var cells = ["(mean of \(summary.images) images)", "", s.rawValue, "", "", Self.num(summary.cleanProbability.mean),
                         Self.num(sums.deletionAUC.mean), Self.num(sums.insertionAUC.mean),
                         sums.pointingTrials > 0 ? Self.num(Double(sums.pointingHits) / Double(sums.pointingTrials)) : ""]
            cells += sums.sanity.map { Self.num($0.mean) }
            out += cells.joined(separator: ",") + "\n"
        }
        return out
    }

    static func csvField(_ s: String) -> String {
        s.contains(",") || s.contains("\"") || s.contains("\n") ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    public func json() throws -> Data {
        struct Stat: Encodable { let mean: Double?; let sd: Double?; let count: Int }
        struct Step: Encodable { let step: String; let meanSpearman: Double?; let sd: Double?; let count: Int }
        struct Source: Encodable {
            let definition: String
            let deletionAUC: Stat, insertionAUC: Stat
            let deletionCurve: [Double?], insertionCurve: [Double?]
            let pointing: [String: Double]?
            let sanity: [Step]
            let flagged: Bool
        }
        struct Image: Encodable {
            let image: String, index: Int, classIndex: Int, className: String?, probability: Double
            let sources: [String: FaithfulnessScores]
        }
        struct Skip: Encodable { let input: String; let reason: String }
        struct Document: Encodable {
            let model: String, input: [Int], images: Int, tokens: Int, steps: Int, seed: UInt64
            let curveFractions: [Double]
            let sanitySteps: [String]
            let definitions: [String: String]
            let sources: [String: Source]
            let notApplicable: [String: String]
            let flagged: [String]
            let perImage: [Image]
            let skipped: [Skip]
            let coverage: [String]
        }
        func stat(_ m: ExactMoments) -> Stat { Stat(mean: m.mean, sd: m.standardDeviation, count: m.count) }
        let flagged = Set(summary.flagged)
        var sources: [String: Source] = [:]
        for s in summary.sourceOrder {
            guard let sums = summary.sources[s.rawValue] else { continue }
            sources[s.rawValue] = Source(
                definition: s.definition, deletionAUC: stat(sums.deletionAUC), insertionAUC: stat(sums.insertionAUC),
                deletionCurve: sums.deletionCurve.map(\.mean), insertionCurve: sums.insertionCurve.map(\.mean),
                pointing: sums.pointingTrials > 0 ? ["hits": Double(sums.pointingHits), "trials": Double(sums.pointingTrials),
                                                     "rate": Double(sums.pointingHits) / Double(sums.pointingTrials)] : nil,
                sanity: zip(summary.sanitySteps, sums.sanity).map { Step(step: $0, meanSpearman: $1.mean, sd: $1.standardDeviation, count: $1.count) },
                flagged: flagged.contains(s))
        }
        let doc = Document(
            model: model, input: [inputHeight, inputWidth], images: summary.images, tokens: tokens, steps: summary.steps, seed: seed,
            curveFractions: FaithfulnessCharts.fractions(summary, tokens: tokens), sanitySteps: summary.sanitySteps,
            definitions: Self.definitions, sources: sources, notApplicable: summary.notApplicable,
            flagged: summary.sourceOrder.filter { flagged.contains($0) }.map(\.rawValue),
            perImage: rows.map { Image(image: $0.name, index: $0.index, classIndex: $0.row.classIndex,
                                       className: $0.row.className,
                                       probability: $0.row.probability, sources: $0.row.sources) },
            skipped: skipped.map { Skip(input: $0.name, reason: $0.reason) }, coverage: coverage)
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        enc.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try enc.encode(doc)
    }

    /// A few lines for the terminal: per source the mean AUCs, pointing rate and last sanity
    /// correlation, then the flags.
    public func textSummary() -> [String] {
        var lines = ["\(model): \(summary.images) image(s), \(summary.steps) steps over \(tokens) stage-3 tokens; class = clean top-1 (mean probability \(FaithfulnessCharts.fmt(summary.cleanProbability.mean)))"]
        lines.append("source              deletion AUC  insertion AUC  pointing  sanity (all randomised)")
        for s in summary.sourceOrder {
            guard let sums = summary.sources[s.rawValue] else { continue }
            let pointing = sums.pointingTrials > 0 ? "\(sums.pointingHits)/\(sums.pointingTrials)" : "n/a"
            let last = sums.sanity.last.flatMap(\.mean)
            lines.append(s.rawValue.padding(toLength: 20, withPad: " ", startingAt: 0)
                         + FaithfulnessCharts.fmt(sums.deletionAUC.mean).padding(toLength: 14, withPad: " ", startingAt: 0)
                         + FaithfulnessCharts.fmt(sums.insertionAUC.mean).padding(toLength: 15, withPad: " ", startingAt: 0)
                         + pointing.padding(toLength: 10, withPad: " ", startingAt: 0)
                         + (last.map { String(format: "%.3f", $0) } ?? "n/a") + (summary.flagged.contains(s) ? "  FLAGGED: map does not change" : ""))
        }
        for (s, why) in summary.notApplicable.sorted(by: { $0.key < $1.key }) { lines.append("\(s): not applicable: \(why)") }
        return lines
    }
}
