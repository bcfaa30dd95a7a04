// Per-head summary numbers of hierarchical attention: for every transformer block and head, how
// far (in input pixels) its queries look, how spread out its attention is, and how much of it goes
// to carrier tokens. Computed from `Recording`s only, summed over any number of them.
//
// Definitions (the same words appear in stats.json and the README):
// - Window attention. Queries: the REAL window tokens of every window, i.e. grid tokens inside the
//   unpadded r_h x r_w map. Excluded: the carrier-token rows of the window attention (carriers are
//   queries there too, but they are summarised by the carrier series) and the zero-padded tokens
//   of any-res stages (they have no image under them). Keys: all T = c*c + w*w keys of the query's
//   window, padded tokens included, because the official code attends to them (there is no mask).
// - Carrier attention: queries and keys are all N carrier tokens of the stage (global attention).
// - Key and query positions: a grid token sits at the centre of its stride x stride pixel cell; a
//   carrier token at the centre of the average-pooling box its content was pooled from
//   (`CarrierGeometry.box`; see `carrierOrigins` for the non-square any-res case, where the
//   official code moves carrier content between grid positions from block to block).
// - mean distance = average over queries of sum_k p(k) * |centre(query) - centre(k)| (Euclidean,
//   input pixels) — the "mean attention distance" of the ViT paper, window-aware.
// - normalized entropy = average over queries of (-sum_k p(k) ln p(k)) / ln(#keys): 0 = one key
//   takes everything, 1 = uniform over every key (#keys = T or N; 0 when there is one key).
// - carrier share = average over queries of sum over the window's c*c carrier keys of p(k);
//   only for window attention of stages with carriers.
// - padding share = the same over padded keys; only for stages that are padded.
// - Several recordings: sums and query counts are pooled, so every query of every image weighs
//   the same (for one model at one resolution that is the mean of the per-image means).
import Foundation
import HatRecording

/// The numbers of one head of one block.
public struct HeadStat: Sendable, Equatable, Codable {
    public var attention: AttentionKind
    /// Official level (2 or 3); the stage people call "stage level + 1".
    public var level: Int
    /// Block index inside the stage.
    public var block: Int
    /// Transformer block index counted across the transformer stages in order (stage 3's block 0
    /// is depth 0): the x axis of the distance scatter.
    public var depth: Int
    public var head: Int
    public var meanDistance: Double
    public var normalizedEntropy: Double
    /// nil for carrier attention and for stages without carrier tokens.
    public var carrierShare: Double?
    /// nil when the stage is not padded.
    public var paddingShare: Double?
    /// Query rows averaged (over all recordings).
    public var queries: Int
    /// Keys per row (T or N).
    public var keys: Int
}

/// One transformer stage as the statistics saw it.
public struct StatsStage: Sendable, Equatable, Codable {
    public var level: Int
    public var blocks: Int
    public var heads: Int
    /// Depth of the stage's block 0.
    public var firstDepth: Int
    public var hasCarriers: Bool
    public var padded: Bool
    /// e.g. "14 x 14 tokens, 2 x 2 windows of 7 x 7, 16 carrier tokens"
    public var summary: String
}

/// Per-head statistics of one or more recordings of the same model at the same input size.
public struct HeadStatistics: Sendable, Equatable, Codable {
    public var model: String
    public var inputHeight: Int, inputWidth: Int
    public var recordings: Int
    public var stages: [StatsStage]
    /// Window attention, ordered by (level, block, head).
    public var window: [HeadStat]
    /// Carrier attention, ordered by (level, block, head); empty without carrier tokens.
    public var carrier: [HeadStat]
    /// Blocks whose maps were not in the recordings ("stage 3 block 2: window attention not recorded").
    public var missing: [String]

    /// Statistics of a single recording.
    public static func compute(_ recording: Recording) -> HeadStatistics {
        var acc = HeadStatisticsAccumulator()
        // A single recording always matches the empty accumulator's layout.
        try? acc.add(recording)
        return acc.statistics ?? HeadStatistics(model: recording.config.name, inputHeight: recording.inputHeight,
                                                inputWidth: recording.inputWidth, recordings: 0, stages: [],
                                                window: [], carrier: [], missing: [])
    }

    /// The series `kind`.
    public func series(_ kind: AttentionKind) -> [HeadStat] { kind == .window ? window : carrier }

    /// Total transformer blocks (the scatter's x range).
    public var depthCount: Int { stages.reduce(0) { $0 + $1.blocks } }
    /// Largest head count of any stage (the heatmap's width).
    public var maxHeads: Int { stages.map(\.heads).max() ?? 0 }
}

/// Errors of the statistics.
public enum StatisticsError: Error, Equatable, CustomStringConvertible {
    /// A recording whose model or layout differs from the ones already summed.
    case mismatch(String)
    /// Nothing was added.
    case empty
    public var description: String {
        switch self {
        case .mismatch(let s): return "statistics: recordings do not match: \(s)"
        case .empty: return "statistics: no recordings were added"
        }
    }
}

/// Sums per-head numbers over recordings; add on several threads with one accumulator each, then
/// `merge`.
public struct HeadStatisticsAccumulator: Sendable {
    /// Running sums of one head.
    struct Sums: Sendable, Equatable {
        var distance = 0.0, entropy = 0.0, carrier = 0.0, padding = 0.0
        var queries = 0
        mutating func add(_ o: Sums) {
            distance += o.distance; entropy += o.entropy; carrier += o.carrier; padding += o.padding
            queries += o.queries
        }
    }

    /// What identifies a layout: later recordings must repeat it.
    private var signature: String?
    private var model = "", inputHeight = 0, inputWidth = 0
    private var stages: [StatsStage] = []
    /// keyed "kind/level/block/head"; `keys` per entry fixed by the layout.
    private var sums: [String: Sums] = [:]
    private var keyCounts: [String: Int] = [:]
    private var missing: Set<String> = []
    public private(set) var recordings = 0

    public init() {}

    static func key(_ kind: AttentionKind, _ level: Int, _ block: Int, _ head: Int) -> String {
        "\(kind.rawValue)/\(level)/\(block)/\(head)"
    }

    /// Adds one recording. Throws `StatisticsError.mismatch` when its model, input size or stage
    /// layout differs from the recordings already added.
    public mutating func add(_ rec: Recording) throws {
        let sig = Self.signature(rec)
        if let s = signature, s != sig {
            throw StatisticsError.mismatch("expected \(s), got \(sig)")
        }
        if signature == nil {
            signature = sig
            model = rec.config.name; inputHeight = rec.inputHeight; inputWidth = rec.inputWidth
            var depth = 0
            stages = rec.stages.map { st in
                defer { depth += st.blocks.count }
                return StatsStage(level: st.level, blocks: st.blocks.count, heads: st.heads, firstDepth: depth,
                                  hasCarriers: st.hasCarriers,
                                  padded: st.isPadded, summary: st.summary)
            }
        }
        for st in rec.stages {
            addWindow(st)
            if st.hasCarriers { addCarrier(st) }
        }
        recordings += 1
    }

    /// Adds another accumulator's sums (same layout required).
    public mutating func merge(_ other: HeadStatisticsAccumulator) throws {
        guard let os = other.signature else { return }
        if let s = signature, s != os { throw StatisticsError.mismatch("expected \(s), got \(os)") }
        if signature == nil {
            signature = os; model = other.model; inputHeight = other.inputHeight
            inputWidth = other.inputWidth; stages = other.stages
        }
        for (k, v) in other.sums { sums[k, default: Sums()].add(v) }
        for (k, v) in other.keyCounts { keyCounts[k] = v }
        missing.formUnion(other.missing)
        recordings += other.recordings
    }

    /// The averages so far; nil before the first recording.
    public var statistics: HeadStatistics? {
        guard signature != nil else { return nil }
        var window: [HeadStat] = [], carrier: [HeadStat] = []
        for st in stages {
            for b in 0 ..< st.blocks {
                for kind in AttentionKind.allCases {
                    if kind == .carrier && !st.hasCarriers { continue }
                    for h in 0 ..< st.heads {
                        let k = Self.key(kind, st.level, b, h)
                        guard let s = sums[k], s.queries > 0 else { continue }
                        let n = Double(s.queries)
                        let stat = HeadStat(
                            attention: kind, level: st.level, block: b, depth: st.firstDepth + b, head: h,
                            meanDistance: s.distance / n, normalizedEntropy: s.entropy / n,
                            carrierShare: kind == .window && st.hasCarriers ? s.carrier / n : nil,
                            paddingShare: kind == .window && st.padded ? s.padding / n : nil,
                            queries: s.queries, keys: keyCounts[k] ?? 0)
                        if kind == .window { window.append(stat) } else { carrier.append(stat) }
                    }
                }
            }
        }
        return HeadStatistics(model: model, inputHeight: inputHeight, inputWidth: inputWidth,
                              recordings: recordings, stages: stages, window: window, carrier: carrier,
                              missing: missing.sorted())
    }

    // MARK: - Sums of one recording

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

    /// Window attention of every recorded block of `st`.
    private mutating func addWindow(_ st: TransformerStageRecord) {
        let cc = st.carriersPerWindow, ww = st.windowSize * st.windowSize, T = cc + ww
        let recorded = st.blocks.indices.filter { st.blocks[$0].window != nil }
        for b in st.blocks.indices where st.blocks[b].window == nil {
            missing.insert("stage \(st.level + 1) block \(b): window attention not recorded")
        }
        guard !recorded.isEmpty else { return }
        let origins = cc > 0 ? Self.carrierOrigins(st) : []
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
                    var s = Sums()
                    maps.probs.withUnsafeBufferPointer { p in
                        dist.withUnsafeBufferPointer { d in
                            for (i, q) in realQueries.enumerated() {
                                let o = maps.rowOffset(win, h, cc + q)
                                var dsum: Float = 0, ent: Float = 0, ct: Float = 0, pad: Float = 0
                                for k in 0 ..< T {
                                    let v = p[o + k]
                                    dsum += v * d[i * T + k]
                                    if v > 0 { ent -= v * logf(v) }
                                }
                                for k in 0 ..< cc { ct += p[o + k] }
                                for k in padKeys { pad += p[o + k] }
                                s.distance += Double(dsum); s.entropy += Double(ent) / logKeys
                                s.carrier += Double(ct); s.padding += Double(pad)
                            }
                        }
                    }
                    s.queries = realQueries.count
                    let key = Self.key(.window, st.level, b, h)
                    sums[key, default: Sums()].add(s)
                    keyCounts[key] = T
                }
            }
        }
    }

    /// Carrier (global) attention of every recorded block of `st`.
    private mutating func addCarrier(_ st: TransformerStageRecord) {
        let n = st.carriers.count
        guard n > 0 else { return }
        let origins = Self.carrierOrigins(st)
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
                var s = Sums()
                for q in 0 ..< n {
                    let o = maps.rowOffset(0, h, q)
                    var dsum: Float = 0, ent: Float = 0
                    for k in 0 ..< n {
                        let v = maps.probs[o + k]
                        dsum += v * dist[q * n + k]
                        if v > 0 { ent -= v * logf(v) }
                    }
                    s.distance += Double(dsum); s.entropy += Double(ent) / logKeys
                }
                s.queries = n
                let key = Self.key(.carrier, st.level, b, h)
                sums[key, default: Sums()].add(s)
                keyCounts[key] = n
            }
        }
    }

    // MARK: - Layout identity

    static func signature(_ rec: Recording) -> String {
        var s = "\(rec.config.name) at \(rec.inputHeight) x \(rec.inputWidth)"
        for st in rec.stages {
            s += "; level \(st.level) \(st.height)x\(st.width) w\(st.windowSize) heads \(st.heads)"
                + " blocks \(st.blocks.count) ct \(st.carrierRows)x\(st.carrierCols)"
        }
        return s
    }
}
