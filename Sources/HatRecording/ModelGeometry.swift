// The geometry of a whole FasterViT at one input size, built from the configuration alone: the
// token grid of every stage, the windows, padding, carrier pooling boxes and carrier orders of the
// transformer stages (StageGeometry.swift). The engine runs on it, the recorder stores it, and
// views, statistics, tour, synthetic recordings and tests read it: one description, no copies.
//
// Sizes: stage i has stride 2^(2+i) input pixels per token and int(H / stride) x int(W / stride)
// tokens. That is what the network computes when H and W are multiples of 32, the only inputs the
// engine accepts (FasterViT.geometry); for other sizes this still describes the official any-res
// sizing of the transformer stages.

/// A convolutional stage (official `levels.0`, `levels.1`): its output feature map.
public struct ConvStageGeometry: Sendable, Equatable {
    /// Official level index (0 or 1); users count stages from 1 (`number`).
    public let level: Int
    /// Input pixels per position (4 for level 0, 8 for level 1).
    public let stride: Int
    /// Feature map [channels, height, width] before the stage's downsampler.
    public let channels: Int, height: Int, width: Int
    /// Convolutional blocks of the stage.
    public let depth: Int

    /// The number people use: "stage 1" is level 0.
    public var number: Int { level + 1 }
    /// The official module name, `levels.0`.
    public var moduleName: String { "levels.\(level)" }
}

public struct ModelGeometry: Sendable, Equatable {
    /// The version of these rules (sizes, padding, pooling boxes, carrier orders, token order in a
    /// window). Recording files carry it: maps written under other rules would be drawn wrongly,
    /// so a reader refuses them. Bump it whenever a rule here changes what a map index means.
    public static let version = 1

    /// Network input (after preprocessing), pixels.
    public let inputHeight: Int, inputWidth: Int
    /// Levels 0 and 1.
    public let convStages: [ConvStageGeometry]
    /// Levels 2 and 3.
    public let stages: [StageGeometry]

    /// The geometry of `config` (which passes `ModelConfig.validate`) for an input of
    /// inputHeight x inputWidth pixels.
    public init(config: ModelConfig, inputHeight: Int, inputWidth: Int) {
        self.inputHeight = inputHeight
        self.inputWidth = inputWidth
        convStages = (0 ..< 2).map { level in
            let s = 1 << (2 + level)
            return ConvStageGeometry(level: level, stride: s, channels: config.stageDim(level),
                                     height: inputHeight / s, width: inputWidth / s, depth: config.depths[level])
        }
        stages = (2 ..< 4).map {
            StageGeometry(config: config, level: $0, inputHeight: inputHeight, inputWidth: inputWidth)
        }
    }

    /// The transformer stage at official `level` (2 or 3), or nil.
    public func stage(level: Int) -> StageGeometry? { stages.first { $0.level == level } }
}
