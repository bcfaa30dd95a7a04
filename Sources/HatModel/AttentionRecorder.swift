// The attention recorder: an observer passed into `FasterViT.forward`. When absent nothing is
// captured and nothing extra is computed. When present it receives, per transformer block, the
// softmax outputs written straight into its buffers by the attention kernels, plus geometry, the
// propagation term, conv-stage energies and the logits, and assembles a `Recording` (a plain value)
// per image of the batch: image i's recording is exactly what a forward of image i alone records.
//
// Memory: window attention maps grow with T^2 (faster_vit_4_21k_768: 16 x 2304^2 floats = 340 MB
// per level-2 block). `RecorderOptions.blocks` keeps chosen blocks only; otherwise, when all maps
// would exceed `maxAttentionBytes`, only the last block of each stage keeps its window maps.
// Carrier maps (small) are always kept. What was dropped is listed in `Recording.notes`.
import Foundation
import HatCore

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
    func begin(config: ModelConfig, input: [Float], shape: [Int], layouts: [StageLayout], heads: [Int], depths: [Int]) {
        self.config = config
        images = shape[0]
        inputHeight = shape[2]
        inputWidth = shape[3]
        self.input = input
        convStages = Array(repeating: [], count: images)
        stages = Array(repeating: [], count: images)
        notes = []
        results = []
        var all: [(BlockID, Int)] = []
        for (i, l) in layouts.enumerated() {
            let bytes = l.windowCount * heads[i] * l.tokensPerWindow * l.tokensPerWindow * 4
            for j in 0..<depths[i] { all.append((BlockID(level: l.level, block: j), bytes)) }
        }
        if let chosen = options.blocks {
            kept = chosen
        } else {
            let total = all.reduce(0) { $0 + $1.1 }
            if total <= options.maxAttentionBytes {
                kept = Set(all.map { $0.0 })
            } else {
                kept = Set(layouts.enumerated().compactMap { i, l in
                    depths[i] > 0 ? BlockID(level: l.level, block: depths[i] - 1) : nil
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

    /// x [images, C, h, w]
    func convStage(level: Int, output x: FloatBuffer, channels c: Int, height h: Int, width w: Int) {
        let pixels = h * w
        for image in 0..<images {
            var energy = [Float](repeating: 0, count: pixels)
            for ch in 0..<c {
                let row = x.pointer + (image * c + ch) * pixels
                for i in 0..<pixels { energy[i] += row[i] * row[i] }
            }
            for i in 0..<pixels { energy[i] = energy[i].squareRoot() }
            convStages[image].append(ConvStageRecord(level: level, stride: 1 << (level + 2), height: h, width: w,
                                                     channels: c, energy: energy))
        }
    }

    /// One stage's buffers for the whole batch, image after image.
    final class StageTape {
        let level: Int, layout: StageLayout, heads: Int, channels: Int, images: Int
        /// Per block: [images, windows, heads, T, T] and [images, heads, N, N]
        var window: [FloatBuffer?], carrier: [FloatBuffer?]
        /// [images, paddedH * paddedW, C]
        var propagation: FloatBuffer?
        let keep: (Int) -> Bool

        init(level: Int, layout: StageLayout, heads: Int, channels: Int, depth: Int, images: Int, keep: @escaping (Int) -> Bool) {
            self.level = level; self.layout = layout; self.heads = heads; self.channels = channels; self.images = images
            window = Array(repeating: nil, count: depth)
            carrier = Array(repeating: nil, count: depth)
            self.keep = keep
        }

        func taps(block j: Int, propagate: Bool) -> HATBlock.Taps {
            var taps = HATBlock.Taps()
            let t = layout.tokensPerWindow
            if keep(j) {
                let b = FloatBuffer(count: images * layout.windowCount * heads * t * t, zeroed: false)
                window[j] = b
                taps.windowProbs = b.pointer
            }
            if layout.hierarchical {
                let n = layout.carrierCount
                let b = FloatBuffer(count: images * heads * n * n, zeroed: false)
                carrier[j] = b
                taps.carrierProbs = b.pointer
            }
            if propagate {
                let b = FloatBuffer(count: images * layout.paddedHeight * layout.paddedWidth * channels)
                propagation = b
                taps.propagation = b.pointer
            }
            return taps
        }
    }

    func beginStage(level: Int, layout: StageLayout, heads: Int, channels: Int, depth: Int) -> StageTape {
        let kept = self.kept
        return StageTape(level: level, layout: layout, heads: heads, channels: channels, depth: depth, images: images) {
            kept.contains(BlockID(level: level, block: $0))
        }
    }

    func endStage(_ tape: StageTape?) {
        guard let tape else { return }
        let l = tape.layout
        let stride = 1 << (tape.level + 2)
        let w = l.window
        var rects: [PixelRect] = []
        for a in 0..<l.srH {
            for b in 0..<l.srW {
                rects.append(PixelRect(x0: b * w * stride, y0: a * w * stride, width: w * stride, height: w * stride))
            }
        }
        var carriers: [CarrierGeometry] = []
        var windowCarriers: [[Int]] = Array(repeating: [], count: l.windowCount)
        if l.hierarchical {
            let c = l.ctSize
            for r in 0..<l.carrierRows {
                for q in 0..<l.carrierCols {
                    let box = PixelRect(x0: q * l.poolStrideW * stride, y0: r * l.poolStrideH * stride,
                                        width: l.poolKernelW * stride, height: l.poolKernelH * stride)
                    carriers.append(CarrierGeometry(row: r, col: q, window: (r / c) * l.srW + q / c, box: box))
                }
            }
            for k in 0..<l.windowCount {
                windowCarriers[k] = (0..<(c * c)).map {
                    Windows.carrierSwappedSource(window: k, token: $0, ctSize: c, windowRows: l.srH)
                }
            }
        }
        let t = l.tokensPerWindow, n = l.carrierCount
        /// Image i's part of a batch buffer holding `per` floats per image.
        func slice(_ b: FloatBuffer, _ image: Int, _ per: Int) -> [Float] {
            Array(UnsafeBufferPointer(start: b.pointer + image * per, count: per))
        }
        var blocks: [[BlockRecord]] = Array(repeating: [], count: images)
        for j in 0..<tape.window.count {
            for image in 0..<images {
                let win = tape.window[j].map {
                    AttentionMaps(groups: l.windowCount, heads: tape.heads, queries: t, keys: t,
                                  probs: slice($0, image, l.windowCount * tape.heads * t * t))
                }
                let car = tape.carrier[j].map {
                    AttentionMaps(groups: 1, heads: tape.heads, queries: n, keys: n, probs: slice($0, image, tape.heads * n * n))
                }
                blocks[image].append(BlockRecord(window: win, carrier: car))
            }
            tape.window[j] = nil  // free as we go: peak memory stays one block above the result
            tape.carrier[j] = nil
        }
        for image in 0..<images {
            stages[image].append(TransformerStageRecord(
                level: tape.level, stride: stride, height: l.height, width: l.width,
                paddedHeight: l.paddedHeight, paddedWidth: l.paddedWidth, windowSize: w,
                windowRows: l.srH, windowCols: l.srW, heads: tape.heads, ctSize: l.ctSize,
                carrierRows: l.carrierRows, carrierCols: l.carrierCols, windowRects: rects, carriers: carriers,
                windowCarriers: windowCarriers, blocks: blocks[image],
                propagation: tape.propagation.map { slice($0, image, l.paddedHeight * l.paddedWidth * tape.channels) },
                channels: tape.channels))
        }
        if l.hierarchical && !l.squareCarrierGrid {
            notes.append("level \(tape.level): \(l.srH)x\(l.srW) windows (not square): as in the official any-res code, "
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
                      input: Array(input[(image * pixels)..<((image + 1) * pixels)]),
                      convStages: convStages[image], stages: stages[image],
                      logits: Array(logits[(image * classes)..<((image + 1) * classes)]), notes: notes)
        }
        input = []
        convStages = []
        stages = []
    }
}
