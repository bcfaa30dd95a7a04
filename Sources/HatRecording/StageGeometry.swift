// The geometry of a transformer stage (official `levels.2`, `levels.3`) at one input size: the one
// description the engine, the recorder, the views, the statistics, the tour and the tests share.
// Built only by `ModelGeometry(config:inputHeight:inputWidth:)`.
//
// Following faster_vit_any_res.py: the stage is sized int(H / 2^(2+i)) x int(W / 2^(2+i)), padded
// right/bottom with zeros to multiples of the window w, and cut into windowRows x windowCols
// windows (official sr_ratio), row-major. Hierarchical attention (carrier tokens, official
// `do_sr_hat`) is on when hat[i] and the stage has more than one window. The carrier grid is
// (c*windowRows) x (c*windowCols), pooled by an AvgPool whose kernel and stride the official
// TokenInitializer derives from the padded size.
//
// Inside a window, the attention's T = c*c + w*w tokens are the window's carrier tokens first (in
// the order the window received them, `windowCarriers`), then its w*w tokens row-major: exactly
// the official token order.
//
// Carrier orders, with a carrier grid of (c*rows) x (c*cols) tokens, grid index = row-major:
// - "window list" order (TokenInitializer output, ct_dewindow): window k = a*cols + b, then its
//   c x c tokens row-major: list index (k*c + i)*c + j  <->  grid (a*c + i, b*c + j).
// - ct_window in faster_vit_any_res.py is called with height and width swapped: it reads the
//   grid's flat row-major storage as if it had c*cols rows of c*rows columns, so window
//   k = a*rows + b (a < cols, b < rows) receives flat grid index (a*c + i)*(c*rows) + b*c + j for
//   its token (i, j). For square window grids that is the window's own carriers; otherwise windows
//   receive carriers pooled elsewhere (fastervit.md).

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

/// A carrier token: which window it was pooled from and which input pixels its pooling box covers.
public struct CarrierGeometry: Sendable, Equatable {
    /// Row and column in the stage's carrier grid (index = row * carrierCols + col).
    public let row: Int, col: Int
    /// The window (row-major index) whose region it was pooled from.
    public let window: Int
    /// Its average-pooling box in input pixels.
    public let box: PixelRect
}

public struct StageGeometry: Sendable, Equatable {
    /// Official level index (2 or 3); users count stages from 1 (`number`).
    public let level: Int
    /// Input pixels per token side (16 for level 2, 32 for level 3).
    public let stride: Int
    /// Channels, attention heads and blocks of the stage (from the configuration).
    public let channels: Int, heads: Int, depth: Int
    /// Token grid before padding.
    public let height: Int, width: Int
    /// Token grid after zero padding to multiples of the window.
    public let paddedHeight: Int, paddedWidth: Int
    /// Window side w, in tokens.
    public let windowSize: Int
    /// Windows per column and per row (official sr_ratio[0], sr_ratio[1]).
    public let windowRows: Int, windowCols: Int
    /// Carrier tokens are used (official `do_sr_hat`).
    public let hasCarriers: Bool
    /// Carrier tokens per window side (c); 0 without carriers.
    public let ctSize: Int
    /// Carrier grid rows / cols (c*windowRows, c*windowCols); 0 without carriers.
    public let carrierRows: Int, carrierCols: Int
    /// AvgPool kernel and stride per axis, in tokens (TokenInitializer); 0 without carriers.
    public let poolKernelH: Int, poolKernelW: Int, poolStrideH: Int, poolStrideW: Int
    /// Every carrier token, grid order.
    public let carriers: [CarrierGeometry]
    /// For each window, the carrier-token grid indices it receives in front of its tokens, in that
    /// order (official ct_window, including the swapped order of non-square window grids).
    public let windowCarriers: [[Int]]

    /// Stage `level` of `config` for an input of inputHeight x inputWidth pixels (ModelGeometry).
    init(config: ModelConfig, level: Int, inputHeight: Int, inputWidth: Int) {
        self.level = level
        stride = 1 << (2 + level)
        channels = config.stageDim(level)
        heads = config.heads[level]
        depth = config.depths[level]
        height = inputHeight / stride
        width = inputWidth / stride
        let w = config.windowSize[level]
        windowSize = w
        paddedHeight = height + (w - height % w) % w
        paddedWidth = width + (w - width % w) % w
        windowRows = paddedHeight / w
        windowCols = paddedWidth / w
        hasCarriers = config.hat[level] && (windowRows > 1 || windowCols > 1)
        guard hasCarriers else {
            ctSize = 0
            carrierRows = 0; carrierCols = 0
            poolKernelH = 0; poolKernelW = 0; poolStrideH = 0; poolStrideW = 0
            carriers = []
            windowCarriers = Array(repeating: [], count: windowRows * windowCols)
            return
        }
        let c = config.ctSize
        ctSize = c
        // official: output_size = int(c * r / w), stride = int(r / output_size),
        // kernel = r - (output_size - 1) * stride, with r the padded size.
        carrierRows = (c * paddedHeight) / w
        carrierCols = (c * paddedWidth) / w
        poolStrideH = carrierRows > 0 ? paddedHeight / carrierRows : 0
        poolStrideW = carrierCols > 0 ? paddedWidth / carrierCols : 0
        poolKernelH = paddedHeight - (carrierRows - 1) * poolStrideH
        poolKernelW = paddedWidth - (carrierCols - 1) * poolStrideW
        var carriers: [CarrierGeometry] = []
        for r in 0 ..< carrierRows {
            for q in 0 ..< carrierCols {
                let box = PixelRect(x0: q * poolStrideW * stride, y0: r * poolStrideH * stride,
                                    width: poolKernelW * stride, height: poolKernelH * stride)
                carriers.append(CarrierGeometry(row: r, col: q, window: (r / c) * windowCols + q / c, box: box))
            }
        }
        self.carriers = carriers
        let rows = windowRows
        windowCarriers = (0 ..< windowRows * windowCols).map { k in
            let a = k / rows, b = k % rows
            return (0 ..< c * c).map { t in (a * c + t / c) * (c * rows) + b * c + t % c }
        }
    }

    // MARK: - Sizes

    /// The number people use: "stage 3" is level 2.
    public var number: Int { level + 1 }
    /// The official module name, `levels.2`.
    public var moduleName: String { "levels.\(level)" }
    public var windowCount: Int { windowRows * windowCols }
    public var carriersPerWindow: Int { ctSize * ctSize }
    public var carrierCount: Int { carrierRows * carrierCols }
    /// Tokens per window in the window attention: carriers first, then w*w.
    public var tokensPerWindow: Int { carriersPerWindow + windowSize * windowSize }
    /// Whether zero padding was added to reach whole windows.
    public var isPadded: Bool { paddedHeight != height || paddedWidth != width }
    /// `hat_pos_embed` exists and is applied only for a square window grid (any-res quirk).
    public var squareCarrierGrid: Bool { windowRows == windowCols }
    /// Side of the carrier attention's bias table: int(sqrt(#CTs)) (any-res quirk when not square).
    public var carrierBiasSide: Int {
        var s = Int(Double(carrierCount).squareRoot())
        while (s + 1) * (s + 1) <= carrierCount { s += 1 }
        while s * s > carrierCount { s -= 1 }
        return s
    }

    // MARK: - Windows and tokens

    /// Row and column of window k in the windowRows x windowCols grid of windows.
    public func windowPosition(_ k: Int) -> (row: Int, col: Int) { (k / windowCols, k % windowCols) }
    /// Window k's rectangle in input pixels.
    public func windowRect(_ k: Int) -> PixelRect {
        let side = windowSize * stride, p = windowPosition(k)
        return PixelRect(x0: p.col * side, y0: p.row * side, width: side, height: side)
    }
    /// Every window's rectangle, row-major windows.
    public var windowRects: [PixelRect] { (0 ..< windowCount).map(windowRect) }

    /// Input-pixel rectangle of padded-grid token (row, col).
    public func tokenRect(row: Int, col: Int) -> PixelRect {
        PixelRect(x0: col * stride, y0: row * stride, width: stride, height: stride)
    }
    /// Whether padded-grid token (row, col) lies on the image (not in the zero padding).
    public func isReal(row: Int, col: Int) -> Bool { row < height && col < width }

    /// The window (row-major) holding padded-grid token (row, col).
    public func window(row: Int, col: Int) -> Int {
        (row / windowSize) * windowCols + col / windowSize
    }
    /// Local index (0 ..< w*w, row-major in its window) of padded-grid token (row, col).
    public func localToken(row: Int, col: Int) -> Int {
        (row % windowSize) * windowSize + col % windowSize
    }
    /// The row (= key index) of padded-grid token (row, col) in its window's T x T attention.
    public func attentionRow(row: Int, col: Int) -> Int {
        carriersPerWindow + localToken(row: row, col: col)
    }
    /// Padded-grid (row, col) of window-local token t (0 ..< w*w, not counting carriers).
    public func tokenPosition(window k: Int, local t: Int) -> (row: Int, col: Int) {
        let p = windowPosition(k)
        return (p.row * windowSize + t / windowSize, p.col * windowSize + t % windowSize)
    }

    // MARK: - Carrier orders

    /// The carriers pooled from window k's region (grid order). `windowCarriers[k]` holds the same
    /// set except for non-square window grids, where the official order hands windows others.
    public func pooledCarriers(window k: Int) -> [Int] { carriers.indices.filter { carriers[$0].window == k } }

    /// Grid index of window k's carrier slot t in the window-list order (TokenInitializer output
    /// and official ct_dewindow). Where the next block's de-windowing puts what window k's slot
    /// holds; not the same as `windowCarriers[k][t]` for non-square window grids.
    @inlinable
    public func carrierGridIndex(window k: Int, slot t: Int) -> Int {
        let c = ctSize
        return ((k / windowCols) * c + t / c) * (c * windowCols) + (k % windowCols) * c + t % c
    }

    // MARK: - Names

    /// Grid label of a carrier token, as used in matrices and titles: "r0c1".
    public func carrierLabel(_ index: Int) -> String {
        guard carrierCols > 0 else { return "ct\(index)" }
        return "r\(index / carrierCols)c\(index % carrierCols)"
    }
    /// Key `key` of window `k`'s attention rows: "carrier r0c1" or "token r3 c5".
    public func keyName(window k: Int, key: Int) -> String {
        let cc = carriersPerWindow
        if key < cc { return "carrier " + carrierLabel(windowCarriers[k][key]) }
        let p = tokenPosition(window: k, local: key - cc)
        return "token r\(p.row) c\(p.col)"
    }
    /// The short form of `keyName` for labels in pictures (the matrix view's rows and columns):
    /// "ct r0c1" or "r3c5", the token's place in the stage's grid as titles give it. Never
    /// "3,5", which reads as a decimal.
    public func keyLabel(window k: Int, key: Int) -> String {
        let cc = carriersPerWindow
        if key < cc {
            let label = carrierLabel(windowCarriers[k][key])
            return carrierCols > 0 ? "ct " + label : label
        }
        let p = tokenPosition(window: k, local: key - cc)
        return "r\(p.row)c\(p.col)"
    }
    /// "14 x 14 tokens of 256 channels, 2 x 2 windows of 7 x 7" (plus " (padded to ...)").
    public var gridSummary: String {
        var s = "\(height) x \(width) tokens of \(channels) channels, \(windowRows) x \(windowCols) "
            + "window\(windowCount == 1 ? "" : "s") of \(windowSize) x \(windowSize)"
        if isPadded { s += " (padded to \(paddedHeight) x \(paddedWidth))" }
        return s
    }
    /// `gridSummary` and the carriers: ", 16 carrier tokens (4 per window)" or ", no carrier tokens".
    public var summary: String {
        gridSummary + (hasCarriers ? ", \(carrierCount) carrier tokens (\(carriersPerWindow) per window)" : ", no carrier tokens")
    }
}
