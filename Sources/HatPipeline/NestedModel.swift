// A FasterViT inside a larger model's state dict, as trainers save it: a LightningModule holding
// the network as `self.model` ('model.*' beside a loss module's tensors), a framework's
// 'backbone.*', a distillation run's 'student.*' and 'teacher.*'. The network is found by its
// stem convolution; one found is taken (its prefix removed, the other tensors left out and
// listed); of several the user chooses with --submodule. An exponential-moving-average copy kept
// beside the network (timm's ModelEma inside a LightningModule: 'model_ema.module.*') is told
// apart by its name: the network is taken by default and the copy with --ema, as for a training
// checkpoint's top-level 'state_dict' / 'state_dict_ema'. A state dict with the stem at the top
// level is the network itself and is taken as it is.
import HatCheckpoint

public enum NestedModel {
    /// The first tensor every FasterViT has (the stem's first convolution).
    static let stem = "patch_embed.conv_down.0.weight"

    /// The prefixes under which `d` holds a FasterViT ("model.", ...; "" for the top level).
    public static func prefixes(in d: LoadedStateDict) -> [String] {
        d.order.filter { $0 == stem || $0.hasSuffix("." + stem) }.map { String($0.dropLast(stem.count)) }
    }

    /// Whether `prefix` names an EMA copy: a component "ema", "ema_*" or "*_ema" ('model_ema.module.',
    /// 'ema.', 'ema_model.').
    public static func isEMA(_ prefix: String) -> Bool {
        prefix.split(separator: ".").contains { part in
            let p = part.lowercased()
            return p == "ema" || p.hasPrefix("ema_") || p.hasSuffix("_ema")
        }
    }

    /// `d` reduced to the FasterViT under `submodule` (a prefix with or without its final dot),
    /// or, without one, under the one prefix holding a network (with `ema`: the one EMA copy; without:
    /// the one that is not an EMA copy). Unchanged when the network is at the top level or no
    /// FasterViT is found (variant inference then says what is missing).
    public static func locate(_ d: LoadedStateDict, submodule: String?, ema: Bool = false) throws -> LoadedStateDict {
        let found = prefixes(in: d)
        let list = found.map { $0.isEmpty ? "the top level" : "'\($0)'" + (isEMA($0) ? " (an EMA copy)" : "") }
            .joined(separator: ", ")
        if let submodule {
            let p = submodule.isEmpty || submodule.hasSuffix(".") ? submodule : submodule + "."
            guard found.contains(p) else {
                throw PipelineError("--submodule \(submodule): no FasterViT there (no \(p + stem)); "
                                    + (found.isEmpty ? "the checkpoint holds none" : "the checkpoint holds one under \(list)"))
            }
            return p.isEmpty ? d : try select(d, prefix: p, others: found)
        }
        if !ema, found.contains("") || found.isEmpty { return d }
        let copies = found.filter(isEMA)
        let candidates = ema ? copies : (copies.count < found.count ? found.filter { !isEMA($0) } : found)
        if candidates.count == 1 { return try select(d, prefix: candidates[0], others: found) }
        if ema && candidates.isEmpty {
            throw PipelineError("--ema: the checkpoint holds no EMA copy of the network"
                                + (found.isEmpty ? "" : " (FasterViTs under \(list)); choose one with --submodule"))
        }
        throw PipelineError("the checkpoint holds \(found.count) FasterViTs (under \(list)); "
                            + "choose one with --submodule (e.g. --submodule \(candidates[0].dropLast()))")
    }

    private static func select(_ d: LoadedStateDict, prefix: String, others found: [String]) throws -> LoadedStateDict {
        // Names under one prefix stay distinct once it is removed, so renaming cannot collide.
        var out = try d.renamed { $0.hasPrefix(prefix) ? String($0.dropFirst(prefix.count)) : nil }
        let left = d.order.filter { !$0.hasPrefix(prefix) }
        out.submodule = prefix
        if !left.isEmpty {
            let shown = left.prefix(6).joined(separator: ", ") + (left.count > 6 ? ", ..." : "")
            out.extras.insert("\(left.count) tensor\(left.count == 1 ? "" : "s") outside it left out: \(shown)", at: 0)
        }
        for other in found where other != prefix && isEMA(other) && !isEMA(prefix) {
            out.extras.insert("'\(other)' holds an EMA copy of the network (use --ema to load it)", at: 0)
        }
        return out
    }
}
