// The guided tour's content: one step per part of the forward pass, each built from the Recording
// and the model's configuration alone, so every shape and number on a screen is the loaded
// model's and no fixed sentence can contradict it. A step carries facts (one short line each,
// every number defined where it is shown), a few plain sentences, the explorer actions that show
// the same thing (the terminal spells them as keys from its key table) and the picture to
// highlight: a ViewResult like every view's, so the tour draws what the explorer and the PNG
// figures draw. Parts the model does not have stay in the list and say why.
//
// Adding a step: a `TourStepKind` case (its position in `allCases` is its place in the tour), a
// builder (`static func name(_ t: TourFacts) -> TourStep` in a Tour*Steps file) and its line in
// `TourGuide.build`. A step that needs another forward pass (say, "does the model need the
// carriers?", a carrier cut) takes a runner closure from `TourInputs`, which the executable fills:
// neither this module nor the terminal imports the engine, and steps are built only when shown,
// so an expensive one costs nothing until someone gets there.
import HatRecording

/// The parts of FasterViT the tour walks through, in forward order.
public enum TourStepKind: String, CaseIterable, Sendable {
    case patchEmbedding, convStages, carrierInit, carrierAttention, windowAttention, hatBlock, crossingWindows,
         propagation, lastStage, prediction, carrierCut, statistics
}

/// One screen of the tour.
public struct TourStep: Sendable {
    public var kind: TourStepKind
    /// Short heading ("Carrier tokens: one summary per region").
    public var title: String
    /// False when this part does not exist in the loaded model (the text then says why).
    public var applies: Bool
    /// Shapes and numbers of this run, one short line each; numbers say what they are.
    public var facts: [String]
    /// The plain explanation.
    public var sentences: [String]
    /// Where to see it in the explorer.
    public var explorer: [ExplorerHint]
    /// What the picture highlights; nil = the input image alone.
    public var picture: ViewResult?
    /// Per-head statistics drawn instead of the picture (the statistics step).
    public var statistics: HeadStatistics?

    public init(kind: TourStepKind, title: String, applies: Bool = true, facts: [String], sentences: [String],
                explorer: [ExplorerHint] = [], picture: ViewResult? = nil, statistics: HeadStatistics? = nil) {
        self.kind = kind; self.title = title; self.applies = applies; self.facts = facts
        self.sentences = sentences; self.explorer = explorer; self.picture = picture; self.statistics = statistics
    }

    /// Title, facts and sentences as one text (tests, `hatscope-dev frame` checks).
    public var text: String { ([title] + facts + sentences).joined(separator: "\n") }
}

/// What the tour is built from.
public struct TourInputs: Sendable {
    public var recording: Recording
    /// Names of the logits (empty = "class N").
    public var classNames: [String]
    /// Runs the loaded model again on the same input with a list of interventions (the executable
    /// fills it; nil for a recording file, which has no model).
    public var runner: RecordingRunner?
    /// The interventions `recording` was run with (a step that adds one keeps them).
    public var interventions: [Intervention]
    /// The embedded demo model: steps then cite its measured held-out accuracies (DemoFacts).
    public var isDemo: Bool
    public init(recording: Recording, classNames: [String] = [], runner: RecordingRunner? = nil,
                interventions: [Intervention] = [], isDemo: Bool = false) {
        self.recording = recording; self.classNames = classNames; self.runner = runner
        self.interventions = interventions; self.isDemo = isDemo
    }
}

/// The tour of one recording: its steps in order, each built the first time it is asked for.
public final class TourGuide: @unchecked Sendable {
    public let inputs: TourInputs
    public let kinds: [TourStepKind]
    private let facts: TourFacts
    private var built: [Int: TourStep] = [:]

    public init(_ inputs: TourInputs) {
        self.inputs = inputs
        facts = TourFacts(inputs)
        kinds = TourStepKind.allCases
    }

    public convenience init(recording: Recording, classNames: [String] = []) {
        self.init(TourInputs(recording: recording, classNames: classNames))
    }

    public var count: Int { kinds.count }

    /// Step `i` (clamped to the list). Building is a pure function of the inputs; the result is
    /// kept so moving back and forth does not recompute pictures and statistics.
    public func step(_ i: Int) -> TourStep {
        let i = max(0, min(i, kinds.count - 1))
        if let s = built[i] { return s }
        let s = Self.build(kinds[i], facts)
        built[i] = s
        return s
    }

    /// Every step, in order.
    public var steps: [TourStep] { kinds.indices.map(step) }

    static func build(_ kind: TourStepKind, _ t: TourFacts) -> TourStep {
        switch kind {
        case .patchEmbedding: return TourSteps.patchEmbedding(t)
        case .convStages: return TourSteps.convStages(t)
        case .carrierInit: return TourSteps.carrierInit(t)
        case .carrierAttention: return TourSteps.carrierAttention(t)
        case .windowAttention: return TourSteps.windowAttention(t)
        case .hatBlock: return TourSteps.hatBlock(t)
        case .crossingWindows: return TourSteps.crossingWindows(t)
        case .propagation: return TourSteps.propagation(t)
        case .lastStage: return TourSteps.lastStage(t)
        case .prediction: return TourSteps.prediction(t)
        case .carrierCut: return TourSteps.carrierCut(t)
        case .statistics: return TourSteps.statistics(t)
        }
    }
}

/// The step builders (one file per group of steps), namespaced.
enum TourSteps {}
