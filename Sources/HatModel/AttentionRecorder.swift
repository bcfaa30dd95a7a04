// The attention recorder: an observer passed into `FasterViT.forward`. When absent nothing is
// captured and nothing extra is computed. When present it receives, per transformer block, the
// softmax outputs written straight into its buffers by the attention kernels, plus the propagation
// term, conv-stage energies and the logits, and assembles a `Recording` (a plain value) around the
// forward's ModelGeometry, one per image of the batch: image i's recording is what a forward of
// image i alone records.
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
    /// The last forward pass's recordings, one per image of the batch; empty before any.
    public private(set) var results: [Recording] = []

    private var config: ModelConfig?
    private var images = 1
    private var inputHeight = 0, inputWidth = 0
    /// [images, 3, H, W] as fed (occlusions applied)
    private var input: [Float] = []
    /// Per image.
    private var convStages: [[ConvStageRecord]] = []
    private var stages: [[TransformerStageRecord]] = []
    private var notes: [String] = []
    /// Per image (empty lists when none).
    private var interventions: [[Intervention]] = []
    private var kept: Set<BlockID> = []

    public init(options: RecorderOptions = .init()) { self.options = options }

    /// The recording of the last forward pass (its first image when it was a batch).
    public func recording() throws -> Recording {
        guard let r = results.first else { throw ModelError.configuration("no forward pass was recorded yet") }
        return r
    }

    /// The recordings of the last forward pass, one per image.
    public func recordings() throws -> [Recording] {
        guard !results.isEmpty else { throw ModelError.configuration("no forward pass was recorded yet") }
        return results
    }

    // MARK: - Called by the model

    /// `input` [images, 3, H, W] as the network sees it. The block budget applies per image, so
    /// each image keeps the blocks it would keep alone.
    func begin(config: ModelConfig, input: [Float], images: Int, geometry: ModelGeometry,
               interventions: [[Intervention]]) {
        self.config = config
        self.images = images
        self.interventions = interventions.isEmpty ? Array(repeating: [], count: images) : interventions
        inputHeight = geometry.inputHeight
        inputWidth = geometry.inputWidth
        self.input = input
        convStages = Array(repeating: [], count: images)
        stages = Array(repeating: [], count: images)
        notes = []
        results = []
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

    /// x: the stage's output [images, channels, height, width] as `g` describes it.
    func convStage(_ g: ConvStageGeometry, output x: FloatBuffer) {
        let c = g.channels, pixels = g.height * g.width
        for image in 0..<images {
            var energy = [Float](repeating: 0, count: pixels)
            for ch in 0..<c {
                let row = x.pointer + (image * c + ch) * pixels
                for i in 0..<pixels { energy[i] += row[i] * row[i] }
            }
            for i in 0..<pixels { energy[i] = energy[i].squareRoot() }
            convStages[image].append(ConvStageRecord(geometry: g, energy: energy))
        }
    }

    /// One stage's buffers for the whole batch, image after image.
    final class StageTape {
        let layout: StageGeometry
        let images: Int
        /// Per block: [images, windows, heads, T, T] and [images, heads, N, N]
        var window: [FloatBuffer?], carrier: [FloatBuffer?]
        /// [images, paddedH * paddedW, C]
        var propagation: FloatBuffer?
        let keep: (Int) -> Bool

        init(layout: StageGeometry, images: Int, keep: @escaping (Int) -> Bool) {
            self.layout = layout
            self.images = images
            window = Array(repeating: nil, count: layout.depth)
            carrier = Array(repeating: nil, count: layout.depth)
            self.keep = keep
        }

        func taps(block j: Int, propagate: Bool) -> HATBlock.Taps {
            var taps = HATBlock.Taps()
            let t = layout.tokensPerWindow, heads = layout.heads
            if keep(j) {
                let b = FloatBuffer(count: images * layout.windowCount * heads * t * t, zeroed: false)
                window[j] = b
                taps.windowProbs = b.pointer
            }
            if layout.hasCarriers {
                let n = layout.carrierCount
                let b = FloatBuffer(count: images * heads * n * n, zeroed: false)
                carrier[j] = b
                taps.carrierProbs = b.pointer
            }
            if propagate {
                let b = FloatBuffer(count: images * layout.paddedHeight * layout.paddedWidth * layout.channels)
                propagation = b
                taps.propagation = b.pointer
            }
            return taps
        }
    }

    func beginStage(_ layout: StageGeometry) -> StageTape {
        let kept = self.kept, level = layout.level
        return StageTape(layout: layout, images: images) { kept.contains(BlockID(level: level, block: $0)) }
    }

    func endStage(_ tape: StageTape?) {
        guard let tape else { return }
        let l = tape.layout
        let t = l.tokensPerWindow, n = l.carrierCount
        /// Image i's part of a batch buffer holding `per` floats per image.
        func slice(_ b: FloatBuffer, _ image: Int, _ per: Int) -> [Float] {
            Array(UnsafeBufferPointer(start: b.pointer + image * per, count: per))
        }
        var blocks: [[BlockRecord]] = Array(repeating: [], count: images)
        for j in 0..<tape.window.count {
            for image in 0..<images {
                let win = tape.window[j].map {
                    AttentionMaps(groups: l.windowCount, heads: l.heads, queries: t, keys: t,
                                  probs: slice($0, image, l.windowCount * l.heads * t * t))
                }
                let car = tape.carrier[j].map {
                    AttentionMaps(groups: 1, heads: l.heads, queries: n, keys: n, probs: slice($0, image, l.heads * n * n))
                }
                blocks[image].append(BlockRecord(window: win, carrier: car))
            }
            tape.window[j] = nil  // free as we go: peak memory stays one block above the result
            tape.carrier[j] = nil
        }
        for image in 0..<images {
            let propagation = tape.propagation.map { slice($0, image, l.paddedHeight * l.paddedWidth * l.channels) }
            stages[image].append(TransformerStageRecord(geometry: l, blocks: blocks[image], propagation: propagation))
        }
        if l.hasCarriers && !l.squareCarrierGrid {
            notes.append("level \(l.level): \(l.windowRows)x\(l.windowCols) windows (not square): as in the official any-res code, "
                         + "hat_pos_embed is skipped and windows receive carrier tokens in swapped order (see windowCarriers)")
        }
    }

    func note(_ text: String) { notes.append(text) }

    /// logits [images, classes]
    func finish(logits: [Float]) {
        guard let config else { return }
        let classes = logits.count / images, pixels = 3 * inputHeight * inputWidth
        results = (0..<images).map { image in
            Recording(config: config, inputHeight: inputHeight, inputWidth: inputWidth,
                      input: images == 1 ? input : Array(input[(image * pixels)..<((image + 1) * pixels)]),
                      convStages: convStages[image], stages: stages[image],
                      logits: images == 1 ? logits : Array(logits[(image * classes)..<((image + 1) * classes)]),
                      notes: notes, provenance: Provenance(interventions: interventions[image].map(\.description)))
        }
        input = []
        convStages = []
        stages = []
    }
}
