// What a person can do in the explorer, named by meaning rather than by key. The terminal's key
// table (HatTUI `KeyBindings`) binds keys to these actions and is the one source of the footer,
// the help overlay and every key the tour names: the tour (built here, in the views layer) says
// which actions show a thing, and the terminal spells them as keys.

/// One thing the explorer can do.
public enum ExplorerAction: String, CaseIterable, Sendable, Equatable {
    case queryLeft, queryRight, queryUp, queryDown
    case nextView, previousView
    case nextStage, previousStage
    case nextBlock, previousBlock
    case nextHead, previousHead, meanOfHeads
    case nextWindow, previousWindow
    /// Carrier view: the carrier token whose attention is shown; other views: the query becomes
    /// one of the window's carrier slots.
    case nextCarrier, previousCarrier
    case nextColormap
    case exportView, exportMontage
    /// The guided tour from its first step, and straight to its last (the per-head statistics).
    case tour, tourStatistics
    /// Pick the query token (or a matrix row) under the mouse; while painting occlusions, also
    /// toggle the tokens under the brush there (a drag paints).
    case pick
    /// Live interventions (the model runs again in the background): occlusion painting on / off,
    /// occlude or clear the tokens under the brush, brush size, switch off the current head in
    /// the current block, the next carrier cut of the current stage, undo the last change, remove
    /// every intervention, and the difference view (after minus before) on / off.
    case paintOcclusion, toggleOcclusion, smallerBrush, largerBrush
    case ablateHead, cycleCarrierCut, undo, resetInterventions, differenceView
    case help, quit
}

/// How a tour step points to the explorer.
public enum ExplorerHint: Equatable, Sendable {
    /// Go to this stage (official level) and view, starting from the explorer's first screen (the
    /// terminal works out which keys get there and how often to press them), and what it shows.
    case reach(level: Int, view: ViewKind, String = "")
    /// These actions' keys, and what they do for the thing the step shows.
    case use([ExplorerAction], String)
    /// A pointer without keys ("the Prediction panel on the right lists the top 5").
    case note(String)
}
