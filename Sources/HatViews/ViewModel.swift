// The contract between the views and their two renderers (PNG figures and the terminal explorer):
// a view is computed once from a `Recording` and a `Selection`, and both renderers draw the same
// `ViewResult`. Views never touch the model; they read only the recording.
import HatRecording

/// The views hatscope offers. `energy` is for the convolutional stages (levels 0 and 1).
public enum ViewKind: String, CaseIterable, Sendable, Codable {
    case local, carrier, propagation, reach, rollout, matrix, energy
}

/// What the person has selected. Levels are the official `levels.I` indices (0...3): 0 and 1 are
/// convolutional, 2 and 3 transformer stages.
public struct Selection: Sendable, Equatable, Codable {
    public var level: Int
    public var block: Int
    /// nil = mean over heads.
    public var head: Int?
    /// Query token on the stage's padded token grid; its window follows from it.
    public var queryRow: Int
    public var queryCol: Int
    /// When set, the query is this carrier token of the query's window (0 ..< c*c, the window's
    /// carrier slots in attention order) instead of the grid token.
    public var carrierSlot: Int?
    /// Carrier token (grid order) whose global attention the carrier view shows.
    public var carrier: Int

    public init(level: Int = 2, block: Int = 0, head: Int? = 0, queryRow: Int = 0, queryCol: Int = 0,
                carrierSlot: Int? = nil, carrier: Int = 0) {
        self.level = level; self.block = block; self.head = head; self.queryRow = queryRow
        self.queryCol = queryCol; self.carrierSlot = carrierSlot; self.carrier = carrier
    }
}

/// Values over the input image on a regular grid of `cellSize` x `cellSize` input-pixel cells,
/// row-major [rows, cols]; the grid may reach past the input (padded stages). NaN = no value
/// (draw the image through).
public struct Field: Sendable, Equatable {
    public var rows: Int, cols: Int, cellSize: Int
    public var values: [Float]
    public init(rows: Int, cols: Int, cellSize: Int, values: [Float]) {
        precondition(values.count == rows * cols, "field: size mismatch")
        self.rows = rows; self.cols = cols; self.cellSize = cellSize; self.values = values
    }
}

/// A matrix drawn as is (not over the image), row-major [rows, cols]. The first `markedRows` rows
/// and `markedCols` columns are carrier tokens and are drawn set apart.
public struct MatrixField: Sendable, Equatable {
    public var rows: Int, cols: Int
    public var values: [Float]
    public var markedRows: Int, markedCols: Int
    /// Optional short labels per row / column (carrier grid positions such as "r1c2").
    public var rowLabels: [String], colLabels: [String]
    /// The row of the current query, highlighted, if any.
    public var highlightRow: Int?
    public init(rows: Int, cols: Int, values: [Float], markedRows: Int = 0, markedCols: Int = 0,
                rowLabels: [String] = [], colLabels: [String] = [], highlightRow: Int? = nil) {
        precondition(values.count == rows * cols, "matrix: size mismatch")
        self.rows = rows; self.cols = cols; self.values = values; self.markedRows = markedRows
        self.markedCols = markedCols; self.rowLabels = rowLabels; self.colLabels = colLabels
        self.highlightRow = highlightRow
    }
}

/// Lines and boxes drawn over the image, in input pixels.
public struct Overlays: Sendable, Equatable {
    public var windowRects: [PixelRect] = []
    /// The window that holds the query, drawn emphasised.
    public var selectedWindow: PixelRect?
    public var carrierBoxes: [PixelRect] = []
    /// Carrier boxes drawn emphasised (the selected carrier, or the query window's carriers).
    public var highlightedBoxes: [PixelRect] = []
    public var query: PixelRect?
    /// A path drawn as a line through the centres of these boxes, in order, each box outlined
    /// (the tour's route of information from a token in one window to a token in another).
    public var path: [PixelRect] = []
    /// Boxes whose input pixels an occlusion covers (the explorer's painted occlusions), drawn
    /// shaded with a dashed outline.
    public var occluded: [PixelRect] = []
    /// The explorer's occlusion brush, outlined.
    public var brush: PixelRect?
    public init() {}
}

/// One computed view, ready for either renderer.
public struct ViewResult: Sendable, Equatable {
    public var kind: ViewKind
    /// One line: model, stage, block, head, window, query.
    public var title: String
    /// Two or three plain sentences on what the picture shows.
    public var explanation: [String]
    /// Image-space values (local, carrier, propagation, reach, rollout, energy).
    public var field: Field?
    /// A matrix (matrix view; the carrier view's N x N matrix).
    public var matrix: MatrixField?
    public var overlays: Overlays
    /// Value range for the colour scale and its label ("attention probability", "|propagation|").
    public var rangeMin: Float, rangeMax: Float
    public var scaleLabel: String
    /// Numbers for the side panel / manifest, in display order: ("max", "0.312"), ("entropy", ...).
    public var numbers: [(String, String)]
    /// Signed values around 0 (a difference, DiffView): drawn with the diverging colour map
    /// (Colormap.diverging) over a range symmetric about 0, whatever colour map is chosen.
    public var diverging: Bool

    public init(kind: ViewKind, title: String, explanation: [String], field: Field?, matrix: MatrixField?,
                overlays: Overlays, rangeMin: Float, rangeMax: Float, scaleLabel: String,
                numbers: [(String, String)], diverging: Bool = false) {
        self.kind = kind; self.title = title; self.explanation = explanation; self.field = field
        self.matrix = matrix; self.overlays = overlays; self.rangeMin = rangeMin; self.rangeMax = rangeMax
        self.scaleLabel = scaleLabel; self.numbers = numbers; self.diverging = diverging
    }

    public static func == (a: ViewResult, b: ViewResult) -> Bool {
        a.kind == b.kind && a.title == b.title && a.explanation == b.explanation && a.field == b.field
            && a.matrix == b.matrix && a.overlays == b.overlays && a.rangeMin == b.rangeMin
            && a.rangeMax == b.rangeMax && a.scaleLabel == b.scaleLabel && a.diverging == b.diverging
            && a.numbers.map { $0.0 + "=" + $0.1 } == b.numbers.map { $0.0 + "=" + $0.1 }
    }
}

public enum ViewError: Error, Equatable, CustomStringConvertible {
    /// The selection does not exist in this recording (e.g. block 7 of a 5-block stage).
    case invalidSelection(String)
    /// The view does not apply here (e.g. carrier view on a stage without carrier tokens).
    case notApplicable(String)
    public var description: String {
        switch self {
        case .invalidSelection(let s): return "invalid selection: \(s)"
        case .notApplicable(let s): return s
        }
    }
}
