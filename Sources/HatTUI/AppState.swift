// The explorer's one state struct, and the small summary of a Recording that key handling needs
// (its stages' geometry, grid sizes and recorded blocks). Drawing reads the state and never
// changes it; only `KeyHandling.handle` makes a new state.
import HatRecording
import HatViews

/// One stage as the explorer steps through it: its grid, and for a transformer stage its geometry
/// (HatRecording's StageGeometry, the one description of windows and carriers) and recorded blocks.
public struct ExplorerStage: Equatable, Sendable {
    public var level: Int
    /// The transformer stage's geometry; nil for a convolutional stage.
    public var attention: StageGeometry?
    /// Input pixels per token side.
    public var stride: Int
    /// The grid the query moves on: padded token grid (transformer) or feature map (conv).
    public var gridRows: Int, gridCols: Int
    /// Blocks whose attention was kept (all of them unless the recorder skipped some).
    public var recordedBlocks: [Int]
    public var hasPropagation: Bool

    public var isConvolutional: Bool { attention == nil }
    /// The real token grid (what an occlusion box may cover): the unpadded grid of a transformer
    /// stage, the feature map of a convolutional one.
    public var tokenRows: Int { attention?.height ?? gridRows }
    public var tokenCols: Int { attention?.width ?? gridCols }
    /// Attention heads; 0 in a convolutional stage.
    public var heads: Int { attention?.heads ?? 0 }

    /// Views that apply to this stage, in Tab order.
    public var views: [ViewKind] {
        guard let g = attention else { return [.energy] }
        var v: [ViewKind] = [.local]
        if g.hasCarriers { v.append(.carrier) }
        if hasPropagation { v.append(.propagation) }
        v += [.reach, .rollout, .matrix]
        return v
    }
}

public struct ExplorerGeometry: Equatable, Sendable {
    /// Ordered by level (0 ... 3).
    public var stages: [ExplorerStage]
    public var inputWidth: Int, inputHeight: Int

    public init(recording r: Recording) {
        var s: [ExplorerStage] = []
        for c in r.convStages {
            s.append(ExplorerStage(level: c.level, attention: nil, stride: c.stride, gridRows: c.height,
                                   gridCols: c.width, recordedBlocks: [], hasPropagation: false))
        }
        for t in r.stages {
            let kept = t.blocks.indices.filter { t.blocks[$0].window != nil }
            s.append(ExplorerStage(level: t.level, attention: t.geometry, stride: t.stride,
                                   gridRows: t.paddedHeight, gridCols: t.paddedWidth,
                                   recordedBlocks: kept.isEmpty ? Array(t.blocks.indices) : kept,
                                   hasPropagation: t.propagation != nil))
        }
        stages = s.sorted { $0.level < $1.level }
        inputWidth = r.inputWidth; inputHeight = r.inputHeight
    }
}

/// Everything the explorer shows that can change while it runs.
public struct AppState: Equatable, Sendable {
    public let geometry: ExplorerGeometry
    public var selection: Selection
    public var view: ViewKind
    /// The view to come back to when leaving a convolutional stage.
    public var lastTransformerView: ViewKind
    /// Names of the colour maps `c` cycles through, and the current one.
    public var colormaps: [String]
    public var colormapIndex: Int
    public var showHelp: Bool
    /// The help overlay's first key line shown (↓ / ↑ page through it when it does not fit).
    public var helpScroll = 0
    /// One line for the status bar (export paths, hints), and whether it reports a problem.
    public var status: String
    public var statusIsError: Bool
    public var screenWidth: Int, screenHeight: Int
    /// Where the last frame put the picture and the matrix beside it (set by the app after
    /// drawing; mouse clicks use them).
    public var picture: PictureMap?
    public var sideMatrix: PictureMap?
    /// How the terminal shows pictures and colours, for the side panel ("sixel, 256 colour").
    public var display: String = ""

    // Live interventions (LiveEdits.swift; the model runs again in the background).
    /// Whether the explorer can run the model again (nil: it can, else why not, for the status line).
    public var liveUnavailable: String? = "interventions need the model, and this explorer has none"
    /// What the model is to run with now, and the earlier states `u` goes back to.
    public var edits = LiveEdits()
    public var undoStack: [LiveEdits] = []
    /// Occlusion painting: arrows and the mouse move the brush (the query token), Space toggles.
    public var painting = false
    public var brush: Brush = .token
    /// During a mouse drag: true while it occludes, false while it clears (set by the press).
    public var strokeOccludes: Bool? = nil
    /// Whether the stroke under way already made its undo step (a press painted): its drags join
    /// that change, so one `u` takes the whole stroke back. Any other key ends it.
    public var strokeHasUndoStep = false
    /// The difference view: the current view after minus before the interventions.
    public var showDiff = false

    public init(geometry: ExplorerGeometry, colormaps: [String], colormap: String? = nil,
                screenWidth: Int = 120, screenHeight: Int = 40) {
        self.geometry = geometry
        // Start where hierarchical attention is: the first transformer stage, first kept block,
        // head 0, the query in the middle of the image.
        let first = geometry.stages.first { !$0.isConvolutional } ?? geometry.stages.first
        var sel = Selection(level: first?.level ?? 2, block: first?.recordedBlocks.first ?? 0,
                            head: (first?.heads ?? 0) > 0 ? 0 : nil)
        if let f = first {
            let rows = min(f.gridRows, max(1, (geometry.inputHeight + f.stride - 1) / f.stride))
            let cols = min(f.gridCols, max(1, (geometry.inputWidth + f.stride - 1) / f.stride))
            sel.queryRow = max(0, rows / 2); sel.queryCol = max(0, cols / 2)
        }
        selection = sel
        view = first?.views.first ?? .energy
        lastTransformerView = .local
        let maps = colormaps.isEmpty ? ["viridis"] : colormaps
        self.colormaps = maps
        colormapIndex = colormap.flatMap { maps.firstIndex(of: $0) } ?? 0
        showHelp = false
        status = ""
        statusIsError = false
        self.screenWidth = screenWidth; self.screenHeight = screenHeight
        picture = nil
        sideMatrix = nil
    }

    public var stage: ExplorerStage? { geometry.stages.first { $0.level == selection.level } }
    public var stageIndex: Int { geometry.stages.firstIndex { $0.level == selection.level } ?? 0 }
    public var colormap: String { colormaps[colormapIndex % colormaps.count] }

    /// The window (row-major) that holds the query, for transformer stages.
    public var window: Int? { stage?.attention?.window(row: selection.queryRow, col: selection.queryCol) }
}
