// One numbering for every option that names a stage or a block (README, "Stages and blocks"):
// stages are 1-4 as people count them (stage 3 = the official `levels.2`), blocks count from 0
// inside their stage, and where an option names a module the official path `levels.L.blocks.B`
// is accepted as well. Stages 1-2 are convolutional; attention blocks live in stages 3-4.
import HatModel
import HatRecording

public enum StageNumbering {
    /// The official level (0-3) of a stage given as `3` or `levels.2`.
    public static func level(_ text: String, option: String) throws -> Int {
        let t = text.trimmingCharacters(in: " ")
        if t.hasPrefix("levels.") {
            guard let l = Int(t.dropFirst("levels.".count)), (0 ... 3).contains(l) else {
                throw PipelineError("\(option) \(t): the official levels are levels.0 to levels.3 (stages 1-4)")
            }
            return l
        }
        guard let s = Int(t), (1 ... 4).contains(s) else {
            throw PipelineError("\(option) \(t): stages are 1-4 (stage 3 = levels.2), or an official path levels.L")
        }
        return s - 1
    }

    /// A block given as `B` (inside a stage named elsewhere) or `levels.L.blocks.B` (which names
    /// its stage too): (level or nil, block).
    public static func block(_ text: String, option: String) throws -> (level: Int?, block: Int) {
        let t = text.trimmingCharacters(in: " ")
        if t.hasPrefix("levels.") { let (l, b) = try modulePath(t, option: option); return (l, b) }
        guard let b = Int(t), b >= 0 else {
            throw PipelineError("\(option) \(t): a block is a number from 0, or an official path levels.L.blocks.B")
        }
        return (nil, b)
    }

    /// A list like `3.0,3.11,4.4` (STAGE.BLOCK) or `levels.2.blocks.0,...`, each checked against
    /// the model's depths.
    public static func blockList(_ text: String, config: ModelConfig, option: String) throws -> Set<BlockID> {
        var set = Set<BlockID>()
        for raw in text.split(separator: ",", omittingEmptySubsequences: false) {
            let item = String(raw).trimmingCharacters(in: " ")
            let level: Int, block: Int
            if item.hasPrefix("levels.") {
                (level, block) = try modulePath(item, option: option)
            } else {
                let parts = item.split(separator: ".", omittingEmptySubsequences: false)
                guard parts.count == 2, let s = Int(parts[0]), let b = Int(parts[1]), (1 ... 4).contains(s), b >= 0 else {
                    throw PipelineError("\(option): '\(item)' is not STAGE.BLOCK (e.g. 3.0 = stage 3 = levels.2, block 0) "
                                        + "or levels.L.blocks.B")
                }
                (level, block) = (s - 1, b)
            }
            try check(level: level, block: block, config: config, option: option, item: item)
            set.insert(BlockID(level: level, block: block))
        }
        return set
    }

    /// Refuses a convolutional stage or a block past the stage's depth.
    public static func check(level: Int, block: Int, config: ModelConfig, option: String, item: String) throws {
        guard level >= 2 else {
            throw PipelineError("\(option) \(item): stage \(level + 1) is convolutional (no attention); attention blocks are in stages 3-4 (stage 3 = levels.2)")
        }
        let depth = config.depths[level]
        guard block < depth else {
            throw PipelineError("\(option) \(item): stage \(level + 1) (levels.\(level)) of \(config.name) has "
                                + (depth == 0 ? "no blocks" : "blocks 0-\(depth - 1)"))
        }
    }

    /// `levels.L.blocks.B` -> (L, B).
    static func modulePath(_ t: String, option: String) throws -> (Int, Int) {
        let parts = t.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "levels", parts[2] == "blocks", let l = Int(parts[1]), let b = Int(parts[3]),
              (0 ... 3).contains(l), b >= 0 else {
            throw PipelineError("\(option) \(t): an official block path is levels.L.blocks.B with L 0-3 (stage = L + 1)")
        }
        return (l, b)
    }
}

extension String {
    fileprivate func trimmingCharacters(in c: Character) -> String {
        String(drop { $0 == c }.reversed().drop { $0 == c }.reversed())
    }
}
