// Saliency maps over stage 3's tokens (official levels.2; its real, unpadded h x w grid), the maps
// `hatscope faithfulness` scores. Each is one number per token, larger = "more important"; the
// exact definitions (here, in faithfulness.json and in the README) are:
//
// - occlusion: the drop of the clean top-1 class's probability when that one token's 16 x 16
//   input pixels are set to 0 after normalisation (the dataset mean colour); computed by the
//   pipeline (one occluded copy per token) and handed in.
// - rollout: attention rollout through every block of stage 3 inside each window (Abnar &
//   Zuidema 2020, as the rollout view): A_b = window attention of block b averaged over heads,
//   Â_b = rownormalise(0.5 I + 0.5 A_b), R = Â_last ... Â_0 over the window's T = c*c + w*w
//   tokens; a token's value is its column of R averaged over the window's real token queries:
//   how much of the window's representation after the stage traces back to it.
// - carrier: carrier attention received, spread over pooling boxes: each carrier's column of the
//   N x N carrier attention averaged over queries, heads and blocks (the content at each position
//   followed as the statistics do for non-square grids); a token's value is the mean over the
//   carriers whose pooling box holds the token's centre (0 where none does).
// - lastBlockStage3: the last block of stage 3, window attention averaged over heads; a token's
//   value is its column averaged over the window's real token queries.
// - lastBlockStage4: the same for the last block of stage 4 (one token per 2 x 2 stage-3 tokens at
//   224), each stage-3 token taking the value of the stage-4 token holding its centre.
// - random: uniform values in [0, 1) from SplitMix64 seeded with the run's seed and the image's
//   place in the input list: the same map for an image in every run with that seed.
import Foundation
import HatRecording

public enum SaliencySource: String, CaseIterable, Sendable, Codable {
    case occlusion, rollout, carrier
    case lastBlockStage3 = "last_block_stage3"
    case lastBlockStage4 = "last_block_stage4"
    case random

    /// One sentence: how the map is made.
    public var definition: String {
        switch self {
        case .occlusion:
            return "drop of the clean top-1 class probability when that stage-3 token's input pixels are set to 0 after normalisation (the mean colour); one occluded copy per token"
        case .rollout:
            return "attention rollout through every block of stage 3 inside each window (A_b = window attention of block b averaged over heads, rownormalise(0.5 I + 0.5 A_b), multiplied over the blocks); a token's value is its column averaged over the window's real token queries"
        case .carrier:
            return "stage-3 carrier attention received: each carrier's column of the carrier attention averaged over queries, heads and blocks, spread over its pooling box; a token takes the mean over the boxes holding its centre (0 where none does)"
        case .lastBlockStage3:
            return "window attention of the last block of stage 3 averaged over heads; a token's value is the attention it receives averaged over its window's real token queries"
        case .lastBlockStage4:
            return "attention of the last block of stage 4 averaged over heads, received by each stage-4 token averaged over the real token queries; each stage-3 token takes the value of the stage-4 token holding its centre"
        case .random:
            return "uniform random values in [0, 1) (SplitMix64 seeded with --seed and the image's place in the sorted input list)"
        }
    }
}

/// One map over stage 3's real token grid, row-major [rows, cols].
public struct SaliencyMap: Sendable, Equatable {
    public var rows: Int, cols: Int
    public var values: [Float]
    public init(rows: Int, cols: Int, values: [Float]) {
        precondition(values.count == rows * cols, "saliency map: size mismatch")
        self.rows = rows; self.cols = cols; self.values = values
    }
}

public enum SaliencyError: Error, Equatable, CustomStringConvertible {
    case notApplicable(SaliencySource, String)
    public var description: String {
        switch self {
        case let .notApplicable(s, why): return "\(s.rawValue) saliency does not apply: \(why)"
        }
    }
}

public enum SaliencyMaps {
    /// Stage 3 of the recording (official levels.2).
    static func stage3(_ rec: Recording) throws -> TransformerStageRecord {
        guard let st = rec.stages.first(where: { $0.level == 2 }) else {
            throw SaliencyError.notApplicable(.rollout, "the recording has no stage 3")
        }
        return st
    }

    /// The stage-3 token grid (rows, cols) of a recording.
    public static func grid(_ rec: Recording) throws -> (rows: Int, cols: Int) {
        let st = try stage3(rec)
        return (st.height, st.width)
    }

    /// The map of an attention source (rollout, carrier, lastBlockStage3, lastBlockStage4).
    public static func attention(_ source: SaliencySource, _ rec: Recording) throws -> SaliencyMap {
        let st = try stage3(rec)
        switch source {
        case .rollout: return try rollout(st)
        case .carrier: return try carrier(st)
        case .lastBlockStage3: return try received(st, block: st.blocks.count - 1, source: source)
        case .lastBlockStage4:
            guard let s4 = rec.stages.first(where: { $0.level == 3 }) else {
                throw SaliencyError.notApplicable(source, "the recording has no stage 4")
            }
            let m4 = try received(s4, block: s4.blocks.count - 1, source: source)
            var out = [Float](repeating: 0, count: st.height * st.width)
            for r in 0 ..< st.height {
                for c in 0 ..< st.width {
                    let rect = st.geometry.tokenRect(row: r, col: c)
                    let r4 = min(s4.height - 1, Int(rect.centerY) / s4.stride)
                    let c4 = min(s4.width - 1, Int(rect.centerX) / s4.stride)
                    out[r * st.width + c] = m4.values[r4 * s4.width + c4]
                }
            }
            return SaliencyMap(rows: st.height, cols: st.width, values: out)
        case .occlusion, .random:
            preconditionFailure("\(source) is not an attention map")
        }
    }

    /// The seeded random map for the image at `index` of the input list.
    public static func random(rows: Int, cols: Int, seed: UInt64, index: Int) -> SaliencyMap {
        var state = seed ^ (UInt64(truncatingIfNeeded: index) &* 0x9E37_79B9_7F4A_7C15)
        var values = [Float](repeating: 0, count: rows * cols)
        for i in values.indices {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            values[i] = Float(z >> 40) / Float(1 << 24)
        }
        return SaliencyMap(rows: rows, cols: cols, values: values)
    }

    // MARK: - Attention sources

    /// Window attention of block `b` averaged over heads, [T, T] for window `k`.
    static func headMean(_ maps: AttentionMaps, window k: Int) -> [Float] {
        let t = maps.keys
        var m = [Float](repeating: 0, count: t * t)
        for h in 0 ..< maps.heads {
            maps.withMatrix(group: k, head: h) { p in  // (T, T)
                for i in 0 ..< t * t { m[i] += p[i] }
            }
        }
        let inv = 1 / Float(maps.heads)
        for i in m.indices { m[i] *= inv }
        return m
    }

    /// For every real token: `matrix(k)` [T, T]'s column of the token averaged over the window's
    /// real token queries.
    static func columnMeans(_ st: TransformerStageRecord, _ matrix: (Int) throws -> [Float]) rethrows -> [Float] {
        let cc = st.carriersPerWindow, ww = st.windowSize * st.windowSize, t = cc + ww
        var out = [Float](repeating: 0, count: st.height * st.width)
        for k in 0 ..< st.windowCount {
            let real = (0 ..< ww).filter { let p = st.geometry.tokenPosition(window: k, local: $0); return st.geometry.isReal(row: p.row, col: p.col) }
            guard !real.isEmpty else { continue }
            let m = try matrix(k)
            for key in real {
                var s: Float = 0
                for q in real { s += m[(cc + q) * t + cc + key] }
                let p = st.geometry.tokenPosition(window: k, local: key)
                out[p.row * st.width + p.col] = s / Float(real.count)
            }
        }
        return out
    }

    static func received(_ st: TransformerStageRecord, block b: Int, source: SaliencySource) throws -> SaliencyMap {
        guard b >= 0, let maps = st.blocks[b].window else {
            throw SaliencyError.notApplicable(source, "block \(b) of stage \(st.level + 1) was not recorded")
        }
        return SaliencyMap(rows: st.height, cols: st.width, values: columnMeans(st) { headMean(maps, window: $0) })
    }

    static func rollout(_ st: TransformerStageRecord) throws -> SaliencyMap {
        let t = st.tokensPerWindow
        for (b, block) in st.blocks.enumerated() where block.window == nil {
            throw SaliencyError.notApplicable(.rollout, "block \(b) of stage 3 was not recorded")
        }
        let values = columnMeans(st) { k in
            // R = Â_last ... Â_0, built left to right.
            var r = [Float](repeating: 0, count: t * t)
            for i in 0 ..< t { r[i * t + i] = 1 }
            for block in st.blocks.reversed() {
                let a = RolloutView.augmented(headMean(block.window!, window: k), t)
                var next = [Float](repeating: 0, count: t * t)
                for i in 0 ..< t {
                    for j in 0 ..< t where r[i * t + j] != 0 {
                        let v = r[i * t + j], o = j * t
                        for l in 0 ..< t { next[i * t + l] += v * a[o + l] }
                    }
                }
                r = next
            }
            return r
        }
        return SaliencyMap(rows: st.height, cols: st.width, values: values)
    }

    static func carrier(_ st: TransformerStageRecord) throws -> SaliencyMap {
        guard st.hasCarriers, st.carrierCount > 0 else {
            throw SaliencyError.notApplicable(.carrier, "stage 3 has no carrier tokens")
        }
        let n = st.carrierCount
        let origins = HeadStatisticsAccumulator.carrierOrigins(st)
        var perCarrier = [Double](repeating: 0, count: n)   // by carrier content (grid index of origin)
        var counted = 0
        for (b, block) in st.blocks.enumerated() {
            guard let maps = block.carrier, maps.keys == n, maps.queries == n else {
                throw SaliencyError.notApplicable(.carrier, "carrier attention of block \(b) of stage 3 was not recorded")
            }
            for h in 0 ..< maps.heads {
                maps.withMatrix(group: 0, head: h) { p in  // (N, N)
                    for j in 0 ..< n {
                        var s = 0.0
                        for i in 0 ..< n { s += Double(p[i * n + j]) }
                        perCarrier[origins[b][j]] += s / Double(n)
                    }
                }
                counted += 1
            }
        }
        var out = [Float](repeating: 0, count: st.height * st.width)
        for r in 0 ..< st.height {
            for c in 0 ..< st.width {
                let rect = st.geometry.tokenRect(row: r, col: c)
                var s = 0.0, k = 0
                for (i, ct) in st.carriers.enumerated() {
                    let box = ct.box
                    if rect.centerX >= Double(box.x0), rect.centerX < Double(box.x0 + box.width),
                       rect.centerY >= Double(box.y0), rect.centerY < Double(box.y0 + box.height) {
                        s += perCarrier[i] / Double(counted); k += 1
                    }
                }
                out[r * st.width + c] = k > 0 ? Float(s / Double(k)) : 0
            }
        }
        return SaliencyMap(rows: st.height, cols: st.width, values: out)
    }
}
