// `hatscope faithfulness` on one image (a block of the dataset run is one image; its copies are
// the batches): the clean forward with every attention map recorded gives the class (top-1) and
// the attention sources' maps; one occluded copy per stage-3 token gives the occlusion map; for
// every source, the deletion and insertion steps go through the network as copies; the pointing
// game reads the image's sidecar boxes; images of the sanity set are mapped again by each
// randomised model of the cascade. Definitions: SaliencyMaps.swift, FaithfulnessMetrics.swift,
// WeightRandomization.swift.
import Foundation
import HatCore
import HatModel
import HatRecording
import HatViews

extension FaithfulnessSummary: DatasetSummary {}

public struct FaithfulnessSettings: Sendable {
    /// Curve steps K.
    public var steps: Int
    public var seed: UInt64
    /// Copies per forward pass.
    public var batch: Int
    /// Images of the sanity check, spread evenly over the list.
    public var sanityImages: Int
    /// The saliency sources scored (all by default; occlusion costs a forward pass per token).
    public var sources: [SaliencySource]
    public init(steps: Int, seed: UInt64, batch: Int, sanityImages: Int, sources: [SaliencySource] = SaliencySource.allCases) {
        self.steps = steps; self.seed = seed; self.batch = batch; self.sanityImages = sanityImages
        self.sources = SaliencySource.allCases.filter(sources.contains)
    }

    /// What changes the numbers (for the run's fingerprint).
    public var fingerprint: [String: String] {
        ["steps": String(steps), "seed": String(seed), "batch": String(batch), "sanityImages": String(sanityImages),
         "sources": sources.map(\.rawValue).joined(separator: ","), "stage": "3",
         "sanitySteps": WeightRandomization.steps.map(\.name).joined(separator: ",")]
    }

    /// Whether the image at `index` of a list of `count` is in the sanity set: the images at
    /// floor(i * count / S), i = 0..<S.
    public func inSanitySet(_ index: Int, count: Int) -> Bool {
        let s = min(sanityImages, count)
        guard s > 0 else { return false }
        // index = floor(i * count / s) for some i  <=>  ceil(index * s / count) * count / s == index
        let i = (index * s + count - 1) / count
        return i < s && i * count / s == index
    }
}

public final class FaithfulnessJob: DatasetJob, @unchecked Sendable {
    public typealias Summary = FaithfulnessSummary
    public typealias Row = FaithfulnessRow

    let model: ModelRun
    let settings: FaithfulnessSettings
    let labels: ObjectLabels?
    let listCount: Int
    let classNames: [String]
    private let lock = NSLock()
    private var randomizedModels: [Int: ModelRun] = [:]

    public init(model: ModelRun, settings: FaithfulnessSettings, labels: ObjectLabels?, listCount: Int, classNames: [String]) {
        self.model = model; self.settings = settings; self.labels = labels; self.listCount = listCount; self.classNames = classNames
    }

    static let recorderOptions = RecorderOptions(blocks: nil, maxAttentionBytes: 1 << 30)

    public func process(_ inputs: [DatasetInput]) throws -> DatasetBlockResult<Summary, Row> {
        var summary = FaithfulnessSummary(steps: settings.steps, sanitySteps: WeightRandomization.steps.map(\.name))
        var rows: [IndexedRow<Row>] = [], skipped: [SkippedInput] = []
        for x in inputs {
            do {
                let (row, curves, notApplicable) = try evaluate(x)
                summary.add(row, curves: curves)
                summary.notApplicable.merge(notApplicable) { a, _ in a }
                rows.append(IndexedRow(index: x.index, name: x.item.name, row: row))
            } catch let e as SaliencyError {
                throw PipelineError("\(e)")
            } catch {
                skipped.append(SkippedInput(index: x.index, name: x.item.name, reason: DatasetRunner.reason(error, path: x.item.path)))
            }
        }
        return DatasetBlockResult(summary: summary, rows: rows, skipped: skipped)
    }

    /// The model of randomisation step `step` (built once, shared by the workers).
    func randomized(_ step: Int) throws -> ModelRun {
        try lock.withLock {
            if let m = randomizedModels[step] { return m }
            let m = try model.randomized(step: step, seed: settings.seed)
            randomizedModels[step] = m
            return m
        }
    }

    /// Every source's map for `input` under `run`, with the clean recording's class `c`.
    func maps(_ run: ModelRun, _ input: NetworkInput, recording rec: Recording, classIndex c: Int, index: Int)
        throws -> (maps: [SaliencySource: SaliencyMap], notApplicable: [String: String]) {
        let (rows, cols) = try SaliencyMaps.grid(rec)
        var maps: [SaliencySource: SaliencyMap] = [:]
        var notApplicable: [String: String] = [:]
        for s in [SaliencySource.rollout, .carrier, .lastBlockStage3, .lastBlockStage4] where settings.sources.contains(s) {
            do { maps[s] = try SaliencyMaps.attention(s, rec) } catch let SaliencyError.notApplicable(_, why) { notApplicable[s.rawValue] = why }
        }
        if settings.sources.contains(.random) {
            maps[.random] = SaliencyMaps.random(rows: rows, cols: cols, seed: settings.seed, index: index)
        }
        guard settings.sources.contains(.occlusion) else { return (maps, notApplicable) }
        // Occlusion: one copy per token.
        let stride = rec.stages.first { $0.level == 2 }?.stride ?? 16
        let h = rec.inputHeight, w = rec.inputWidth
        let copies: [[Intervention]] = (0 ..< rows * cols).map { [.occludePixels(PixelMask(height: h, width: w, tokens: [$0], cols: cols, stride: stride))] }
        let clean = softmax(rec.logits)[c]
        let logits = try run.logits(copiesOf: input.tensor, interventions: copies, batch: settings.batch)
        maps[.occlusion] = SaliencyMap(rows: rows, cols: cols, values: logits.map { Float(clean - softmax($0)[c]) })
        return (maps, notApplicable)
    }

    func evaluate(_ x: DatasetInput) throws -> (FaithfulnessRow, [String: (deletion: [Double], insertion: [Double])], [String: String]) {
        let rec = try model.record(x.input, options: Self.recorderOptions)
        let probs = softmax(rec.logits)
        guard let c = probs.indices.max(by: { probs[$0] < probs[$1] || (probs[$0] == probs[$1] && $0 > $1) }) else {
            throw PipelineError("the model gave no logits")
        }
        let p = probs[c]
        let (maps, notApplicable) = try self.maps(model, x.input, recording: rec, classIndex: c, index: x.index)
        let (rows, cols) = try SaliencyMaps.grid(rec)
        let n = rows * cols, k = settings.steps
        let stride = rec.stages.first { $0.level == 2 }?.stride ?? 16
        let h = rec.inputHeight, w = rec.inputWidth
        let counts = FaithfulnessMetrics.counts(tokens: n, steps: k)
        let fractions = counts.map { Double($0) / Double(n) }
        // Copies: every token removed (the end of deletion, the start of insertion), then per
        // source the inner deletion and insertion steps.
        let sources = SaliencySource.allCases.filter { maps[$0] != nil }
        func removed(_ tokens: [Int]) -> [Intervention] {
            [.occludePixels(PixelMask(height: h, width: w, tokens: tokens, cols: cols, stride: stride))]
        }
        var copies: [[Intervention]] = [removed(Array(0 ..< n))]
        for s in sources {
            let order = FaithfulnessMetrics.order(maps[s]!.values)
            for step in 1 ..< k { copies.append(removed(Array(order[..<counts[step]]))) }
            for step in 1 ..< k { copies.append(removed(Array(order[counts[step]...]))) }
        }
        let logits = try model.logits(copiesOf: x.input.tensor, interventions: copies, batch: settings.batch)
        let y = logits.map { softmax($0)[c] }
        let none = y[0]
        let boxes = labels?.boxes(for: x.item.name, input: x.input)
        let sanity = settings.inSanitySet(x.index, count: listCount) ? try sanityCorrelations(x, trained: maps, classIndex: c) : nil
        var scores: [String: FaithfulnessScores] = [:]
        var curves: [String: (deletion: [Double], insertion: [Double])] = [:]
        for (i, s) in sources.enumerated() {
            let base = 1 + i * 2 * (k - 1)
            let deletion = [p] + Array(y[base ..< base + k - 1]) + [none]
            let insertion = [none] + Array(y[base + k - 1 ..< base + 2 * (k - 1)]) + [p]
            curves[s.rawValue] = (deletion, insertion)
            scores[s.rawValue] = FaithfulnessScores(
                deletionAUC: FaithfulnessMetrics.auc(x: fractions, y: deletion),
                insertionAUC: FaithfulnessMetrics.auc(x: fractions, y: insertion),
                pointingHit: boxes.map { FaithfulnessMetrics.pointingHit(maps[s]!, stride: stride, boxes: $0) },
                sanity: sanity?[s])
        }
        return (FaithfulnessRow(classIndex: c, className: c < classNames.count ? classNames[c] : nil, probability: p, sources: scores),
                curves, notApplicable)
    }

    /// Per source, the Spearman correlation of the trained map with the map of each randomised model.
    func sanityCorrelations(_ x: DatasetInput, trained: [SaliencySource: SaliencyMap], classIndex c: Int) throws -> [SaliencySource: [Double]] {
        var out: [SaliencySource: [Double]] = [:]
        for step in WeightRandomization.steps.indices {
            let run = try randomized(step)
            let rec = try run.record(x.input, options: Self.recorderOptions)
            let (maps, _) = try self.maps(run, x.input, recording: rec, classIndex: c, index: x.index)
            for (s, m) in trained {
                out[s, default: []].append(maps[s].map { FaithfulnessMetrics.spearman(m.values, $0.values) } ?? .nan)
            }
        }
        return out
    }
}
