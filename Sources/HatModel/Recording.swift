import Foundation

// What one forward pass recorded: every attention map with the geometry needed to draw it.
// A plain value: the views keep it after the model is gone. Filled by `AttentionRecorder`.
//
// Conventions
// - Pixel coordinates are in the network input (after preprocessing), x right, y down.
// - Token grids are row-major. A transformer stage of r_h x r_w tokens is zero-padded right and
//   bottom to ph x pw (multiples of the window w) and cut into (ph/w) x (pw/w) windows, row-major.
// - Inside a window, the attention's T = c*c + w*w tokens are the window's carrier tokens first
//   (in the order the window received them), then its w*w tokens row-major: exactly the official
//   token order.

/// An axis-aligned box in input pixels: [x0, x0+width) x [y0, y0+height). It may reach past the
/// input's edge where a stage is padded.
public struct PixelRect: Sendable, Equatable, Codable {
    public var x0: Int, y0: Int, width: Int, height: Int
    public init(x0: Int, y0: Int, width: Int, height: Int) {
        self.x0 = x0; self.y0 = y0; self.width = width; self.height = height
    }
    public var centerX: Double { Double(x0) + Double(width) / 2 }
    public var centerY: Double { Double(y0) + Double(height) / 2 }
}

/// Attention probabilities, row-major [groups, heads, queries, keys]; each row sums to 1.
/// Window attention: groups = windows, queries = keys = T. Carrier attention: groups = 1, N x N.
public struct AttentionMaps: Sendable, Equatable {
    public var groups: Int, heads: Int, queries: Int, keys: Int
    public var probs: [Float]
    public init(groups: Int, heads: Int, queries: Int, keys: Int, probs: [Float]) {
        precondition(probs.count == groups * heads * queries * keys, "attention maps: size mismatch")
        self.groups = groups; self.heads = heads; self.queries = queries; self.keys = keys; self.probs = probs
    }
    /// The probability that `query` gives `key` in group `g`, head `h`.
    @inlinable public func at(_ g: Int, _ h: Int, _ query: Int, _ key: Int) -> Float {
        probs[((g * heads + h) * queries + query) * keys + key]
    }
    /// One row (keys values) as an array slice start index.
    @inlinable public func rowOffset(_ g: Int, _ h: Int, _ query: Int) -> Int {
        ((g * heads + h) * queries + query) * keys
    }
}

/// A carrier token: which window it was pooled from and which input pixels its pooling box covers.
public struct CarrierGeometry: Sendable, Equatable {
    /// Row and column in the stage's carrier grid (index = row * gridWidth + col).
    public var row: Int, col: Int
    /// The window (row-major index) whose region it was pooled from.
    public var window: Int
    /// Its average-pooling box in input pixels.
    public var box: PixelRect
    public init(row: Int, col: Int, window: Int, box: PixelRect) {
        self.row = row; self.col = col; self.window = window; self.box = box
    }
}

/// One transformer block's attention.
public struct BlockRecord: Sendable, Equatable {
    /// Window attention: [windows, heads, T, T]; nil when this block was not kept.
    public var window: AttentionMaps?
    /// Carrier (global) attention: [1, heads, N, N]; nil when the stage has no carrier tokens or
    /// this block was not kept.
    public var carrier: AttentionMaps?
    public init(window: AttentionMaps?, carrier: AttentionMaps?) {
        self.window = window; self.carrier = carrier
    }
}

/// A transformer stage (official `levels.2` or `levels.3`).
public struct TransformerStageRecord: Sendable, Equatable {
    /// Official level index (2 or 3).
    public var level: Int
    /// Input pixels per token side (16 for level 2, 32 for level 3).
    public var stride: Int
    /// Token grid before padding, and after padding to multiples of the window.
    public var height: Int, width: Int, paddedHeight: Int, paddedWidth: Int
    public var windowSize: Int
    /// Windows per column and per row: paddedHeight / w, paddedWidth / w.
    public var windowRows: Int, windowCols: Int
    public var heads: Int
    /// Carrier tokens per window side (c); 0 when the stage has no hierarchical attention.
    public var ctSize: Int
    /// Carrier grid (rows x cols); 0 x 0 without hierarchical attention.
    public var carrierRows: Int, carrierCols: Int
    /// Every window's rectangle in input pixels, row-major windows.
    public var windowRects: [PixelRect]
    /// Every carrier token, grid order.
    public var carriers: [CarrierGeometry]
    /// For each window, the carrier-token indices (grid order) it receives in front of its tokens,
    /// in that order. Usually the ones pooled from it; see the any-res quirk in fastervit.md.
    public var windowCarriers: [[Int]]
    /// One entry per block of the stage.
    public var blocks: [BlockRecord]
    /// The propagation term added in the stage's last block, [paddedHeight * paddedWidth, channels]
    /// row-major over the padded token grid; nil when propagation is off or not applicable.
    public var propagation: [Float]?
    public var channels: Int

    public init(level: Int, stride: Int, height: Int, width: Int, paddedHeight: Int, paddedWidth: Int,
                windowSize: Int, windowRows: Int, windowCols: Int, heads: Int, ctSize: Int,
                carrierRows: Int, carrierCols: Int, windowRects: [PixelRect], carriers: [CarrierGeometry],
                windowCarriers: [[Int]], blocks: [BlockRecord], propagation: [Float]?, channels: Int) {
        self.level = level; self.stride = stride; self.height = height; self.width = width
        self.paddedHeight = paddedHeight; self.paddedWidth = paddedWidth; self.windowSize = windowSize
        self.windowRows = windowRows; self.windowCols = windowCols; self.heads = heads; self.ctSize = ctSize
        self.carrierRows = carrierRows; self.carrierCols = carrierCols; self.windowRects = windowRects
        self.carriers = carriers; self.windowCarriers = windowCarriers; self.blocks = blocks
        self.propagation = propagation; self.channels = channels
    }

    /// Tokens per window in the attention: carriers first, then w*w.
    public var tokensPerWindow: Int { carriersPerWindow + windowSize * windowSize }
    public var carriersPerWindow: Int { ctSize * ctSize }
    public var hasCarriers: Bool { carrierRows * carrierCols > 0 }
    public var windowCount: Int { windowRows * windowCols }

    /// Input-pixel rectangle of padded-grid token (row, col).
    public func tokenRect(row: Int, col: Int) -> PixelRect {
        PixelRect(x0: col * stride, y0: row * stride, width: stride, height: stride)
    }
    /// Padded-grid (row, col) of window-local token t (0 ..< w*w, not counting carriers).
    public func tokenPosition(window: Int, local t: Int) -> (row: Int, col: Int) {
        let wr = window / windowCols, wc = window % windowCols
        return (wr * windowSize + t / windowSize, wc * windowSize + t % windowSize)
    }
}

/// A convolutional stage (official `levels.0` or `levels.1`): its output feature map's energy.
public struct ConvStageRecord: Sendable, Equatable {
    public var level: Int
    /// Input pixels per token side (4 for level 0, 8 for level 1).
    public var stride: Int
    public var height: Int, width: Int, channels: Int
    /// Per position, the L2 norm over channels of the stage's output (before downsampling),
    /// [height * width] row-major.
    public var energy: [Float]
    public init(level: Int, stride: Int, height: Int, width: Int, channels: Int, energy: [Float]) {
        self.level = level; self.stride = stride; self.height = height; self.width = width
        self.channels = channels; self.energy = energy
    }
}

/// The whole recording of one forward pass.
public struct Recording: Sendable, Equatable {
    public var config: ModelConfig
    /// Network input [1, 3, inputHeight, inputWidth] as fed (normalised).
    public var inputHeight: Int, inputWidth: Int
    public var input: [Float]
    public var convStages: [ConvStageRecord]
    public var stages: [TransformerStageRecord]
    /// [numClasses]
    public var logits: [Float]
    /// Notes on what was not kept (e.g. "blocks 0-10 of level 2 not recorded to save memory").
    public var notes: [String]

    public init(config: ModelConfig, inputHeight: Int, inputWidth: Int, input: [Float],
                convStages: [ConvStageRecord], stages: [TransformerStageRecord], logits: [Float],
                notes: [String] = []) {
        self.config = config; self.inputHeight = inputHeight; self.inputWidth = inputWidth
        self.input = input; self.convStages = convStages; self.stages = stages; self.logits = logits
        self.notes = notes
    }

    /// Class indices and softmax probabilities of the k largest logits, best first.
    public func topK(_ k: Int) -> [(index: Int, probability: Float)] {
        guard let m = logits.max() else { return [] }
        let e = logits.map { Double(expf($0 - m)) }
        let z = e.reduce(0, +)
        return e.enumerated().sorted { $0.element > $1.element }.prefix(k)
            .map { (index: $0.offset, probability: Float($0.element / z)) }
    }
}
