// A `Recording` with the real geometry of a model at a resolution (ModelGeometry: official any-res
// sizing, padding, pooling boxes, the swapped carrier order of non-square window grids) but
// attention probabilities of your choosing: known answers for the view, statistics and tour tests,
// and a stand-in when no model has run.

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
        let geometry = ModelGeometry(config: config, inputHeight: h, inputWidth: w)
        let conv = geometry.convStages.map { g in
            ConvStageRecord(geometry: g, energy: (0 ..< g.height * g.width).map { Float($0 % 7) / 7 })
        }
        var stages: [TransformerStageRecord] = []
        for L in geometry.stages {
            let level = L.level
            let cc = L.carriersPerWindow, T = L.tokensPerWindow, heads = L.heads
            var blocks: [BlockRecord] = []
            for b in 0 ..< L.depth {
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
                if L.hasCarriers {
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
            let prop: [Float]? = L.hasCarriers && config.doPropagation
                ? (0 ..< L.paddedHeight * L.paddedWidth * L.channels).map { Float($0 % 5) * 0.01 } : nil
            stages.append(TransformerStageRecord(geometry: L, blocks: blocks, propagation: prop))
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
