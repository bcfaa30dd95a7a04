// The sufficient statistics behind `HeadStatistics`: for every attention, block and head, the
// exact sums over queries of each per-query number and of its square, the exact sums over images
// of each image's mean and its square, and the counts. Each recording's numbers are computed on
// their own (in Double, in a fixed order: window by window, query by query) and then added
// exactly, so any grouping of the same recordings (threads, batches, shards, resumed runs, merged
// partial results) gives the same bits. Codable: partial results of `stats --shard` carry it.
import Foundation
import HatRecording

public struct HeadStatisticsAccumulator: Sendable, Equatable {
    /// Which head: attention kind, official level, block in the stage, head.
    struct HeadKey: Hashable, Comparable, Sendable {
        var attention: AttentionKind
        var level: Int, block: Int, head: Int
        static func < (a: HeadKey, b: HeadKey) -> Bool {
            (a.attention.rawValue, a.level, a.block, a.head) < (b.attention.rawValue, b.level, b.block, b.head)
        }
    }

    /// Sufficient statistics of one per-query number v of one head.
    public struct Moments: Sendable, Equatable, Codable {
        /// Σ v over every query of every image.
        public var sum = ExactSum()
        /// Σ v².
        public var sumSquares = ExactSum()
        /// Σ over images of the image's mean of v.
        public var imageMeans = ExactSum()
        /// Σ over images of that mean squared.
        public var imageMeanSquares = ExactSum()

        mutating func add(_ o: Moments) {
            sum += o.sum; sumSquares += o.sumSquares; imageMeans += o.imageMeans; imageMeanSquares += o.imageMeanSquares
        }

        /// Mean over queries and the spread, for `queries` queries over `images` images.
        func summary(queries: Int, images: Int) -> (mean: Double, spread: Spread) {
            let n = Double(queries), s = sum.value
            func sd(_ sum: Double, _ squares: Double, _ count: Double) -> Double {
                count > 1 ? (max(0, squares - sum * sum / count) / (count - 1)).squareRoot() : 0
            }
            return (queries > 0 ? s / n : .nan,
                    Spread(overQueries: sd(s, sumSquares.value, n),
                           overImages: images > 1 ? sd(imageMeans.value, imageMeanSquares.value, Double(images)) : nil))
        }
    }

    /// Everything summed for one head.
    struct HeadSums: Sendable, Equatable, Codable {
        var attention: AttentionKind
        var level: Int, block: Int, head: Int
        /// Keys per row (T or N).
        var keys: Int
        var queries = 0
        var images = 0
        var distance = Moments(), entropy = Moments(), carrier = Moments(), padding = Moments()
        var key: HeadKey { HeadKey(attention: attention, level: level, block: block, head: head) }

        mutating func add(_ o: HeadSums) throws {
            queries = try addCounts(queries, o.queries); images = try addCounts(images, o.images)
            distance.add(o.distance); entropy.add(o.entropy); carrier.add(o.carrier); padding.add(o.padding)
        }
    }

    /// What every recording added must share.
    struct Layout: Sendable, Equatable, Codable {
        var signature: String
        var model: String
        var inputHeight: Int, inputWidth: Int
        var stages: [StatsStage]
    }

    private var layout: Layout?
    private var heads: [HeadKey: HeadSums] = [:]
    private var missing: Set<String> = []
    public private(set) var recordings = 0

    public init() {}

    /// Adds one recording. Throws `StatisticsError.mismatch` when its model, input size or stage
    /// layout differs from the recordings already added.
    public mutating func add(_ rec: Recording) throws {
        let sig = Self.signature(rec)
        if let l = layout, l.signature != sig {
            throw StatisticsError.mismatch("expected \(l.signature), got \(sig)")
        }
        if layout == nil {
            var depth = 0
            let stages = rec.stages.map { st in
                defer { depth += st.blocks.count }
                return StatsStage(level: st.level, blocks: st.blocks.count, heads: st.heads, firstDepth: depth,
                                  hasCarriers: st.hasCarriers, padded: st.isPadded, summary: st.summary)
            }
            layout = Layout(signature: sig, model: rec.config.name, inputHeight: rec.inputHeight,
                            inputWidth: rec.inputWidth, stages: stages)
        }
        var image = ImageSums()
        for st in rec.stages {
            image.addWindow(st, missing: &missing)
            if st.hasCarriers { image.addCarrier(st, missing: &missing) }
        }
        // This image's per-head sums, added exactly.
        for (key, s) in image.heads where s.queries > 0 {
            var h = heads[key] ?? HeadSums(attention: key.attention, level: key.level, block: key.block, head: key.head,
                                           keys: s.keys)
            h.queries += s.queries
            h.images += 1
            let n = Double(s.queries)
            func fold(_ m: inout Moments, _ q: Int) {
                m.sum += s.sum[q]; m.sumSquares += s.squares[q]
                let mean = s.sum[q] / n
                m.imageMeans += mean; m.imageMeanSquares += mean * mean
            }
            fold(&h.distance, 0); fold(&h.entropy, 1); fold(&h.carrier, 2); fold(&h.padding, 3)
            heads[key] = h
        }
        recordings += 1
    }

    /// Adds another accumulator's sums (same layout required); exact, so the order of merges
    /// does not matter.
    public mutating func merge(_ other: HeadStatisticsAccumulator) throws {
        guard let ol = other.layout else { return }
        if let l = layout, l != ol { throw StatisticsError.mismatch("expected \(l.signature), got \(ol.signature)") }
        // Checked before anything changes: a merge that fails leaves this accumulator as it was.
        let total = try addCounts(recordings, other.recordings)
        var merged = heads
        for (k, v) in other.heads {
            if var h = merged[k] {
                guard h.keys == v.keys else { throw StatisticsError.mismatch("\(k.attention.rawValue) attention of level \(k.level) block \(k.block) has \(h.keys) keys in one part, \(v.keys) in the other") }
                try h.add(v)
                merged[k] = h
            } else {
                merged[k] = v
            }
        }
        if layout == nil { layout = ol }
        heads = merged
        missing.formUnion(other.missing)
        recordings = total
    }

    /// The averages and spreads so far; nil before the first recording.
    public var statistics: HeadStatistics? {
        guard let layout else { return nil }
        var window: [HeadStat] = [], carrier: [HeadStat] = []
        for st in layout.stages {
            for b in 0 ..< st.blocks {
                for kind in AttentionKind.allCases {
                    if kind == .carrier && !st.hasCarriers { continue }
                    for h in 0 ..< st.heads {
                        guard let s = heads[HeadKey(attention: kind, level: st.level, block: b, head: h)], s.queries > 0 else { continue }
                        let d = s.distance.summary(queries: s.queries, images: s.images)
                        let e = s.entropy.summary(queries: s.queries, images: s.images)
                        let c = s.carrier.summary(queries: s.queries, images: s.images)
                        let p = s.padding.summary(queries: s.queries, images: s.images)
                        let hasShare = kind == .window && st.hasCarriers
                        let stat = HeadStat(
                            attention: kind, level: st.level, block: b, depth: st.firstDepth + b, head: h,
                            meanDistance: d.mean, normalizedEntropy: e.mean,
                            carrierShare: hasShare ? c.mean : nil,
                            paddingShare: kind == .window && st.padded ? p.mean : nil,
                            queries: s.queries, keys: s.keys, images: s.images,
                            distanceSpread: d.spread, entropySpread: e.spread, carrierSpread: hasShare ? c.spread : nil)
                        if kind == .window { window.append(stat) } else { carrier.append(stat) }
                    }
                }
            }
        }
        return HeadStatistics(model: layout.model, inputHeight: layout.inputHeight, inputWidth: layout.inputWidth,
                              recordings: recordings, stages: layout.stages, window: window, carrier: carrier,
                              missing: missing.sorted())
    }

    // MARK: - One recording's sums (Double, fixed order)

    /// Per-head sums of one recording: for each head, Σ and Σ² over its queries of distance,
    /// entropy, carrier share and padding share (indices 0-3).
    struct ImageSums {
        struct Head {
            var keys: Int
            var queries = 0
            var sum = [Double](repeating: 0, count: 4), squares = [Double](repeating: 0, count: 4)
            mutating func add(_ values: (Double, Double, Double, Double)) {
                let v = [values.0, values.1, values.2, values.3]
                for i in 0 ..< 4 { sum[i] += v[i]; squares[i] += v[i] * v[i] }
                queries += 1
            }
        }
        var heads: [HeadKey: Head] = [:]

        /// Window attention of every recorded block of `st`.
        mutating func addWindow(_ st: TransformerStageRecord, missing: inout Set<String>) {
            let cc = st.carriersPerWindow, ww = st.windowSize * st.windowSize, T = cc + ww
            let recorded = st.blocks.indices.filter { st.blocks[$0].window != nil }
            for b in st.blocks.indices where st.blocks[b].window == nil {
                missing.insert("stage \(st.level + 1) block \(b): window attention not recorded")
            }
            guard !recorded.isEmpty else { return }
            let origins = cc > 0 ? HeadStatisticsAccumulator.carrierOrigins(st) : []
            let logKeys = T > 1 ? log(Double(T)) : 1
            for win in 0 ..< st.windowCount {
                // Token centres in input pixels, [w*w] row-major in the window.
                var tx = [Double](repeating: 0, count: ww), ty = [Double](repeating: 0, count: ww)
                var realQueries: [Int] = []  // local token indices of real (unpadded) tokens
                var padKeys: [Int] = []      // attention key indices (cc + t) of padded tokens
                for t in 0 ..< ww {
                    let p = st.geometry.tokenPosition(window: win, local: t)
                    let r = st.geometry.tokenRect(row: p.row, col: p.col)
                    tx[t] = r.centerX; ty[t] = r.centerY
                    if st.geometry.isReal(row: p.row, col: p.col) { realQueries.append(t) } else { padKeys.append(cc + t) }
                }
                guard !realQueries.isEmpty else { continue }
                // Distances [realQueries.count, T] (float: the 768 px models have T = 2304); the
                // token part is fixed, the carrier part is refilled per block (see carrierOrigins).
                var dist = [Float](repeating: 0, count: realQueries.count * T)
                for (i, q) in realQueries.enumerated() {
                    for t in 0 ..< ww {
                        let dx = tx[q] - tx[t], dy = ty[q] - ty[t]
                        dist[i * T + cc + t] = Float((dx * dx + dy * dy).squareRoot())
                    }
                }
                for b in recorded {
                    guard let maps = st.blocks[b].window, maps.keys == T, maps.groups > win else { continue }
                    for slot in 0 ..< cc {
                        let box = st.carriers[origins[b][st.windowCarriers[win][slot]]].box
                        for (i, q) in realQueries.enumerated() {
                            let dx = tx[q] - box.centerX, dy = ty[q] - box.centerY
                            dist[i * T + slot] = Float((dx * dx + dy * dy).squareRoot())
                        }
                    }
                    for h in 0 ..< maps.heads {
                        let key = HeadKey(attention: .window, level: st.level, block: b, head: h)
                        var s = heads[key] ?? Head(keys: T)
                        maps.withMatrix(group: win, head: h) { p in  // (T, T)
                            dist.withUnsafeBufferPointer { d in
                                for (i, q) in realQueries.enumerated() {
                                    let o = (cc + q) * T
                                    var dsum: Float = 0, ent: Float = 0, ct: Float = 0, pad: Float = 0
                                    for k in 0 ..< T {
                                        let v = p[o + k]
                                        dsum += v * d[i * T + k]
                                        if v > 0 { ent -= v * logf(v) }
                                    }
                                    for k in 0 ..< cc { ct += p[o + k] }
                                    for k in padKeys { pad += p[o + k] }
                                    s.add((Double(dsum), Double(ent) / logKeys, Double(ct), Double(pad)))
                                }
                            }
                        }
                        heads[key] = s
                    }
                }
            }
        }

        /// Carrier (global) attention of every recorded block of `st`.
        mutating func addCarrier(_ st: TransformerStageRecord, missing: inout Set<String>) {
            let n = st.carriers.count
            guard n > 0 else { return }
            let origins = HeadStatisticsAccumulator.carrierOrigins(st)
            let logKeys = n > 1 ? log(Double(n)) : 1
            for b in st.blocks.indices {
                guard let maps = st.blocks[b].carrier, maps.keys == n, maps.queries == n else {
                    missing.insert("stage \(st.level + 1) block \(b): carrier attention not recorded")
                    continue
                }
                // [N, N] between the pooling-box centres of the content at each position.
                let boxes = origins[b].map { st.carriers[$0].box }
                var dist = [Float](repeating: 0, count: n * n)
                for i in 0 ..< n {
                    for j in 0 ..< n {
                        let dx = boxes[i].centerX - boxes[j].centerX, dy = boxes[i].centerY - boxes[j].centerY
                        dist[i * n + j] = Float((dx * dx + dy * dy).squareRoot())
                    }
                }
                for h in 0 ..< maps.heads {
                    let key = HeadKey(attention: .carrier, level: st.level, block: b, head: h)
                    var s = heads[key] ?? Head(keys: n)
                    maps.withMatrix(group: 0, head: h) { p in  // (N, N)
                        for q in 0 ..< n {
                            let o = q * n
                            var dsum: Float = 0, ent: Float = 0
                            for k in 0 ..< n {
                                let v = p[o + k]
                                dsum += v * dist[q * n + k]
                                if v > 0 { ent -= v * logf(v) }
                            }
                            s.add((Double(dsum), Double(ent) / logKeys, 0, 0))
                        }
                    }
                    heads[key] = s
                }
            }
        }
    }

    // MARK: - Geometry and layout identity

    /// For every block of `st`: origins[b][i] = the carrier (grid index) whose pooled content sits
    /// at carrier-attention position i in block b. The identity, except for non-square any-res
    /// carrier grids: there the official code hands each window the CTs `windowCarriers` names
    /// (ct_window with height and width swapped) and the next block reads them back in the
    /// unswapped order (`carrierGridIndex`), so content moves between grid positions from block to
    /// block. Following the content keeps "a carrier sits at the centre of its pooling box" true
    /// in every block.
    static func carrierOrigins(_ st: TransformerStageRecord) -> [[Int]] {
        let g = st.geometry
        var origin = Array(0 ..< g.carrierCount)
        var out: [[Int]] = []
        for _ in st.blocks {
            out.append(origin)
            var next = origin
            for w in 0 ..< g.windowCount {
                for (slot, ct) in g.windowCarriers[w].enumerated() {
                    next[g.carrierGridIndex(window: w, slot: slot)] = origin[ct]
                }
            }
            origin = next
        }
        return out
    }

    static func signature(_ rec: Recording) -> String {
        var s = "\(rec.config.name) at \(rec.inputHeight) x \(rec.inputWidth)"
        for st in rec.stages {
            s += "; level \(st.level) \(st.height)x\(st.width) w\(st.windowSize) heads \(st.heads)"
                + " blocks \(st.blocks.count) ct \(st.carrierRows)x\(st.carrierCols)"
        }
        return s
    }
}

extension HeadStatisticsAccumulator: Codable {
    private enum Keys: String, CodingKey { case layout, heads, missing, recordings }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        layout = try c.decodeIfPresent(Layout.self, forKey: .layout)
        recordings = try c.decode(Int.self, forKey: .recordings)
        missing = Set(try c.decode([String].self, forKey: .missing))
        for h in try c.decode([HeadSums].self, forKey: .heads) {
            guard heads[h.key] == nil else {
                throw DecodingError.dataCorrupted(.init(codingPath: c.codingPath, debugDescription: "a head is listed twice"))
            }
            heads[h.key] = h
        }
        guard recordings >= 0, heads.values.allSatisfy({ $0.queries >= 0 && $0.images >= 0 && $0.images <= recordings }) else {
            throw DecodingError.dataCorrupted(.init(codingPath: c.codingPath, debugDescription: "negative or inconsistent counts"))
        }
        if let why = Self.layoutProblem(layout, heads: Array(heads.values)) {
            throw DecodingError.dataCorrupted(.init(codingPath: c.codingPath, debugDescription: why))
        }
    }

    /// Blocks or heads per stage beyond any FasterViT (a hand-edited file; the views would loop
    /// over them).
    static let maxBlocksOrHeads = 256

    /// What a layout read from a file cannot be (stage levels 0-3, once each; 1-256 blocks and
    /// heads), and heads that are not in it; nil when all is well.
    static func layoutProblem(_ layout: Layout?, heads: [HeadSums]) -> String? {
        guard let layout else { return heads.isEmpty ? nil : "heads without a layout" }
        var levels = Set<Int>()
        for st in layout.stages {
            guard (0 ..< 4).contains(st.level), levels.insert(st.level).inserted else {
                return "a stage at level \(st.level) (levels 0-3, each once)"
            }
            guard (1 ... maxBlocksOrHeads).contains(st.blocks), (1 ... maxBlocksOrHeads).contains(st.heads), st.firstDepth >= 0 else {
                return "level \(st.level) has \(st.blocks) blocks and \(st.heads) heads (1-\(maxBlocksOrHeads) each)"
            }
        }
        for h in heads {
            guard let st = layout.stages.first(where: { $0.level == h.level }), (0 ..< st.blocks).contains(h.block),
                  (0 ..< st.heads).contains(h.head), h.attention == .window || st.hasCarriers else {
                return "\(h.attention.rawValue) attention head \(h.head) of level \(h.level) block \(h.block) is not in the layout"
            }
            guard h.keys >= 1 else { return "level \(h.level) block \(h.block) head \(h.head) has \(h.keys) keys" }
        }
        return nil
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encodeIfPresent(layout, forKey: .layout)
        try c.encode(recordings, forKey: .recordings)
        try c.encode(missing.sorted(), forKey: .missing)
        try c.encode(heads.keys.sorted().map { heads[$0]! }, forKey: .heads)
    }
}
