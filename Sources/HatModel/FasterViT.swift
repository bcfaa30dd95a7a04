// FasterViT (official `fastervit` 1.0.0, faster_vit.py / faster_vit_any_res.py) on the CPU:
//   patch_embed -> levels.0, levels.1 (conv blocks + downsample) -> levels.2, levels.3
//   (HAT blocks; levels.2 downsampled) -> norm (BatchNorm2d) -> global average pool -> head.
// Weights are read once by official state_dict name, BatchNorms folded, and never change after.
// Any input resolution whose sides are multiples of 32 runs with the any-res semantics; at the
// preset's own resolution this is exactly faster_vit.py (the two files agree there).
// The speed it was tuned for needs EngineOptions.standard applied by the program (HatCore).
import HatCore
import HatRecording

public final class FasterViT: @unchecked Sendable {
    public let config: ModelConfig
    let patchEmbed: PatchEmbed
    /// levels.0 and levels.1: conv blocks, then their downsampler.
    let convLevels: [(blocks: [ConvBlock], downsample: Downsample)]
    /// levels.2 and levels.3
    let stages: [TransformerStage]
    /// Final BatchNorm2d as y = x * scale + shift, [C]
    let normScale: [Float], normShift: [Float]
    let head: Linear

    public init(config: ModelConfig, weights: WeightSource) throws {
        try FasterViT.validate(config)
        self.config = config
        let w = WeightReader(weights)
        patchEmbed = try PatchEmbed(w.child("patch_embed"), inDim: config.inDim, dim: config.dim)
        convLevels = try (0..<2).map { level in
            let p = w.child("levels.\(level)")
            let dim = config.stageDim(level)
            let blocks = try (0..<config.depths[level]).map {
                try ConvBlock(p.child("blocks.\($0)"), dim: dim, layerScale: config.layerScaleConv != nil)
            }
            return (blocks, try Downsample(p.child("downsample"), dim: dim))
        }
        stages = try (2..<4).map { try TransformerStage(w.child("levels.\($0)"), config: config, level: $0) }
        let features = config.stageDim(3)
        let (scale, shift) = try w.batchNorm("norm", features, eps: 1e-5).scaleShift()
        normScale = scale
        normShift = shift
        head = try w.linear("head", in: features, out: config.numClasses)
    }

    static func validate(_ c: ModelConfig) throws {
        func bad(_ m: String) -> ModelError { .configuration(m) }
        for (name, v) in [("depths", c.depths.count), ("heads", c.heads.count), ("window_size", c.windowSize.count), ("hat", c.hat.count)] where v != 4 {
            throw bad("\(name) needs 4 entries, got \(v)")
        }
        guard c.dim > 0, c.inDim > 0, c.numClasses > 0 else { throw bad("dim, in_dim and num_classes must be positive") }
        guard c.depths.allSatisfy({ $0 >= 0 }) else { throw bad("depths must not be negative") }
        guard c.windowSize[2] > 0, c.windowSize[3] > 0 else { throw bad("window sizes must be positive") }
        guard c.ctSize > 0 else { throw bad("ct_size must be positive") }
        guard c.mlpRatio > 0 else { throw bad("mlp_ratio must be positive") }
        for level in 2..<4 where c.heads[level] <= 0 || c.stageDim(level) % c.heads[level] != 0 {
            throw bad("level \(level): \(c.stageDim(level)) channels do not split into \(c.heads[level]) heads")
        }
        guard c.resolution.count == 2, c.resolution.allSatisfy({ $0 > 0 }) else { throw bad("resolution must be [H, W]") }
        guard c.resolution.allSatisfy({ $0 <= ModelConfig.maxInputSide }) else {
            throw bad("resolution \(c.resolution[0])x\(c.resolution[1]) is larger than hatscope takes (\(ModelConfig.maxInputSide) pixels per side at most)")
        }
    }

    /// The model's geometry for an input of height x width pixels, or a ModelError when these
    /// weights cannot run at that size.
    public func geometry(height: Int, width: Int) throws -> ModelGeometry {
        guard height <= ModelConfig.maxInputSide, width <= ModelConfig.maxInputSide else {
            throw ModelError.resolution(height: height, width: width,
                                        reason: "larger than hatscope takes (\(ModelConfig.maxInputSide) pixels per side at most)")
        }
        guard height >= 32, width >= 32, height % 32 == 0, width % 32 == 0 else {
            throw ModelError.resolution(height: height, width: width,
                                        reason: "height and width must be positive multiples of 32 (the official any-res model sizes level i as H/2^(2+i))")
        }
        let geometry = ModelGeometry(config: config, inputHeight: height, inputWidth: width)
        for (stage, l) in zip(stages, geometry.stages) {
            if let reason = stage.incompatibility(l) {
                throw ModelError.resolution(height: height, width: width, reason: reason)
            }
        }
        return geometry
    }

    /// Checks an input tensor: [N, 3, H, W] with N >= 1, finite, a resolution this model can take.
    @discardableResult
    public func validate(input: Tensor) throws -> ModelGeometry {
        let s = input.shape
        guard s.count == 4, s[0] >= 1 else { throw ModelError.inputShape(s) }
        guard s[1] == 3 else { throw ModelError.channels(s[1]) }
        if !Self.allFinite(input.data) {
            throw ModelError.nonFinite(count: input.data.reduce(0) { $0 + ($1.isFinite ? 0 : 1) })
        }
        return try geometry(height: s[2], width: s[3])
    }

    /// Whether every value is finite: x * 0 is 0 for finite x and NaN for NaN or infinity, and a
    /// NaN survives the sum. Eight lanes at a time (a closure per element cost ~0.3 ms per input).
    public static func allFinite(_ v: [Float]) -> Bool {
        v.withUnsafeBufferPointer { b in
            guard let p = b.baseAddress else { return true }
            var acc = SIMD8<Float>(), i = 0
            while i + 8 <= b.count {
                acc += UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self) * 0
                i += 8
            }
            var tail: Float = 0
            while i < b.count { tail += p[i] * 0; i += 1 }
            return acc.sum() + tail == 0
        }
    }

    /// logits [N, classes] for input [N, 3, H, W]; `recorder` observes every attention map (one
    /// Recording per image); `interventions` apply to every image of the batch. Throws
    /// ModelError for a bad input and InterventionError for an intervention that does not apply.
    public func forward(_ input: Tensor, recorder: AttentionRecorder? = nil,
                        interventions: [Intervention] = []) throws -> Tensor {
        let images = input.shape.first ?? 0
        return try forward(input, recorder: recorder,
                           perImage: interventions.isEmpty ? [] : Array(repeating: interventions, count: max(1, images)))
    }

    /// The same with one list of interventions per image (`perImage.count` = N, or empty for
    /// none): occlusion sensitivity sends differently occluded copies of an image as one batch.
    /// Image i's logits and recording are those of image i run alone with perImage[i].
    public func forward(_ input: Tensor, recorder: AttentionRecorder? = nil,
                        perImage: [[Intervention]]) throws -> Tensor {
        let geometry = try validate(input: input)
        let images = input.shape[0], height = input.shape[2], width = input.shape[3]
        guard perImage.isEmpty || perImage.count == images else {
            throw InterventionError.batchMismatch(images: images, lists: perImage.count)
        }
        let plan = try InterventionPlan.make(perImage, config: config, geometry: geometry)
        var data = input.data   // [N, 3, H, W]
        if let plan { Self.occlude(&data, plan: plan, pixels: height * width) }
        recorder?.begin(config: config, input: data, images: images, geometry: geometry, interventions: perImage)
        var (x, h, w) = patchEmbed.forward(FloatBuffer(data), images: images, height: height, width: width)
        for (level, part) in convLevels.enumerated() {
            for block in part.blocks { block.forward(x, images: images, height: h, width: w) }
            recorder?.convStage(geometry.convStages[level], output: x)
            (x, h, w) = part.downsample.forward(x, images: images, height: h, width: w)
        }
        for (i, stage) in stages.enumerated() {
            (x, h, w) = stage.forward(x, images: images, height: h, width: w, layout: geometry.stages[i],
                                      recorder: recorder, plan: plan)
        }
        // norm (BatchNorm2d) then AdaptiveAvgPool2d(1): the affine map commutes with the mean.
        let features = config.stageDim(3)
        let pooled = FloatBuffer(count: images * features)              // [N, C]
        for image in 0..<images {
            let p = pooled.pointer + image * features
            Pooling.globalAverage(x.pointer + image * features * h * w, channels: features, pixels: h * w, into: p)
            for c in 0..<features { p[c] = p[c] * normScale[c] + normShift[c] }
        }
        let logits = FloatBuffer(count: images * config.numClasses)     // [N, classes]
        head.apply(pooled.pointer, rows: images, into: logits.pointer)
        let out = logits.array
        recorder?.finish(logits: out)
        return Tensor(shape: [images, config.numClasses], data: out)
    }

    /// Sets the occluded input pixels of each image to 0 (all three channels) in data [N, 3, H, W].
    static func occlude(_ data: inout [Float], plan: InterventionPlan, pixels: Int) {
        for (image, mask) in plan.occlusion.enumerated() {
            guard let mask else { continue }
            for ch in 0..<3 {
                let base = (image * 3 + ch) * pixels
                for i in 0..<pixels where mask[i] { data[base + i] = 0 }
            }
        }
    }
}
