// FasterViT hyperparameters: the 11 official presets and custom configurations.
// Values follow the official model registry (fastervit==1.0.0); see ../shared/docs/fastervit.md.

public struct ModelConfig: Sendable, Equatable, Codable {
    // Codable conformance: ModelConfigCoding.swift (accepts the official keyword names too).
    /// Preset name (`faster_vit_0_224`) or a free label for custom configurations.
    public var name: String
    /// Channels of stage 1; stage i has dim * 2^i.
    public var dim: Int
    /// Channels between the two patch-embedding convolutions.
    public var inDim: Int
    /// Blocks per stage (4 stages).
    public var depths: [Int]
    /// Attention heads per stage (only stages 3 and 4 use them).
    public var heads: [Int]
    /// Window size per stage, in tokens (only stages 3 and 4 use them).
    public var windowSize: [Int]
    /// Carrier tokens per window side.
    public var ctSize: Int
    public var mlpRatio: Float
    /// Layer-scale initial value for transformer blocks, nil = no layer scale (gammas are 1).
    public var layerScale: Float?
    /// Layer scale in the convolutional blocks (none in any official variant).
    public var layerScaleConv: Float?
    /// Hierarchical attention per stage.
    public var hat: [Bool]
    /// Carrier tokens added back into the windows in each HAT stage's last block.
    public var doPropagation: Bool
    public var numClasses: Int
    /// Network input size [height, width] the model is built for.
    public var resolution: [Int]
    /// Evaluation preprocessing (timm): crop_pct and crop_mode ("center" or "squash").
    public var cropPct: Float
    public var cropMode: String

    public init(name: String, dim: Int, inDim: Int, depths: [Int], heads: [Int], windowSize: [Int],
                ctSize: Int, mlpRatio: Float = 4, layerScale: Float?, layerScaleConv: Float? = nil,
                hat: [Bool], doPropagation: Bool, numClasses: Int = 1000, resolution: [Int],
                cropPct: Float, cropMode: String) {
        self.name = name; self.dim = dim; self.inDim = inDim; self.depths = depths; self.heads = heads
        self.windowSize = windowSize; self.ctSize = ctSize; self.mlpRatio = mlpRatio
        self.layerScale = layerScale; self.layerScaleConv = layerScaleConv; self.hat = hat
        self.doPropagation = doPropagation; self.numClasses = numClasses; self.resolution = resolution
        self.cropPct = cropPct; self.cropMode = cropMode
    }

    /// Channels of stage i (0-based).
    public func stageDim(_ i: Int) -> Int { dim << i }

    /// ImageNet normalisation used by every official variant.
    public static let imagenetMean: [Float] = [0.485, 0.456, 0.406]
    public static let imagenetStd: [Float] = [0.229, 0.224, 0.225]
}

extension ModelConfig {
    /// The official variants, in registry order.
    public static let presets: [ModelConfig] = {
        func base(_ name: String, dim: Int, inDim: Int, depths: [Int], heads: [Int], ls: Float?,
                  prop: Bool, crop: Float) -> ModelConfig {
            ModelConfig(name: name, dim: dim, inDim: inDim, depths: depths, heads: heads,
                        windowSize: [7, 7, 7, 7], ctSize: 2, layerScale: ls,
                        hat: [false, false, true, false], doPropagation: prop,
                        resolution: [224, 224], cropPct: crop, cropMode: "center")
        }
        func k21(_ res: Int, window: [Int], crop: Float) -> ModelConfig {
            ModelConfig(name: "faster_vit_4_21k_\(res)", dim: 196, inDim: 64, depths: [3, 3, 12, 5],
                        heads: [4, 8, 16, 32], windowSize: window, ctSize: 2, layerScale: 1e-5,
                        hat: [false, false, false, false], doPropagation: true,
                        resolution: [res, res], cropPct: crop, cropMode: "squash")
        }
        return [
            base("faster_vit_0_224", dim: 64, inDim: 64, depths: [2, 3, 6, 5], heads: [2, 4, 8, 16], ls: nil, prop: false, crop: 0.875),
            base("faster_vit_1_224", dim: 80, inDim: 32, depths: [1, 3, 8, 5], heads: [2, 4, 8, 16], ls: nil, prop: false, crop: 1.0),
            base("faster_vit_2_224", dim: 96, inDim: 64, depths: [3, 3, 8, 5], heads: [2, 4, 8, 16], ls: nil, prop: false, crop: 1.0),
            base("faster_vit_3_224", dim: 128, inDim: 64, depths: [3, 3, 12, 5], heads: [2, 4, 8, 16], ls: 1e-5, prop: true, crop: 1.0),
            base("faster_vit_4_224", dim: 196, inDim: 64, depths: [3, 3, 12, 5], heads: [4, 8, 16, 32], ls: 1e-5, prop: true, crop: 1.0),
            base("faster_vit_5_224", dim: 320, inDim: 64, depths: [3, 3, 12, 5], heads: [4, 8, 16, 32], ls: 1e-5, prop: true, crop: 1.0),
            base("faster_vit_6_224", dim: 320, inDim: 64, depths: [3, 3, 16, 8], heads: [4, 8, 16, 32], ls: 1e-5, prop: true, crop: 1.0),
            k21(224, window: [7, 7, 14, 7], crop: 0.95),
            k21(384, window: [7, 7, 24, 12], crop: 1.0),
            k21(512, window: [7, 7, 32, 16], crop: 1.0),
            k21(768, window: [7, 7, 48, 24], crop: 0.93),
        ]
    }()

    /// The preset called `name`, or nil.
    public static func preset(named name: String) -> ModelConfig? {
        presets.first { $0.name == name }
    }
}
