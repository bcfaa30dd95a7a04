// Interventions checked against a model configuration and input size, and compiled into what each
// part of the engine changes, image by image (a batch may carry a different list per image:
// occlusion sensitivity sends many differently occluded copies of one image as one batch).
import HatCore

extension Intervention {
    /// Throws `InterventionError.notApplicable` (one line saying why) when this intervention does
    /// not apply to `config` at an input of height x width pixels: no such level, block or head,
    /// no carrier tokens in that stage at this size, no propagation to switch off, a mask or box
    /// outside the input.
    public func validate(config: ModelConfig, height: Int, width: Int) throws {
        func no(_ why: String) -> InterventionError { .notApplicable("\(description): \(why)") }
        func stage(_ level: Int) throws -> StageLayout {
            guard (0..<4).contains(level) else { throw no("there is no levels.\(level) (FasterViT has levels.0-3)") }
            guard level >= 2 else {
                throw no("levels.\(level) is a convolutional stage, it has no attention (transformer stages: levels.2, levels.3)")
            }
            guard config.depths[level] > 0 else { throw no("levels.\(level) has no blocks") }
            let div = 1 << (2 + level)
            return StageLayout(config: config, level: level, height: height / div, width: width / div)
        }
        func block(_ level: Int, _ b: Int?) throws {
            if let b, !(0..<config.depths[level]).contains(b) {
                throw no("levels.\(level) has blocks 0-\(config.depths[level] - 1)")
            }
        }
        func carriers(_ l: StageLayout, _ what: String) throws {
            guard l.hierarchical else {
                let why = config.hat[l.level]
                    ? "at \(height)x\(width) the stage is a single \(l.window)x\(l.window) window"
                    : "hierarchical attention (hat) is off in this stage"
                throw no("levels.\(l.level) has no carrier tokens (\(why)): \(what)")
            }
        }
        switch self {
        case let .occludePixels(m):
            guard m.height == height, m.width == width else {
                throw no("the mask is \(m.height)x\(m.width), the network input \(height)x\(width)")
            }
        case let .occludeTokens(box):
            guard (1...4).contains(box.stage) else { throw no("there is no stage \(box.stage) (stages are 1-4)") }
            let (rows, cols) = Intervention.tokenGrid(stage: box.stage, height: height, width: width)
            guard box.rows.upperBound < rows, box.cols.upperBound < cols else {
                throw no("stage \(box.stage) has \(rows)x\(cols) tokens (rows 0-\(rows - 1), columns 0-\(cols - 1))")
            }
        case let .ablateHead(level, b, module, head):
            let l = try stage(level)
            try block(level, b)
            if module == .hatAttn { try carriers(l, "no hat_attn") }
            let heads = config.heads[level]
            guard (0..<heads).contains(head) else { throw no("levels.\(level) attention has heads 0-\(heads - 1)") }
        case let .cutCarriers(level, b):
            let l = try stage(level)
            try block(level, b)
            try carriers(l, "nothing to cut")
        case let .cutGlobal(level, b):
            let l = try stage(level)
            try block(level, b)
            try carriers(l, "no carrier attention to cut")
        case let .noPropagation(level):
            let l = try stage(level)
            guard config.doPropagation else {
                throw no("\(config.name) does not propagate carrier tokens (do_propagation is off): nothing to switch off")
            }
            try carriers(l, "no propagation to switch off")
        }
    }

    /// A stage's token grid (rows, columns) before padding, for an input of height x width
    /// (multiples of 32): stage s has one token per 2^(s+1) pixels.
    static func tokenGrid(stage: Int, height: Int, width: Int) -> (Int, Int) {
        (height >> (stage + 1), width >> (stage + 1))
    }

    /// The input pixels (rows, columns) under a token box, clipped to the input.
    static func pixelSpan(of box: TokenBox, height: Int, width: Int) -> (rows: Range<Int>, cols: Range<Int>) {
        let s = 1 << (box.stage + 1)
        return (min(height, box.rows.lowerBound * s)..<min(height, (box.rows.upperBound + 1) * s),
                min(width, box.cols.lowerBound * s)..<min(width, (box.cols.upperBound + 1) * s))
    }
}

/// What one attention module does differently for one image.
struct AttentionEdit: Equatable {
    /// Heads whose output (P V) is zero before the projection, [heads].
    var ablated: [Bool]
    /// Window attention: token queries get no carrier keys (their logits -inf before the softmax).
    var cutCarrierKeys = false
    /// Carrier attention: each query attends only to itself (off-diagonal logits -inf).
    var diagonalOnly = false

    init(heads: Int) { ablated = Array(repeating: false, count: heads) }
}

/// The edits of one attention module over a batch: `perImage[i]` for the groups of image i (nil =
/// untouched); the module runs `groupsPerImage` groups per image (windows, or 1 for carriers).
struct AttentionEdits {
    var perImage: [AttentionEdit?]
    let groupsPerImage: Int

    @inline(__always) func edit(group g: Int) -> AttentionEdit? { perImage[g / groupsPerImage] }
}

/// Interventions of one forward pass, resolved per image for the engine.
struct InterventionPlan {
    let images: Int
    /// Per image, the input pixels set to 0: [height * width], true = occluded; nil = none.
    var occlusion: [[Bool]?]
    /// Per transformer block: per image, the window (`attn`) and carrier (`hat_attn`) edits.
    var window: [BlockID: [AttentionEdit?]] = [:]
    var carrier: [BlockID: [AttentionEdit?]] = [:]
    /// Per level: images whose last block does not add the carriers back.
    var noPropagation: [Int: [Bool]] = [:]

    /// nil when no image has an intervention: the engine then runs exactly as without any.
    /// `lists` holds one list per image (validated here against `config` and the input size).
    static func make(_ lists: [[Intervention]], config: ModelConfig, height: Int, width: Int) throws -> InterventionPlan? {
        guard lists.contains(where: { !$0.isEmpty }) else { return nil }
        var plan = InterventionPlan(images: lists.count, occlusion: Array(repeating: nil, count: lists.count))
        for (image, list) in lists.enumerated() {
            for item in list {
                try item.validate(config: config, height: height, width: width)
                plan.add(item, image: image, config: config, height: height, width: width)
            }
        }
        return plan
    }

    private mutating func add(_ item: Intervention, image: Int, config: ModelConfig, height: Int, width: Int) {
        func blocks(_ level: Int, _ b: Int?) -> [BlockID] {
            (b.map { [$0] } ?? Array(0..<config.depths[level])).map { BlockID(level: level, block: $0) }
        }
        func edit(_ table: inout [BlockID: [AttentionEdit?]], _ id: BlockID, _ change: (inout AttentionEdit) -> Void) {
            var row = table[id] ?? Array(repeating: nil, count: images)
            var e = row[image] ?? AttentionEdit(heads: config.heads[id.level])
            change(&e)
            row[image] = e
            table[id] = row
        }
        switch item {
        case let .occludePixels(m):
            var mask = occlusion[image] ?? Array(repeating: false, count: height * width)
            for i in 0..<mask.count where m.bits[i] { mask[i] = true }
            occlusion[image] = mask
        case let .occludeTokens(box):
            var mask = occlusion[image] ?? Array(repeating: false, count: height * width)
            let (rows, cols) = Intervention.pixelSpan(of: box, height: height, width: width)
            for r in rows { for c in cols { mask[r * width + c] = true } }
            occlusion[image] = mask
        case let .ablateHead(level, b, module, head):
            let id = BlockID(level: level, block: b)
            if module == .attn { edit(&window, id) { $0.ablated[head] = true } } else { edit(&carrier, id) { $0.ablated[head] = true } }
        case let .cutCarriers(level, b):
            for id in blocks(level, b) { edit(&window, id) { $0.cutCarrierKeys = true } }
        case let .cutGlobal(level, b):
            for id in blocks(level, b) { edit(&carrier, id) { $0.diagonalOnly = true } }
        case let .noPropagation(level):
            var row = noPropagation[level] ?? Array(repeating: false, count: images)
            row[image] = true
            noPropagation[level] = row
        }
    }

    /// The edits of one block's attention modules (nil where nothing changes).
    func edits(for id: BlockID, windowsPerImage: Int) -> (window: AttentionEdits?, carrier: AttentionEdits?) {
        (window[id].map { AttentionEdits(perImage: $0, groupsPerImage: windowsPerImage) },
         carrier[id].map { AttentionEdits(perImage: $0, groupsPerImage: 1) })
    }
}
