// A `Recording` with the real geometry of a model at a resolution but attention probabilities of
// your choosing: known answers for the statistics and tour tests, and a stand-in when no model has
// run. Geometry follows StageLayout (official any-res sizing, padding, pooling boxes); every window
// receives the carriers pooled from it (the non-square any-res swap quirk is not reproduced here).
import HatModel

public enum SyntheticRecording {
    /// Which attention a `fill` call is asked about.
    public struct Entry: Sendable {
        public var attention: AttentionKind
        public var level: Int, block: Int, group: Int, head: Int, query: Int, key: Int
        /// Keys in the row (T or N), for uniform fills.
        public var keys: Int
        /// Carrier keys in front of the window tokens (c*c; 0 in carrier attention).
        public var carrierKeys: Int
    }

    /// Builds the recording of `config` at `resolution` ([H, W], default config.resolution).
    /// `fill` returns an unnormalised weight per (row, key) >= 0; each row is normalised to sum 1
    /// (rows of zeros become uniform). Logits are `logits` or a ramp making class 0 the top one.
    public static func make(config: ModelConfig, resolution: [Int]? = nil, logits: [Float]? = nil,
                            fill: (Entry) -> Float = { _ in 1 }) -> Recording {
        let res = resolution ?? config.resolution
        let h = res[0], w = res[1]
        var conv: [ConvStageRecord] = []
        for level in 0 ..< 2 {
            let s = 1 << (2 + level)
            let ch = h / s, cw = w / s
            conv.append(ConvStageRecord(level: level, stride: s, height: ch, width: cw, channels: config.stageDim(level),
                                        energy: (0 ..< ch * cw).map { Float($0 % 7) / 7 }))
        }
        var stages: [TransformerStageRecord] = []
        for level in 2 ..< 4 {
            let L = StageLayout(config: config, level: level, resolution: res)
            let stride = 1 << (2 + level)
            let ws = L.window
            var windowRects: [PixelRect] = []
            for wr in 0 ..< L.srH {
                for wc in 0 ..< L.srW {
                    windowRects.append(PixelRect(x0: wc * ws * stride, y0: wr * ws * stride,
                                                 width: ws * stride, height: ws * stride))
                }
            }
            var carriers: [CarrierGeometry] = []
            var windowCarriers = [[Int]](repeating: [], count: L.windowCount)
            if L.hierarchical {
                let c = L.ctSize
                for r in 0 ..< L.carrierRows {
                    for col in 0 ..< L.carrierCols {
                        let win = (r / c) * L.srW + col / c
                        let box = PixelRect(x0: col * L.poolStrideW * stride, y0: r * L.poolStrideH * stride,
                                            width: L.poolKernelW * stride, height: L.poolKernelH * stride)
                        windowCarriers[win].append(carriers.count)
                        carriers.append(CarrierGeometry(row: r, col: col, window: win, box: box))
                    }
                }
            }
            let cc = L.carriersPerWindow, T = L.tokensPerWindow, heads = config.heads[level]
            var blocks: [BlockRecord] = []
            for b in 0 ..< config.depths[level] {
                var wp = [Float](repeating: 0, count: L.windowCount * heads * T * T)  // [windows, heads, T, T]
                for g in 0 ..< L.windowCount {
                    for hd in 0 ..< heads {
                        for q in 0 ..< T {
                            let o = ((g * heads + hd) * T + q) * T
                            for k in 0 ..< T {
                                wp[o + k] = max(0, fill(Entry(attention: .window, level: level, block: b, group: g,
                                                              head: hd, query: q, key: k, keys: T, carrierKeys: cc)))
                            }
                            normalise(&wp, o, T)
                        }
                    }
                }
                let window = AttentionMaps(groups: L.windowCount, heads: heads, queries: T, keys: T, probs: wp)
                var carrier: AttentionMaps?
                if L.hierarchical {
                    let n = L.carrierCount
                    var cp = [Float](repeating: 0, count: heads * n * n)  // [1, heads, N, N]
                    for hd in 0 ..< heads {
                        for q in 0 ..< n {
                            let o = (hd * n + q) * n
                            for k in 0 ..< n {
                                cp[o + k] = max(0, fill(Entry(attention: .carrier, level: level, block: b, group: 0,
                                                              head: hd, query: q, key: k, keys: n, carrierKeys: 0)))
                            }
                            normalise(&cp, o, n)
                        }
                    }
                    carrier = AttentionMaps(groups: 1, heads: heads, queries: n, keys: n, probs: cp)
                }
                blocks.append(BlockRecord(window: window, carrier: carrier))
            }
            let ch = config.stageDim(level)
            let prop: [Float]? = L.hierarchical && config.doPropagation
                ? (0 ..< L.paddedHeight * L.paddedWidth * ch).map { Float($0 % 5) * 0.01 } : nil
            stages.append(TransformerStageRecord(
                level: level, stride: stride, height: L.height, width: L.width, paddedHeight: L.paddedHeight,
                paddedWidth: L.paddedWidth, windowSize: ws, windowRows: L.srH, windowCols: L.srW, heads: heads,
                ctSize: L.ctSize, carrierRows: L.carrierRows, carrierCols: L.carrierCols, windowRects: windowRects,
                carriers: carriers, windowCarriers: windowCarriers, blocks: blocks, propagation: prop, channels: ch))
        }
        let lg = logits ?? (0 ..< config.numClasses).map { -Float($0) * 0.01 }
        return Recording(config: config, inputHeight: h, inputWidth: w,
                         input: [Float](repeating: 0, count: 3 * h * w), convStages: conv, stages: stages, logits: lg,
                         notes: ["synthetic attention (not computed by a model)"])
    }

    private static func normalise(_ p: inout [Float], _ o: Int, _ n: Int) {
        var s: Float = 0
        for k in 0 ..< n { s += p[o + k] }
        if s > 0 {
            for k in 0 ..< n { p[o + k] /= s }
        } else {
            for k in 0 ..< n { p[o + k] = 1 / Float(n) }
        }
    }
}
