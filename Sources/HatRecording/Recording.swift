// What one forward pass recorded: every attention map, with the stage geometry needed to draw it.
// A plain value: the views keep it after the model is gone. Filled by the engine's
// AttentionRecorder, read from a recording file (HatRecordingFile), or made by
// `SyntheticRecording`. Attention maps may be backed by a memory-mapped file (AttentionMaps.swift).
//
// Pixel coordinates are in the network input (after preprocessing), x right, y down; token grids
// are row-major; windows, padding and the token order inside a window are described once, in
// StageGeometry.swift.
import Foundation

/// Which attention of a transformer block.
public enum AttentionKind: String, Sendable, Codable, CaseIterable {
    /// Per-window attention over the window's carriers and tokens.
    case window
    /// Global attention among all carrier tokens of a stage.
    case carrier
}

/// One transformer block's attention.
public struct BlockRecord: Sendable, Equatable {
    /// Window attention: [windows, heads, T, T]; nil when this block was not kept.
    public var window: AttentionMaps?
    /// Carrier (global) attention: [1, heads, N, N]; nil when the stage has no carrier tokens or
    /// this block was not kept.
    public var carrier: AttentionMaps?
    public init(window: AttentionMaps?, carrier: AttentionMaps?) {
        self.window = window; self.carrier = carrier
    }
}

/// A transformer stage (official `levels.2` or `levels.3`): its geometry and what each block
/// recorded. The geometry's properties read straight through (`stage.windowCols`).
@dynamicMemberLookup
public struct TransformerStageRecord: Sendable, Equatable {
    public let geometry: StageGeometry
    /// One entry per block of the stage.
    public var blocks: [BlockRecord]
    /// The propagation term added in the stage's last block, [paddedHeight * paddedWidth, channels]
    /// row-major over the padded token grid; nil when propagation is off or not applicable.
    public var propagation: [Float]?

    public init(geometry: StageGeometry, blocks: [BlockRecord], propagation: [Float]?) {
        self.geometry = geometry; self.blocks = blocks; self.propagation = propagation
    }

    public subscript<T>(dynamicMember path: KeyPath<StageGeometry, T>) -> T { geometry[keyPath: path] }
}

/// A convolutional stage (official `levels.0` or `levels.1`): its output feature map's energy.
/// The geometry's properties read straight through (`stage.stride`).
@dynamicMemberLookup
public struct ConvStageRecord: Sendable, Equatable {
    public let geometry: ConvStageGeometry
    /// Per position, the L2 norm over channels of the stage's output (before downsampling),
    /// [height * width] row-major.
    public var energy: [Float]
    public init(geometry: ConvStageGeometry, energy: [Float]) {
        self.geometry = geometry; self.energy = energy
    }

    public subscript<T>(dynamicMember path: KeyPath<ConvStageGeometry, T>) -> T { geometry[keyPath: path] }
}

/// The whole recording of one forward pass.
public struct Recording: Sendable, Equatable {
    public var config: ModelConfig
    /// Network input [1, 3, inputHeight, inputWidth] as fed (normalised).
    public var inputHeight: Int, inputWidth: Int
    public var input: [Float]
    public var convStages: [ConvStageRecord]
    public var stages: [TransformerStageRecord]
    /// [numClasses]
    public var logits: [Float]
    /// Notes on what was not kept (e.g. "blocks 0-10 of level 2 not recorded to save memory").
    public var notes: [String]
    /// Where it came from (checkpoint, input, class names, ...); filled by whoever runs the model.
    /// The engine fills `provenance.interventions` (the CLI spelling of the interventions this
    /// forward pass ran with, empty for the model as it is); `input` is the input after any
    /// occlusion.
    public var provenance: Provenance

    public init(config: ModelConfig, inputHeight: Int, inputWidth: Int, input: [Float],
                convStages: [ConvStageRecord], stages: [TransformerStageRecord], logits: [Float],
                notes: [String] = [], provenance: Provenance = Provenance()) {
        self.config = config; self.inputHeight = inputHeight; self.inputWidth = inputWidth
        self.input = input; self.convStages = convStages; self.stages = stages; self.logits = logits
        self.notes = notes; self.provenance = provenance
    }

    /// The geometry of this recording's model and input size.
    public var geometry: ModelGeometry { ModelGeometry(config: config, inputHeight: inputHeight, inputWidth: inputWidth) }

    /// The softmax probability of every class, [classes] in class order.
    public func probabilities() -> [Float] {
        var p = [Float](repeating: 0, count: logits.count)
        for x in topK(logits.count) { p[x.index] = x.probability }
        return p
    }

    /// Class indices and softmax probabilities of the k largest logits, best first.
    public func topK(_ k: Int) -> [(index: Int, probability: Float)] {
        guard let m = logits.max() else { return [] }
        let e = logits.map { Double(expf($0 - m)) }
        let z = e.reduce(0, +)
        return e.enumerated().sorted { $0.element > $1.element }.prefix(k)
            .map { (index: $0.offset, probability: Float($0.element / z)) }
    }
}
