// Occlusion sensitivity (`hatscope occlude`): an occluding patch slides over one stage's token grid
// with a stride of its own size (the last row and column of patches are cut at the grid's edge);
// for every position, the input pixels under the patch are set to 0 after normalisation (the mean
// colour: the engine's `--occlude-box` intervention on that copy only) and the copy goes through
// the network with the others, in batches. For each chosen
// class, the map holds at every token the drop of the class's probability (clean - occluded) and
// of its logit for the patch that covers it.
import Foundation
import HatCore
import HatRecording

public struct OcclusionSensitivity: Sendable {
    /// The patch size: one token, one window of the stage, or N x N tokens.
    public enum Patch: Sendable, Equatable, CustomStringConvertible {
        case tokens, windows, side(Int)
        public init(parsing text: String) throws {
            switch text {
            case "tokens": self = .tokens
            case "windows": self = .windows
            default:
                guard let n = Int(text), n >= 1, n <= 4096 else {
                    throw PipelineError("--patch must be tokens, windows or a number of tokens per side (got '\(text)')")
                }
                self = .side(n)
            }
        }
        public var description: String {
            switch self {
            case .tokens: return "tokens"
            case .windows: return "windows"
            case .side(let n): return "\(n)"
            }
        }
    }

    /// One patch position: token rows and columns (inclusive) on the stage's real grid.
    public struct Position: Sendable, Equatable, Codable {
        public var row0: Int, row1: Int, col0: Int, col1: Int
    }

    /// The map of one class.
    public struct ClassMap: Sendable, Equatable {
        public var classIndex: Int
        public var cleanProbability: Double
        public var cleanLogit: Float
        /// Per position: occluded probability and logit.
        public var probabilities: [Double]
        public var logits: [Float]
        /// Per token of the stage's real grid [rows, cols]: the probability drop of its patch.
        public var dropMap: [Float]
    }

    public var stage: Int
    public var stride: Int
    /// The stage's real token grid.
    public var rows: Int, cols: Int
    /// Patch side in tokens.
    public var side: Int
    public var positions: [Position]
    /// Window rectangles of the stage (none for convolutional stages).
    public var windowRects: [PixelRect]

    /// The positions of `patch` on stage `stage` (1-4) of a model at `height` x `width`.
    public init(config: ModelConfig, height: Int, width: Int, stage: Int, patch: Patch) throws {
        guard (1 ... 4).contains(stage) else { throw PipelineError("--stage must be 1-4 (got \(stage))") }
        let g = ModelGeometry(config: config, inputHeight: height, inputWidth: width)
        let level = stage - 1
        if let t = g.stage(level: level) {
            rows = t.height; cols = t.width; stride = t.stride; windowRects = t.windowRects
            switch patch {
            case .tokens: side = 1
            case .windows: side = t.windowSize
            case .side(let n): side = n
            }
        } else if let c = g.convStages.first(where: { $0.level == level }) {
            rows = c.height; cols = c.width; stride = c.stride; windowRects = []
            switch patch {
            case .tokens: side = 1
            case .windows: throw PipelineError("--patch windows: stage \(stage) is convolutional and has no windows; give tokens or a size")
            case .side(let n): side = n
            }
        } else {
            throw PipelineError("stage \(stage) is not in \(config.name)")
        }
        guard side <= max(rows, cols) else {
            throw PipelineError("--patch \(side) is larger than stage \(stage)'s \(rows) x \(cols) token grid")
        }
        self.stage = stage
        var p: [Position] = []
        for r in Swift.stride(from: 0, to: rows, by: side) {
            for c in Swift.stride(from: 0, to: cols, by: side) {
                p.append(Position(row0: r, row1: min(rows, r + side) - 1, col0: c, col1: min(cols, c + side) - 1))
            }
        }
        positions = p
    }

    /// The intervention that occludes a position: `--occlude-box S:R0-R1,C0-C1`.
    public func intervention(_ p: Position) -> Intervention {
        .occludeTokens(TokenBox(stage: stage, rows: p.row0 ... p.row1, cols: p.col0 ... p.col1))
    }

    /// Runs the clean input and every occluded copy (in batches of `batch`) and returns the map of
    /// each class in `classes` (nil: the top `top` classes of the clean input).
    public func run(_ model: ModelRun, input: Tensor, classes: [Int]?, top: Int, batch: Int,
                    progress: ((Int, Int) -> Void)? = nil) throws -> [ClassMap] {
        let copies: [[Intervention]] = [[]] + positions.map { [intervention($0)] }
        let logits = try model.logits(copiesOf: input, interventions: copies, batch: batch) { progress?($0, copies.count) }
        let clean = softmax(logits[0])
        let chosen = classes ?? Array(clean.indices.sorted { clean[$0] > clean[$1] || (clean[$0] == clean[$1] && $0 < $1) }.prefix(top))
        let probs = logits.dropFirst().map(softmax)
        return chosen.map { k in
            var drop = [Float](repeating: .nan, count: rows * cols)
            for (i, p) in positions.enumerated() {
                for r in p.row0 ... p.row1 { for c in p.col0 ... p.col1 { drop[r * cols + c] = Float(clean[k] - probs[i][k]) } }
            }
            return ClassMap(classIndex: k, cleanProbability: clean[k], cleanLogit: logits[0][k],
                            probabilities: probs.map { $0[k] }, logits: logits.dropFirst().map { $0[k] }, dropMap: drop)
        }
    }
}
