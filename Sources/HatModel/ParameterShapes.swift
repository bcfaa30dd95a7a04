// Every learned tensor the model reads, under its official state_dict name, with its shape.
// Derived buffers (`relative_position_index`, `relative_coords_table`, `relative_bias`,
// `num_batches_tracked`) are excluded: the model recomputes them.
//
// Structure depends on the resolution the model is built for (default: config.resolution): a
// transformer stage has carrier-token parts (`hat_*`, `gamma1/2`, `global_tokenizer`) only when
// hierarchical at that resolution, and `hat_pos_embed` only when its window grid is square
// (faster_vit_any_res.py). `global_tokenizer` is listed only for hierarchical stages, as
// faster_vit.py builds it (the any-res file also builds an unused one when hat[i] but sr == 1).
// The official TokenInitializer registers its depthwise conv twice, so both
// `global_tokenizer.pos_embed.*` and `global_tokenizer.to_global_feature.pos.*` are in checkpoints.
import HatRecording

extension FasterViT {
    public static func parameterShapes(for config: ModelConfig, resolution: [Int]? = nil) -> [(String, [Int])] {
        let res = resolution ?? config.resolution
        let geometry = ModelGeometry(config: config, inputHeight: res[0], inputWidth: res[1])
        var out: [(String, [Int])] = []
        func add(_ name: String, _ shape: [Int]) { out.append((name, shape)) }
        func batchNorm(_ p: String, _ c: Int) {
            for s in ["weight", "bias", "running_mean", "running_var"] { add("\(p).\(s)", [c]) }
        }
        func linear(_ p: String, _ inF: Int, _ outF: Int, bias: Bool = true) {
            add("\(p).weight", [outF, inF])
            if bias { add("\(p).bias", [outF]) }
        }
        func layerNorm(_ p: String, _ c: Int) { add("\(p).weight", [c]); add("\(p).bias", [c]) }
        func posMLP(_ p: String, _ outF: Int) {
            linear("\(p).cpb_mlp.0", 2, 512)
            linear("\(p).cpb_mlp.2", 512, outF, bias: false)
        }
        func attention(_ p: String, _ c: Int, _ heads: Int) {
            linear("\(p).qkv", c, 3 * c)
            linear("\(p).proj", c, c)
            posMLP("\(p).pos_emb_funct", heads)
        }
        func mlp(_ p: String, _ c: Int) {
            let hidden = Int(Float(c) * config.mlpRatio)
            linear("\(p).fc1", c, hidden)
            linear("\(p).fc2", hidden, c)
        }

        add("patch_embed.conv_down.0.weight", [config.inDim, 3, 3, 3])
        batchNorm("patch_embed.conv_down.1", config.inDim)
        add("patch_embed.conv_down.3.weight", [config.dim, config.inDim, 3, 3])
        batchNorm("patch_embed.conv_down.4", config.dim)

        for level in 0..<4 {
            let c = config.stageDim(level)
            let p = "levels.\(level)"
            if level < 2 {
                for j in 0..<config.depths[level] {
                    let b = "\(p).blocks.\(j)"
                    if config.layerScaleConv != nil { add("\(b).gamma", [c]) }
                    add("\(b).conv1.weight", [c, c, 3, 3]); add("\(b).conv1.bias", [c])
                    batchNorm("\(b).norm1", c)
                    add("\(b).conv2.weight", [c, c, 3, 3]); add("\(b).conv2.bias", [c])
                    batchNorm("\(b).norm2", c)
                }
            } else {
                let layout = geometry.stages[level - 2]
                let heads = config.heads[level]
                for j in 0..<config.depths[level] {
                    let b = "\(p).blocks.\(j)"
                    if config.layerScale != nil {
                        add("\(b).gamma3", [c]); add("\(b).gamma4", [c])
                        if layout.hasCarriers { add("\(b).gamma1", [c]); add("\(b).gamma2", [c]) }
                    }
                    posMLP("\(b).pos_embed", c)
                    layerNorm("\(b).norm1", c)
                    attention("\(b).attn", c, heads)
                    layerNorm("\(b).norm2", c)
                    mlp("\(b).mlp", c)
                    if layout.hasCarriers {
                        layerNorm("\(b).hat_norm1", c)
                        layerNorm("\(b).hat_norm2", c)
                        attention("\(b).hat_attn", c, heads)
                        mlp("\(b).hat_mlp", c)
                        if layout.squareCarrierGrid { posMLP("\(b).hat_pos_embed", c) }
                    }
                }
                if layout.hasCarriers {
                    for g in ["pos_embed", "to_global_feature.pos"] {
                        add("\(p).global_tokenizer.\(g).weight", [c, 1, 3, 3])
                        add("\(p).global_tokenizer.\(g).bias", [c])
                    }
                }
            }
            if level < 3 {
                layerNorm("\(p).downsample.norm", c)
                add("\(p).downsample.reduction.0.weight", [2 * c, c, 3, 3])
            }
        }
        let features = config.stageDim(3)
        batchNorm("norm", features)
        linear("head", features, config.numClasses)
        return out
    }
}
