// The explorer's one state struct, and the small summary of a Recording that key handling needs
// (how many stages, blocks, heads, windows; grid sizes). Drawing reads the state and never
// changes it; only `KeyHandling.handle` makes a new state.
import HatModel
import HatViews

/// Per-stage sizes the key handler steps through.
public struct StageGeometry: Equatable, Sendable {
    public var level: Int
    public var isConvolutional: Bool
    /// Input pixels per token side.
    public var stride: Int
    /// The grid the query moves on: padded token grid (transformer) or feature map (conv).
    public var gridRows: Int, gridCols: Int
    public var blockCount: Int
    /// Blocks whose attention was kept (all of them unless the recorder skipped some).
    public var recordedBlocks: [Int]
    public var heads: Int
    public var windowSize: Int, windowRows: Int, windowCols: Int
    public var carriersPerWindow: Int
    public var carrierCount: Int
    public var hasPropagation: Bool

    /// Views that apply to this stage, in Tab order.
    public var views: [ViewKind] {
        if isConvolutional { return [.energy] }
        var v: [ViewKind] = [.local]
        if carrierCount > 0 { v.append(.carrier) }
        if hasPropagation { v.append(.propagation) }
        v += [.reach, .rollout, .matrix]
        return v
    }
    public var windowCount: Int { windowRows * windowCols }
}

public struct ExplorerGeometry: Equatable, Sendable {
    /// Ordered by level (0 ... 3).
    public var stages: [StageGeometry]
    public var inputWidth: Int, inputHeight: Int

    public init(recording r: Recording) {
        var s: [StageGeometry] = []
        for c in r.convStages {
            s.append(StageGeometry(level: c.level, isConvolutional: true, stride: c.stride,
                                   gridRows: c.height, gridCols: c.width, blockCount: 0, recordedBlocks: [],
                                   heads: 0, windowSize: 0, windowRows: 0, windowCols: 0,
                                   carriersPerWindow: 0, carrierCount: 0, hasPropagation: false))
        }
        for t in r.stages {
            let kept = t.blocks.indices.filter { t.blocks[$0].window != nil }
            s.append(StageGeometry(level: t.level, isConvolutional: false, stride: t.stride,
                                   gridRows: t.paddedHeight, gridCols: t.paddedWidth,
                                   blockCount: t.blocks.count,
                                   recordedBlocks: kept.isEmpty ? Array(t.blocks.indices) : kept,
                                   heads: t.heads, windowSize: t.windowSize, windowRows: t.windowRows,
                                   windowCols: t.windowCols, carriersPerWindow: t.carriersPerWindow,
                                   carrierCount: t.carriers.count, hasPropagation: t.propagation != nil))
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

    public var stage: StageGeometry? { geometry.stages.first { $0.level == selection.level } }
    public var stageIndex: Int { geometry.stages.firstIndex { $0.level == selection.level } ?? 0 }
    public var colormap: String { colormaps[colormapIndex % colormaps.count] }

    /// The window (row-major) that holds the query, for transformer stages.
    public var window: Int? {
        guard let s = stage, !s.isConvolutional, s.windowSize > 0 else { return nil }
        return (selection.queryRow / s.windowSize) * s.windowCols + selection.queryCol / s.windowSize
    }
}
