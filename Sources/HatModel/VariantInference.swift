// Which FasterViT a state dict holds, from its tensor names and shapes alone.
//
// What the learned tensors reveal: in_dim and dim (patch_embed convolutions), depths (block
// indices per level), heads of stages 3-4 (rows of `attn.pos_emb_funct.cpb_mlp.2.weight`), the MLP
// ratio (`mlp.fc1` rows / stage dim), hierarchical attention per stage (`hat_*` keys), layer scale
// (`gamma*` keys) and the class count (`head.weight` rows). Learned tensors do NOT depend on window
// size, carrier-token size or resolution; those show only in the derived buffers official
// checkpoints also carry:
//   attn.pos_emb_funct.relative_position_index [w*w, w*w]   -> window w
//   pos_embed.relative_bias [1, w*w, C]                       -> window w
//   attn.pos_emb_funct.relative_bias [1, h, c*c + w*w, ...]   -> carrier size c (hierarchical stages)
//   hat_attn.pos_emb_funct.relative_position_index [n, n]     -> n carrier tokens = (c * r / w)^2 -> stage size r
// Official presets agree with this convention: propagation is on exactly when gammas are present;
// heads of the convolutional stages (unused) are heads[2] / 4 and heads[2] / 2.
//
// What cannot be told apart: faster_vit_4_21k_{224,384,512,768} share every learned shape and differ
// only in window (14/24/32/48 at stage 3), so a file without the buffers (e.g. a safetensors export
// of learned weights only) matches all four; the first (21k_224) is chosen and a note says so;
// `--model NAME` or `--config FILE.json` picks another. faster_vit_4_224 and faster_vit_4_21k_224 differ
// in `hat_*` keys and are always told apart.
import HatRecording

public enum VariantError: Error, Equatable, CustomStringConvertible {
    case notFasterViT(String)
    case inconsistent(String)

    public var description: String {
        switch self {
        case .notFasterViT(let m): return "not a FasterViT state dict: \(m)"
        case .inconsistent(let m): return "inconsistent FasterViT state dict: \(m)"
        }
    }
}

public enum VariantInference {
    public struct Result: Sendable {
        /// The preset (by name) or a configuration named "custom".
        public var config: ModelConfig
        /// Presets whose every inferred field matches (more than one = ambiguous, see notes).
        public var candidates: [String]
        /// Facts the user should know (ambiguities, assumptions, resolution hints).
        public var notes: [String]
        /// Windows (stages 3, 4) and carrier size as read from buffers; nil = not in the file.
        public var observedWindows: [Int?]
        public var observedCtSize: Int?
        public var observedResolution: Int?
    }

    /// The matching preset, or a custom configuration.
    public static func infer(shapes: [String: [Int]]) throws -> ModelConfig {
        try analyze(shapes: shapes).config
    }

    public static func analyze(shapes: [String: [Int]]) throws -> Result {
        func shape(_ k: String) -> [Int]? { shapes[k] }
        guard let c0 = shape("patch_embed.conv_down.0.weight"), c0.count == 4, c0[1] == 3 else {
            throw VariantError.notFasterViT("no patch_embed.conv_down.0.weight of shape [in_dim, 3, 3, 3]")
        }
        guard let c3 = shape("patch_embed.conv_down.3.weight"), c3.count == 4, c3[1] == c0[0] else {
            throw VariantError.notFasterViT("no patch_embed.conv_down.3.weight of shape [dim, in_dim, 3, 3]")
        }
        let inDim = c0[0], dim = c3[0]
        guard dim > 0, inDim > 0 else { throw VariantError.inconsistent("zero channels in patch_embed") }

        // depths: block indices 0..<n of every level.
        var depths = [Int](repeating: 0, count: 4)
        var seen = [Set<Int>](repeating: [], count: 4)
        for k in shapes.keys where k.hasPrefix("levels.") {
            let parts = k.split(separator: ".")
            guard parts.count > 3, let level = Int(parts[1]), (0..<4).contains(level), parts[2] == "blocks",
                  let j = Int(parts[3]), j >= 0, j < 10_000 else { continue }
            seen[level].insert(j)
        }
        for i in 0..<4 {
            depths[i] = seen[i].count
            guard depths[i] > 0 else { throw VariantError.notFasterViT("no blocks in levels.\(i)") }
            guard seen[i].max()! == depths[i] - 1 else {
                throw VariantError.inconsistent("levels.\(i) block indices are not 0..<\(depths[i])")
            }
        }

        var heads = [0, 0, 0, 0]
        for i in 2..<4 {
            let k = "levels.\(i).blocks.0.attn.pos_emb_funct.cpb_mlp.2.weight"
            guard let s = shape(k), s.count == 2, s[0] > 0 else { throw VariantError.notFasterViT("no \(k) (attention heads)") }
            heads[i] = s[0]
            let c = dim << i
            guard c % heads[i] == 0 else { throw VariantError.inconsistent("stage \(i + 1): \(heads[i]) heads do not divide \(c) channels") }
        }
        heads[0] = max(1, heads[2] / 4); heads[1] = max(1, heads[2] / 2)

        guard let fc1 = shape("levels.2.blocks.0.mlp.fc1.weight"), fc1.count == 2, fc1[1] == dim << 2 else {
            throw VariantError.notFasterViT("no levels.2.blocks.0.mlp.fc1.weight of shape [hidden, \(dim << 2)]")
        }
        let mlpRatio = Float(fc1[0]) / Float(dim << 2)

        let hat = (0..<4).map { i in i >= 2 && shapes["levels.\(i).blocks.0.hat_norm1.weight"] != nil }
        let layerScale: Float? = shapes["levels.2.blocks.0.gamma3"] != nil ? 1e-5 : nil
        let layerScaleConv: Float? = shapes["levels.0.blocks.0.gamma"] != nil ? 1e-5 : nil
        guard let head = shape("head.weight"), head.count == 2, head[1] == dim << 3 else {
            throw VariantError.notFasterViT("no head.weight of shape [classes, \(dim << 3)]")
        }
        let numClasses = head[0]

        // Buffers: windows, carrier size, resolution.
        func isqrt(_ n: Int) -> Int? {
            guard n > 0 else { return nil }
            var r = Int(Double(n).squareRoot())
            while r * r > n { r -= 1 }
            while (r + 1) * (r + 1) <= n { r += 1 }
            return r * r == n ? r : nil
        }
        var windows: [Int?] = [nil, nil, nil, nil]
        for i in 2..<4 {
            if let s = shape("levels.\(i).blocks.0.attn.pos_emb_funct.relative_position_index"), s.count == 2 {
                windows[i] = isqrt(s[0])
            } else if let s = shape("levels.\(i).blocks.0.pos_embed.relative_bias"), s.count == 3 {
                windows[i] = isqrt(s[1])
            }
        }
        var ctSize: Int?
        var resolution: Int?
        for i in 2..<4 where hat[i] {
            guard let w = windows[i], let s = shape("levels.\(i).blocks.0.attn.pos_emb_funct.relative_bias"), s.count == 4,
                  s[2] > w * w, let c = isqrt(s[2] - w * w) else { continue }
            ctSize = c
            if let g = shape("levels.\(i).blocks.0.hat_attn.pos_emb_funct.relative_position_index"), g.count == 2,
               let side = isqrt(g[0]), side % c == 0 {
                resolution = w * (side / c) << (2 + i)
            }
            break
        }

        // Preset matching on every field the file reveals.
        func matches(_ p: ModelConfig) -> Bool {
            p.dim == dim && p.inDim == inDim && p.depths == depths && p.heads[2] == heads[2] && p.heads[3] == heads[3]
                && p.mlpRatio == mlpRatio && p.hat == hat && (p.layerScale != nil) == (layerScale != nil)
                && (p.layerScaleConv != nil) == (layerScaleConv != nil)
                && (2..<4).allSatisfy { windows[$0] == nil || windows[$0] == p.windowSize[$0] }
                && (ctSize == nil || ctSize == p.ctSize)
        }
        let candidates = ModelConfig.presets.filter(matches)
        var notes: [String] = []
        var config: ModelConfig
        if let first = candidates.first {
            config = first
            if candidates.count > 1 {
                notes.append("the file does not record window sizes (no relative_position_index buffers); "
                    + candidates.map(\.name).joined(separator: ", ") + " share all its shapes; assuming \(first.name) "
                    + "(choose another with --model)")
            }
            if numClasses != first.numClasses {
                config.name = "custom"
                config.numClasses = numClasses
                notes.append("architecture of \(first.name) with a \(numClasses)-class head")
            }
            if let r = resolution, r != first.resolution[0] {
                notes.append("its buffers were computed for \(r)x\(r) input; using the preset's \(first.resolution[0])x\(first.resolution[1])")
            }
        } else {
            let w2 = windows[2] ?? 7, w3 = windows[3] ?? 7
            let res = resolution ?? (hat[2] || hat[3] ? 224 : max(224, w2 * 16))
            config = ModelConfig(name: "custom", dim: dim, inDim: inDim, depths: depths, heads: heads,
                                 windowSize: [7, 7, w2, w3], ctSize: ctSize ?? 2, mlpRatio: mlpRatio,
                                 layerScale: layerScale, layerScaleConv: layerScaleConv, hat: hat,
                                 doPropagation: layerScale != nil, numClasses: numClasses,
                                 resolution: [res, res], cropPct: 1.0, cropMode: "center")
            notes.append("no official preset matches; built a custom configuration")
            if windows[2] == nil || windows[3] == nil { notes.append("window sizes not recorded in the file; assumed 7 (use --config to set them)") }
            if (hat[2] || hat[3]) && ctSize == nil { notes.append("carrier-token size not recorded in the file; assumed 2") }
        }
        return Result(config: config, candidates: candidates.map(\.name), notes: notes,
                      observedWindows: [windows[2], windows[3]], observedCtSize: ctSize, observedResolution: resolution)
    }
}
