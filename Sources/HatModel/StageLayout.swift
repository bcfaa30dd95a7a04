// The structure of a transformer stage (official `levels.2`, `levels.3`) at a given input
// resolution, following faster_vit_any_res.py: the stage is sized int(H / 2^(2+i)) x
// int(W / 2^(2+i)), padded right/bottom to multiples of the window w, and cut into
// sr_h x sr_w windows. Hierarchical attention (carrier tokens) is on when hat[i] and either
// sr_h > 1 or sr_w > 1. The carrier grid is (c*sr_h) x (c*sr_w), pooled by an AvgPool whose kernel
// and stride the official TokenInitializer derives from the padded size.

public struct StageLayout: Sendable, Equatable {
    /// Official level index (2 or 3).
    public var level: Int
    /// Token grid before padding.
    public var height: Int, width: Int
    /// Token grid after zero padding to multiples of the window.
    public var paddedHeight: Int, paddedWidth: Int
    public var window: Int
    /// Windows per column / per row (official sr_ratio[0], sr_ratio[1]).
    public var srH: Int, srW: Int
    /// Carrier tokens are used (official `do_sr_hat`).
    public var hierarchical: Bool
    /// Carrier tokens per window side (c); 0 when not hierarchical.
    public var ctSize: Int
    /// Carrier grid rows / cols (c*sr_h, c*sr_w); 0 when not hierarchical.
    public var carrierRows: Int, carrierCols: Int
    /// AvgPool kernel and stride per axis (TokenInitializer), meaningful when hierarchical.
    public var poolKernelH: Int, poolKernelW: Int, poolStrideH: Int, poolStrideW: Int

    /// Layout of transformer stage `level` for a stage token grid of `height` x `width`.
    public init(config: ModelConfig, level: Int, height: Int, width: Int) {
        self.level = level
        self.height = height
        self.width = width
        let w = config.windowSize[level]
        window = w
        paddedHeight = height + (w - height % w) % w
        paddedWidth = width + (w - width % w) % w
        srH = paddedHeight / w
        srW = paddedWidth / w
        hierarchical = config.hat[level] && (srH > 1 || srW > 1)
        if hierarchical {
            let c = config.ctSize
            ctSize = c
            // official: output_size = int(c * r / w), stride = int(r / output_size),
            // kernel = r - (output_size - 1) * stride, with r the padded size.
            let outH = (c * paddedHeight) / w, outW = (c * paddedWidth) / w
            carrierRows = outH
            carrierCols = outW
            poolStrideH = outH > 0 ? paddedHeight / outH : 0
            poolStrideW = outW > 0 ? paddedWidth / outW : 0
            poolKernelH = paddedHeight - (outH - 1) * poolStrideH
            poolKernelW = paddedWidth - (outW - 1) * poolStrideW
        } else {
            ctSize = 0
            carrierRows = 0; carrierCols = 0
            poolKernelH = 0; poolKernelW = 0; poolStrideH = 0; poolStrideW = 0
        }
    }

    /// Layout as the official model builds it for an input of `resolution` [H, W] pixels.
    public init(config: ModelConfig, level: Int, resolution: [Int]) {
        let div = 1 << (2 + level)
        self.init(config: config, level: level, height: resolution[0] / div, width: resolution[1] / div)
    }

    public var windowCount: Int { srH * srW }
    public var carriersPerWindow: Int { ctSize * ctSize }
    public var carrierCount: Int { carrierRows * carrierCols }
    /// Tokens per window in the window attention: carriers first, then w*w.
    public var tokensPerWindow: Int { carriersPerWindow + window * window }
    /// `hat_pos_embed` exists and is applied only for a square window grid (any-res quirk).
    public var squareCarrierGrid: Bool { srH == srW }
    /// Side of the carrier attention's bias table: int(sqrt(#CTs)) (any-res quirk when not square).
    public var carrierBiasSide: Int {
        var s = Int(Double(carrierCount).squareRoot())
        while (s + 1) * (s + 1) <= carrierCount { s += 1 }
        while s * s > carrierCount { s -= 1 }
        return s
    }
    /// Whether the carrier grid splits evenly into c x c blocks per window (else the official
    /// reshapes fail; we reject such resolutions).
    public var carrierGridConsistent: Bool {
        !hierarchical || (carrierRows == ctSize * srH && carrierCols == ctSize * srW)
    }
}
