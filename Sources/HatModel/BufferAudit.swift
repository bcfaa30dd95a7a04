// How a checkpoint's derived buffers compare with what the model computes, for `info`, `record`
// and the explorer:
// - relative_coords_table, relative_position_index (read by the official forward, see
//   RelativePositionBuffers.swift) against the geometry of the grid they belong to;
// - relative_bias caches (what the official deploy mode adds instead of running cpb_mlp: the
//   attention biases [1, heads, T, T] and the position embeddings [1, tokens, C]) against what the
//   position MLPs give with the buffers in use.
// A buffer shaped for another grid is listed as such: the model recomputes it (the official any-res
// loader skips it).
import Foundation
import HatCore
import HatRecording

public struct BufferAudit: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case index = "relative_position_index"
        case coords = "relative_coords_table"
        case cache = "relative_bias"
    }

    /// One stored buffer.
    public struct Entry: Sendable, Equatable {
        /// Official state_dict name.
        public var key: String
        public var kind: Kind
        /// The module holding it: "attn", "hat_attn", "pos_embed" or "hat_pos_embed".
        public var module: String
        /// "levels.2.blocks.0"
        public var block: String
        /// What it was compared with, in words ("7x7 window", "4x4 carrier grid").
        public var geometry: String
        /// Values compared, and how many differ (index: any difference; floats: more than
        /// `tolerance`, see below).
        public var entries: Int
        public var differing: Int
        public var maxDifference: Float
        /// Index: every differing entry is one below the geometry's (an EMA truncation).
        public var oneBelow: Bool
        /// relative_bias: all zero (saved before any forward filled it).
        public var allZero: Bool
        /// Index: entries outside the bias table (the official lookup fails on them).
        public var outsideTable = 0
        /// Set when not compared: the buffer has the shape of another grid (recomputed).
        public var otherShape: String?
    }

    public var entries: [Entry]
    /// The choice the comparison of relative_bias caches was made under.
    public var choice: BufferChoice

    /// Float differences up to this (absolute, or relative to values above 1) count as equal: the
    /// last ulps of log2 and of the MLP sums differ between libraries.
    public static let tolerance: Float = 1e-5

    /// Compares every stored buffer of `tensors` (the chosen state dict, all entries) with the
    /// geometry of `config` at an input of `resolution` [H, W].
    public init(config: ModelConfig, tensors: [String: Tensor], resolution: [Int], choice: BufferChoice) {
        self.choice = choice
        entries = []
        let source = DictionaryWeightSource(WeightMapping.modelTensors(tensors, buffers: choice))
        let root = WeightReader(source)
        let geometry = ModelGeometry(config: config, inputHeight: resolution[0], inputWidth: resolution[1])
        for layout in geometry.stages {
            let level = layout.level
            let w = layout.windowSize, c = layout.channels, heads = layout.heads
            for j in 0..<config.depths[level] {
                let block = "levels.\(level).blocks.\(j)"
                let b = root.child(block)
                compareRelative(tensors, block: block, module: "attn", side: w, geometry: "\(w)x\(w) window")
                let t = layout.tokensPerWindow
                compareCache(tensors, key: "\(block).attn.pos_emb_funct.relative_bias", block: block, module: "attn",
                             geometry: "\(w)x\(w) window", shape: [1, heads, t, t]) {
                    let bias = try RelativePositionBias(b.child("attn.pos_emb_funct"), heads: heads).bias(side: w)
                    return { h, out in bias.add(to: out, head: h, tokens: t) }
                }
                compareCache(tensors, key: "\(block).pos_embed.relative_bias", block: block, module: "pos_embed",
                             geometry: "\(w)x\(w) window", shape: [1, w * w, c]) {
                    let embed = try PositionMLP(b.child("pos_embed"), outputs: c).grid(side: w)
                    return { _, out in out.update(from: embed, count: embed.count) }
                }
                guard layout.hasCarriers else { continue }
                let side = layout.carrierBiasSide, n = layout.carrierCount
                let grid = layout.carrierRows == layout.carrierCols
                    ? "\(side)x\(side) carrier grid" : "\(side)x\(side) bias grid of the \(layout.carrierRows)x\(layout.carrierCols) carrier grid"
                compareRelative(tensors, block: block, module: "hat_attn", side: side, geometry: grid)
                compareCache(tensors, key: "\(block).hat_attn.pos_emb_funct.relative_bias", block: block, module: "hat_attn",
                             geometry: grid, shape: [1, heads, n, n]) {
                    let bias = try RelativePositionBias(b.child("hat_attn.pos_emb_funct"), heads: heads).bias(side: side)
                    return { h, out in bias.add(to: out, head: h, tokens: n) }
                }
                if layout.squareCarrierGrid {
                    compareCache(tensors, key: "\(block).hat_pos_embed.relative_bias", block: block, module: "hat_pos_embed",
                                 geometry: grid, shape: [1, n, c]) {
                        let embed = try PositionMLP(b.child("hat_pos_embed"), outputs: c).grid(side: side)
                        return { _, out in out.update(from: embed, count: embed.count) }
                    }
                }
            }
        }
    }

    // MARK: comparisons

    private mutating func compareRelative(_ tensors: [String: Tensor], block: String, module: String, side: Int, geometry: String) {
        let prefix = "\(block).\(module).pos_emb_funct."
        if let t = tensors[prefix + Kind.coords.rawValue] {
            var e = entry(prefix + Kind.coords.rawValue, .coords, module, block, geometry, count: t.data.count)
            if RelativeGeometry.coordsSide(t.shape) == side {
                let want = RelativeGeometry.coords(side: side)
                for (a, b) in zip(t.data, want) {
                    let d = abs(a - b)
                    if !(d <= Self.tolerance * max(1, abs(b))) { e.differing += 1 }
                    e.maxDifference = d.isNaN ? .nan : max(e.maxDifference, d)
                }
            } else {
                e.otherShape = otherShape(t.shape, side: RelativeGeometry.coordsSide(t.shape), want: side)
            }
            entries.append(e)
        }
        if let t = tensors[prefix + Kind.index.rawValue] {
            var e = entry(prefix + Kind.index.rawValue, .index, module, block, geometry, count: t.data.count)
            if RelativeGeometry.indexSide(t.shape) == side {
                let want = RelativeGeometry.index(side: side)
                e.oneBelow = true
                let n = Float(want.count == 0 ? 0 : (2 * side - 1) * (2 * side - 1))
                for (a, b) in zip(t.data, want) {
                    // as copy_ into int64 leaves it (truncation toward zero)
                    let v = a.rounded(.towardZero), d = v - Float(b)
                    if !(v >= -n && v < n) { e.outsideTable += 1 }
                    guard d != 0 else { continue }
                    e.differing += 1
                    e.maxDifference = d.isNaN ? .nan : max(e.maxDifference, abs(d))
                    if d != -1 { e.oneBelow = false }
                }
                if e.differing == 0 { e.oneBelow = false }
            } else {
                e.otherShape = otherShape(t.shape, side: RelativeGeometry.indexSide(t.shape), want: side)
            }
            entries.append(e)
        }
    }

    /// `make()` builds, only when the cache is stored with the right shape, a function that
    /// writes head `h`'s values (all of them for a position embedding, h = 0) into a zeroed buffer
    /// of one head's size. A module whose weights are unusable is left out (the load says why).
    private mutating func compareCache(_ tensors: [String: Tensor], key: String, block: String, module: String,
                                       geometry: String, shape: [Int],
                                       make: () throws -> (Int, UnsafeMutablePointer<Float>) -> Void) {
        guard let t = tensors[key] else { return }
        var e = entry(key, .cache, module, block, geometry, count: t.data.count)
        guard t.shape == shape else {
            e.otherShape = "has shape \(describe(shape: t.shape)), this input needs \(describe(shape: shape))"
            entries.append(e)
            return
        }
        guard let compute = try? make() else { return }
        e.allZero = t.data.allSatisfy { $0 == 0 }
        let heads = module.hasSuffix("attn") ? shape[1] : 1
        let per = t.data.count / heads
        let scratch = FloatBuffer(count: per)   // one head's [T, T], or the [tokens, C] embedding
        t.data.withUnsafeBufferPointer { stored in
            for h in 0..<heads {
                scratch.pointer.update(repeating: 0, count: per)
                compute(h, scratch.pointer)
                for i in 0..<per {
                    let a = stored[h * per + i], b = scratch.pointer[i]
                    let d = abs(a - b)
                    if !(d <= Self.tolerance * max(1, abs(b))) { e.differing += 1 }
                    e.maxDifference = d.isNaN ? .nan : max(e.maxDifference, d)
                }
            }
        }
        entries.append(e)
    }

    private func entry(_ key: String, _ kind: Kind, _ module: String, _ block: String, _ geometry: String, count: Int) -> Entry {
        Entry(key: key, kind: kind, module: module, block: block, geometry: geometry, entries: count, differing: 0,
              maxDifference: 0, oneBelow: false, allZero: false, otherShape: nil)
    }

    private func otherShape(_ shape: [Int], side: Int?, want: Int) -> String {
        let what = side.map { "is shaped for a \($0)x\($0) grid" } ?? "has shape \(describe(shape: shape))"
        return "\(what), this input needs \(want)x\(want)"
    }
}

// MARK: report

extension BufferAudit {
    /// Buffers read by the forward that differ from the geometry and are compared (same shape).
    var differingForwardBuffers: [Entry] {
        entries.filter { $0.kind != .cache && $0.otherShape == nil && $0.differing > 0 }
    }

    /// Whether any buffer the forward reads differs from the geometry.
    public var forwardBuffersDiffer: Bool { !differingForwardBuffers.isEmpty }

    /// The report for `info`: per buffer kind and grid, how many entries differ and by how much;
    /// how many equal; what is shaped for another input; then the relative_bias caches.
    /// `storedTypes` maps keys to their stored element type names (for the half-precision hint).
    public func lines(storedTypes: [String: String] = [:]) -> [String] {
        var out: [String] = []
        let forward = entries.filter { $0.kind != .cache }
        if forward.isEmpty {
            out.append("no relative_coords_table / relative_position_index stored: computed from the geometry")
        }
        for group in groups(differingForwardBuffers) { out.append(line(group, storedTypes: storedTypes)) }
        let equal = forward.filter { $0.otherShape == nil && $0.differing == 0 }
        if !equal.isEmpty {
            out.append("\(equal.count) of \(forward.count) stored relative_coords_table / relative_position_index buffers equal the geometry")
        }
        for group in groups(entries.filter { $0.otherShape != nil }) {
            let e = group[0]
            out.append("\(e.kind.rawValue) in \(modules(group)) \(e.otherShape!): "
                       + (e.kind == .cache ? "never read" : "recomputed from the geometry, as the official any-res loader (strict=False) skips it"))
        }
        let caches = entries.filter { $0.kind == .cache && $0.otherShape == nil }
        guard !caches.isEmpty else { return out }
        out.append("relative_bias caches (what the official deploy mode adds instead of running the position MLPs; "
                   + "neither hatscope nor the official non-deploy forward reads them):")
        let zero = caches.filter(\.allZero)
        if !zero.isEmpty { out.append("  \(zero.count) of \(caches.count) are all zero (saved before any forward filled them)") }
        for group in groups(caches.filter { $0.differing > 0 && !$0.allZero }) {
            let e = group[0]
            out.append("  \(e.module): \(count(group)) of \(e.entries) values differ from what its MLP gives in \(modules(group)), "
                       + "by up to \(Self.format(group.map(\.maxDifference).max() ?? 0))")
        }
        let same = caches.filter { $0.differing == 0 }
        if !same.isEmpty { out.append("  \(same.count) of \(caches.count) equal what the position MLPs give") }
        return out
    }

    /// One line for `record` and the explorer.
    public func summary() -> String {
        let differ = differingForwardBuffers
        let stored = entries.contains { $0.kind != .cache && $0.otherShape == nil }
        guard !differ.isEmpty else {
            switch (choice, stored) {
            case (_, false): return "buffers: none stored for this input, computed from the geometry"
            case (.stored, true): return "buffers: the checkpoint's, equal to the geometry"
            case (.geometry, true): return "buffers: recomputed from the geometry (--buffers geometry); the checkpoint's are equal to it"
            }
        }
        let what = [Kind.index, .coords].compactMap { kind -> String? in
            let g = differ.filter { $0.kind == kind }
            guard !g.isEmpty else { return nil }
            let amount = kind == .index
                ? "up to \(g.map(\.differing).max() ?? 0) entries" + (g.allSatisfy(\.oneBelow) ? ", one below: EMA-truncated" : "")
                : "by up to \(Self.format(g.map(\.maxDifference).max() ?? 0))"
            return "\(kind.rawValue) in \(g.count) module\(g.count == 1 ? "" : "s") (\(amount))"
        }.joined(separator: ", ")
        switch choice {
        case .stored:
            return "buffers: the checkpoint's, used as the official forward uses them; they differ from the geometry: \(what) (--buffers geometry recomputes them)"
        case .geometry:
            return "buffers: recomputed from the geometry (--buffers geometry); the checkpoint's differ: \(what)"
        }
    }

    /// Entries grouped by kind, module, grid and size (an unusable index on its own), in
    /// first-seen order.
    private func groups(_ list: [Entry]) -> [[Entry]] {
        var order: [String] = []
        var by: [String: [Entry]] = [:]
        for e in list {
            let k = "\(e.kind.rawValue)|\(e.module)|\(e.geometry)|\(e.entries)|\(e.otherShape ?? "")|\(e.outsideTable > 0)"
            if by[k] == nil { order.append(k) }
            by[k, default: []].append(e)
        }
        // Read buffers first (index, then table), caches last.
        let rank: [Kind: Int] = [.index: 0, .coords: 1, .cache: 2]
        return order.map { by[$0]! }.enumerated()
            .sorted { (rank[$0.element[0].kind]!, $0.offset) < (rank[$1.element[0].kind]!, $1.offset) }.map(\.element)
    }

    private func line(_ g: [Entry], storedTypes: [String: String]) -> String {
        let e = g[0]
        let maxd = Self.format(g.map(\.maxDifference).max() ?? 0)
        let types = Set(g.compactMap { storedTypes[$0.key] })
        let half = types.count == 1 && ["float16", "bfloat16"].contains(types.first!) ? " (stored as \(types.first!))" : ""
        let head = "\(e.kind.rawValue): \(count(g)) of \(e.entries) \(e.kind == .index ? "entries" : "values") differ "
            + "from the \(e.geometry) geometry in \(modules(g))"
        let outside = g.map(\.outsideTable).reduce(0, +)
        if outside > 0 {
            return head + ", \(outside) of them outside the bias table: the official forward fails on it, so does hatscope (--buffers geometry recomputes it)"
        }
        if e.kind == .index && g.allSatisfy(\.oneBelow) {
            return head + ", each one below it (typical of an EMA that blended integer buffers: timm's ModelEmaV2 truncates them)"
        }
        return head + ", by up to \(maxd)\(half)"
    }

    /// "661" when every module has as many differences, else "up to 661".
    private func count(_ g: [Entry]) -> String {
        let counts = Set(g.map(\.differing))
        return (counts.count == 1 ? "" : "up to ") + "\(counts.max() ?? 0)"
    }

    /// "2 blocks (levels.2.blocks.0.attn, levels.2.blocks.1.attn)", at most three named.
    private func modules(_ g: [Entry]) -> String {
        let names = g.map { "\($0.block).\($0.module)" }
        let shown = names.prefix(3).joined(separator: ", ") + (names.count > 3 ? ", ..." : "")
        return "\(names.count) block\(names.count == 1 ? "" : "s") (\(shown))"
    }

    static func format(_ v: Float) -> String {
        if v.isNaN { return "nan" }
        if v == 0 { return "0" }
        if v >= 0.01 && v < 1000 { return String(format: "%.3g", Double(v)) }
        return String(format: "%.2g", Double(v))
    }
}
