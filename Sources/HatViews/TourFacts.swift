// Facts about a recording that several tour steps share: which stage has carrier tokens, the
// one-line stage shape, why a stage has no carriers, the layer-scale (gamma) sentence, the
// attention pair counts of a block, the query a step shows, the plain window-grid picture, and
// number formatting. Everything comes from the recording's configuration and geometry.
import Foundation
import HatRecording

struct TourFacts {
    let rec: Recording
    let classNames: [String]
    let inputs: TourInputs
    init(_ inputs: TourInputs) { rec = inputs.recording; classNames = inputs.classNames; self.inputs = inputs }

    var config: ModelConfig { rec.config }
    var name: String { rec.config.name }
    /// Transformer stages by level.
    var stages: [TransformerStageRecord] { rec.stages.sorted { $0.level < $1.level } }
    /// The first transformer stage (level 2), if recorded.
    var firstStage: TransformerStageRecord? { stages.first }
    /// The first stage with carrier tokens, if any.
    var hatStage: TransformerStageRecord? { stages.first(where: \.hasCarriers) }

    /// "stage 3: 14 x 14 tokens of 256 channels, 2 x 2 windows of 7 x 7"
    func stageShape(_ st: TransformerStageRecord) -> String { "stage \(st.number): " + st.gridSummary }

    /// Why `st` has no carrier tokens, in one sentence.
    func noCarrierReason(_ st: TransformerStageRecord) -> String { StageQuery.noCarrierReason(rec, st) }

    /// The facts that replace a carrier step when the model has none: every stage's shape and why.
    var noCarrierFacts: [String] {
        var out = stages.map { stageShape($0) + ", no carrier tokens" }
        out.append("hierarchical attention per stage (hat): " + config.hat.map { $0 ? "on" : "off" }.joined(separator: ", ")
                   + (config.hat.allSatisfy { !$0 } ? " (as in the 21k models)" : ""))
        return out
    }

    /// Why no stage has carriers: one reason per transformer stage.
    var noCarrierSentence: String {
        "Does not apply to \(name): " + stages.map(noCarrierReason).joined(separator: "; ") + "."
    }

    /// What gamma1 ... gamma4 are in this model (official HAT: gammas are 1 without layer scale).
    var gammaFact: String {
        guard config.layerScale != nil else {
            return "gamma1-gamma4 (layer scales) are 1 in \(name): it has no layer scale"
        }
        // The starting value is not in the weights (an inferred configuration only knows that
        // gammas exist), so only the official models' value is quoted.
        return "gamma1-gamma4 are learned per-channel layer scales: training starts them at a small constant "
            + "(layer_scale, 1e-5 in the official models); the checkpoint holds the trained values"
    }

    /// Attention pairs (query, key) per head in one block of `st`, and for global attention over
    /// its real tokens.
    func pairs(_ st: TransformerStageRecord) -> (carrier: Int, window: Int, global: Int) {
        let n = st.carrierCount, t = st.tokensPerWindow, g = st.height * st.width
        return (n * n, st.windowCount * t * t, g * g)
    }

    /// "16^2 = 256 carrier pairs + 4 windows x 53^2 = 11,236 window pairs = 11,492 per head,
    /// against 196^2 = 38,416 for global attention over all 196 tokens (30%)".
    func pairsFact(_ st: TransformerStageRecord) -> String {
        let p = pairs(st)
        let windows = "\(st.windowCount) window\(st.windowCount == 1 ? "" : "s") x \(st.tokensPerWindow)^2 = \(Self.count(p.window)) window pairs"
        let tokens = st.height * st.width
        let block = p.carrier + p.window
        var s = "attention pairs (query, key) per head in one block of stage \(st.number): "
        if st.hasCarriers {
            s += "\(st.carrierCount)^2 = \(Self.count(p.carrier)) carrier pairs + \(windows) = \(Self.count(block))"
        } else {
            s += windows
        }
        s += ", against \(tokens)^2 = \(Self.count(p.global)) for global attention over all \(tokens) tokens"
        s += " (\(Self.percentOf(block, p.global)))"
        return s
    }

    /// A selection at the middle of window 0's real tokens in the first recorded block of `st`.
    func querySelection(_ st: TransformerStageRecord?) -> Selection? {
        guard let st, let b = st.blocks.firstIndex(where: { $0.window != nil }) else { return nil }
        let half = st.windowSize / 2
        return Selection(level: st.level, block: b, head: nil, queryRow: min(half, max(st.height - 1, 0)),
                         queryCol: min(half, max(st.width - 1, 0)))
    }

    /// The window grid of `st` with window 0 emphasised and, with carriers, every pooling box and
    /// window 0's highlighted.
    func windowPicture(_ st: TransformerStageRecord?, title: String = "windows") -> ViewResult? {
        guard let st else { return nil }
        var o = Overlays()
        o.windowRects = st.windowRects
        o.selectedWindow = st.geometry.windowRect(0)
        if st.hasCarriers {
            o.carrierBoxes = st.carriers.map(\.box)
            o.highlightedBoxes = st.windowCarriers[0].map { st.carriers[$0].box }
        }
        return ViewResult(kind: .local, title: "\(title) | \(name) | stage \(st.number)", explanation: [],
                          field: nil, matrix: nil, overlays: o, rangeMin: 0, rangeMax: 1, scaleLabel: "", numbers: [])
    }

    func className(_ i: Int) -> String { i >= 0 && i < classNames.count ? classNames[i] : "class \(i)" }

    // MARK: - Formatting

    /// 38416 -> "38,416".
    static func count(_ n: Int) -> String {
        let digits = String(abs(n))
        var out = ""
        for (i, ch) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
            out.append(ch)
        }
        return (n < 0 ? "-" : "") + out
    }

    /// "1 block", "3 blocks".
    static func plural(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }

    /// A short number: 1e-05, 0.1, 2.
    static func number(_ v: Float) -> String { String(format: "%g", Double(v)) }

    /// a / b as a whole percentage ("30%"), one decimal below 10%.
    static func percentOf(_ a: Int, _ b: Int) -> String {
        guard b > 0 else { return "n/a" }
        let p = Double(a) / Double(b) * 100
        return p < 10 ? String(format: "%.1f%%", p) : String(format: "%.0f%%", p)
    }

    /// A probability: three decimals, or two significant digits when tiny.
    static func fmt(_ v: Float) -> String { ViewStats.fmt(v) }

    /// "7.5%"; small shares keep what they are: "0.03%", "<0.01%" (not "0.0%").
    static func pct(_ v: Float) -> String {
        let p = Double(v * 100)
        if p == 0 || abs(p) >= 0.1 { return String(format: "%.1f%%", p) }
        return abs(p) < 0.01 ? "<0.01%" : String(format: "%.2f%%", p)
    }

    static func px(_ v: Double) -> String { String(format: "%.1f", v) }
}
