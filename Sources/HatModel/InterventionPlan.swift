// Interventions (HatRecording/Intervention.swift) compiled into what each part of the engine
// changes, image by image: a batch may carry a different list per image (occlusion sensitivity
// sends many differently occluded copies of one image as one batch).
import HatCore
import HatRecording

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
    /// `lists` holds one list per image (validated here against `config` and the input's geometry).
    static func make(_ lists: [[Intervention]], config: ModelConfig, geometry: ModelGeometry) throws -> InterventionPlan? {
        guard lists.contains(where: { !$0.isEmpty }) else { return nil }
        var plan = InterventionPlan(images: lists.count, occlusion: Array(repeating: nil, count: lists.count))
        for (image, list) in lists.enumerated() {
            for item in list {
                try item.validate(config: config, geometry: geometry)
                plan.add(item, image: image, config: config, geometry: geometry)
            }
        }
        return plan
    }

    private mutating func add(_ item: Intervention, image: Int, config: ModelConfig, geometry: ModelGeometry) {
        let height = geometry.inputHeight, width = geometry.inputWidth
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
            let (rows, cols) = Intervention.pixelSpan(of: box, geometry: geometry)
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
