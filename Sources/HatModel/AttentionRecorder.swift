// The attention recorder: an observer passed into `FasterViT.forward`. When absent nothing is
// captured and nothing extra is computed. When present it receives, per transformer block, the
// softmax outputs written straight into its buffers by the attention kernels, plus the propagation
// term, conv-stage energies and the logits, and assembles a `Recording` (a plain value) around the
// forward's ModelGeometry.
//
// Memory: window attention maps grow with T^2 (faster_vit_4_21k_768: 16 x 2304^2 floats = 340 MB
// per level-2 block). `RecorderOptions.blocks` keeps chosen blocks only; otherwise, when all maps
// would exceed `maxAttentionBytes`, only the last block of each stage keeps its window maps.
// Carrier maps (small) are always kept. What was dropped is listed in `Recording.notes`.
import Foundation
import HatCore
import HatRecording

/// A transformer block: official level index (2 or 3) and block index inside the level.
public struct BlockID: Hashable, Sendable, CustomStringConvertible {
    public var level: Int, block: Int
    public init(level: Int, block: Int) { self.level = level; self.block = block }
    public var description: String { "levels.\(level).blocks.\(block)" }
}

public struct RecorderOptions: Sendable {
    /// Blocks whose window attention is kept; nil = all (subject to `maxAttentionBytes`).
    public var blocks: Set<BlockID>?
    /// Budget for all window attention maps together when `blocks` is nil.
    public var maxAttentionBytes: Int
    public init(blocks: Set<BlockID>? = nil, maxAttentionBytes: Int = 1 << 30) {
        self.blocks = blocks
        self.maxAttentionBytes = maxAttentionBytes
    }
}

public final class AttentionRecorder: @unchecked Sendable {
    public let options: RecorderOptions
    /// The last forward pass's recording, nil before any.
    public private(set) var result: Recording?

    private var config: ModelConfig?
    private var inputHeight = 0, inputWidth = 0
    private var input: [Float] = []
    private var convStages: [ConvStageRecord] = []
    private var stages: [TransformerStageRecord] = []
    private var notes: [String] = []
    private var kept: Set<BlockID> = []

    public init(options: RecorderOptions = .init()) { self.options = options }

    /// The recording of the last forward pass.
    public func recording() throws -> Recording {
        guard let r = result else { throw ModelError.configuration("no forward pass was recorded yet") }
        return r
    }

    // MARK: - Called by the model

    func begin(config: ModelConfig, input: Tensor, geometry: ModelGeometry) {
        self.config = config
        inputHeight = input.shape[2]
        inputWidth = input.shape[3]
        self.input = input.data
        convStages = []
        stages = []
        notes = []
        result = nil
        var all: [(BlockID, Int)] = []
        for l in geometry.stages {
            let bytes = l.windowCount * l.heads * l.tokensPerWindow * l.tokensPerWindow * 4
            for j in 0..<l.depth { all.append((BlockID(level: l.level, block: j), bytes)) }
        }
        if let chosen = options.blocks {
            kept = chosen
        } else {
            let total = all.reduce(0) { $0 + $1.1 }
            if total <= options.maxAttentionBytes {
                kept = Set(all.map { $0.0 })
            } else {
                kept = Set(geometry.stages.compactMap { l in
                    l.depth > 0 ? BlockID(level: l.level, block: l.depth - 1) : nil
                })
                notes.append("window attention of all \(all.count) blocks would take \(total >> 20) MB "
                             + "(budget \(options.maxAttentionBytes >> 20) MB): kept only the last block of each stage")
            }
        }
        let dropped = all.map { $0.0 }.filter { !kept.contains($0) }
        if !dropped.isEmpty {
            notes.append("window attention not recorded for: " + dropped.map(\.description).joined(separator: ", "))
        }
    }

    /// x: the stage's output [channels, height, width] as `g` describes it.
    func convStage(_ g: ConvStageGeometry, output x: FloatBuffer) {
        let c = g.channels, pixels = g.height * g.width
        var energy = [Float](repeating: 0, count: pixels)
        for ch in 0..<c {
            let row = x.pointer + ch * pixels
            for i in 0..<pixels { energy[i] += row[i] * row[i] }
        }
        for i in 0..<pixels { energy[i] = energy[i].squareRoot() }
        convStages.append(ConvStageRecord(geometry: g, energy: energy))
    }

    final class StageTape {
        let layout: StageGeometry
        var window: [FloatBuffer?], carrier: [FloatBuffer?]
        var propagation: FloatBuffer?
        let keep: (Int) -> Bool

        init(layout: StageGeometry, keep: @escaping (Int) -> Bool) {
            self.layout = layout
            window = Array(repeating: nil, count: layout.depth)
            carrier = Array(repeating: nil, count: layout.depth)
            self.keep = keep
        }

        func taps(block j: Int, propagate: Bool) -> HATBlock.Taps {
            var taps = HATBlock.Taps()
            let t = layout.tokensPerWindow, heads = layout.heads
            if keep(j) {
                let b = FloatBuffer(count: layout.windowCount * heads * t * t, zeroed: false)
                window[j] = b
                taps.windowProbs = b.pointer
            }
            if layout.hasCarriers {
                let n = layout.carrierCount
                let b = FloatBuffer(count: heads * n * n, zeroed: false)
                carrier[j] = b
                taps.carrierProbs = b.pointer
            }
            if propagate {
                let b = FloatBuffer(count: layout.paddedHeight * layout.paddedWidth * layout.channels)
                propagation = b
                taps.propagation = b.pointer
            }
            return taps
        }
    }

    func beginStage(_ layout: StageGeometry) -> StageTape {
        let kept = self.kept, level = layout.level
        return StageTape(layout: layout) { kept.contains(BlockID(level: level, block: $0)) }
    }

    func endStage(_ tape: StageTape?) {
        guard let tape else { return }
        let l = tape.layout
        var blocks: [BlockRecord] = []
        let t = l.tokensPerWindow, n = l.carrierCount
        for j in 0..<tape.window.count {
            let win = tape.window[j].map {
                AttentionMaps(groups: l.windowCount, heads: l.heads, queries: t, keys: t, probs: $0.array)
            }
            tape.window[j] = nil  // free as we go: peak memory stays one block above the result
            let car = tape.carrier[j].map {
                AttentionMaps(groups: 1, heads: l.heads, queries: n, keys: n, probs: $0.array)
            }
            tape.carrier[j] = nil
            blocks.append(BlockRecord(window: win, carrier: car))
        }
        stages.append(TransformerStageRecord(geometry: l, blocks: blocks, propagation: tape.propagation?.array))
        if l.hasCarriers && !l.squareCarrierGrid {
            notes.append("level \(l.level): \(l.windowRows)x\(l.windowCols) windows (not square): as in the official any-res code, "
                         + "hat_pos_embed is skipped and windows receive carrier tokens in swapped order (see windowCarriers)")
        }
    }

    func note(_ text: String) { notes.append(text) }

    func finish(logits: [Float]) {
        guard let config else { return }
        result = Recording(config: config, inputHeight: inputHeight, inputWidth: inputWidth, input: input,
                           convStages: convStages, stages: stages, logits: logits, notes: notes)
        input = []
        convStages = []
        stages = []
    }
}
