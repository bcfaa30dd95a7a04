// Which tensors a recording file holds and with which shapes, worked out from its metadata alone
// (configuration, input size, the blocks whose window maps were kept) through the one geometry,
// ModelGeometry. The writer checks a Recording against it before writing; the reader checks a file
// against it before handing out a Recording. One description, so the two cannot drift.
import HatRecording

struct RecordingLayout {
    enum Role: Equatable {
        case input, logits
        case energy(level: Int)
        case propagation(level: Int)
        /// Attention maps, stored in the file's maps dtype.
        case windowMaps(level: Int, block: Int), carrierMaps(level: Int, block: Int)
        var isMap: Bool {
            switch self {
            case .windowMaps, .carrierMaps: return true
            default: return false
            }
        }
    }

    struct Tensor {
        let name: String
        let shape: [Int]
        let role: Role
    }

    let geometry: ModelGeometry
    /// In file order: the float32 tensors first, then the maps (so float16 maps never put a
    /// float32 tensor at an odd offset).
    let tensors: [Tensor]

    /// `windowBlocks`: (level, block) pairs whose window attention is stored.
    init(config: ModelConfig, inputHeight h: Int, inputWidth w: Int, windowBlocks: Set<[Int]>) {
        let g = ModelGeometry(config: config, inputHeight: h, inputWidth: w)
        geometry = g
        var plain: [Tensor] = [
            Tensor(name: RecordingFormat.input, shape: [1, 3, h, w], role: .input),
            Tensor(name: RecordingFormat.logits, shape: [1, config.numClasses], role: .logits),
        ]
        for c in g.convStages {
            plain.append(Tensor(name: RecordingFormat.energy(level: c.level), shape: [c.height, c.width], role: .energy(level: c.level)))
        }
        var maps: [Tensor] = []
        for s in g.stages where s.depth > 0 {
            if s.hasCarriers && config.doPropagation {
                plain.append(Tensor(name: RecordingFormat.propagation(level: s.level, block: s.depth - 1),
                                    shape: [s.paddedHeight, s.paddedWidth, s.channels], role: .propagation(level: s.level)))
            }
            let t = s.tokensPerWindow, n = s.carrierCount
            for b in 0 ..< s.depth {
                if windowBlocks.contains([s.level, b]) {
                    maps.append(Tensor(name: RecordingFormat.windowMaps(level: s.level, block: b),
                                       shape: [s.windowCount, s.heads, t, t], role: .windowMaps(level: s.level, block: b)))
                }
                if s.hasCarriers {
                    maps.append(Tensor(name: RecordingFormat.carrierMaps(level: s.level, block: b),
                                       shape: [1, s.heads, n, n], role: .carrierMaps(level: s.level, block: b)))
                }
            }
        }
        tensors = plain + maps
    }

    /// Why a `window_blocks` entry is refused.
    struct BadBlock: Error { let reason: String }

    /// The (level, block) pairs of "levels.L.blocks.B" names, each checked against the geometry.
    static func parseBlocks(_ names: [String], geometry g: ModelGeometry) -> Result<Set<[Int]>, BadBlock> {
        var out = Set<[Int]>()
        for name in names {
            let p = name.split(separator: ".", omittingEmptySubsequences: false)
            guard p.count == 4, p[0] == "levels", p[2] == "blocks", let l = Int(p[1]), let b = Int(p[3]) else {
                return .failure(BadBlock(reason: "names '\(name)', not a block (levels.L.blocks.B)"))
            }
            guard let s = g.stage(level: l), b >= 0, b < s.depth else {
                return .failure(BadBlock(reason: "names \(name), which this model does not have"))
            }
            guard out.insert([l, b]).inserted else { return .failure(BadBlock(reason: "names \(name) twice")) }
        }
        return .success(out)
    }
}
