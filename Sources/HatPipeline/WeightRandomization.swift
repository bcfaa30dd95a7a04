// Cascading randomisation of a model's weights for the sanity check of saliency maps (Adebayo et
// al., "Sanity Checks for Saliency Maps", 2018): from the classification head down, one part of
// the model after the other gets random weights, cumulatively; a map that explains the model
// should change as it loses what it learned.
//
// Steps (cumulative): 1 the head (`head`, and the final `norm`), 2 `levels.3`, 3 `levels.2`,
// 4 `levels.1`, 5 `levels.0`, 6 `patch_embed`. Every learned tensor of a randomised part is
// replaced by Gaussian values with the trained tensor's mean and standard deviation (so
// activations keep their scale; a constant tensor such as a LayerNorm weight of ones stays as it
// is), drawn from SplitMix64 seeded with the run's seed and the tensor's name: a tensor gets the
// same values in every step and every run. BatchNorm running statistics and the derived position
// buffers are kept.
import Foundation
import HatCore
import HatModel
import HatRecording

public enum WeightRandomization {
    public struct Step: Sendable, Equatable {
        /// "head", "levels.3", ...: the part randomised at this step (on top of the earlier ones).
        public var name: String
        /// State-dict prefixes randomised up to and including this step.
        public var prefixes: [String]
    }

    /// The cascade, head first.
    public static let steps: [Step] = {
        let parts: [(String, [String])] = [("head", ["head.", "norm."]), ("levels.3", ["levels.3."]), ("levels.2", ["levels.2."]),
                                           ("levels.1", ["levels.1."]), ("levels.0", ["levels.0."]), ("patch_embed", ["patch_embed."])]
        var acc: [String] = []
        return parts.map { name, p in acc += p; return Step(name: name, prefixes: acc) }
    }()

    /// Whether `name` is a learned tensor (not a BatchNorm statistic or a derived buffer).
    static func isLearned(_ name: String) -> Bool {
        !(name.hasSuffix(".running_mean") || name.hasSuffix(".running_var") || name.hasSuffix(".num_batches_tracked")
          || WeightMapping.isDerived(name))
    }

    /// `tensors` with every learned tensor under one of `prefixes` replaced as described above.
    public static func randomized(_ tensors: [String: Tensor], prefixes: [String], seed: UInt64) -> [String: Tensor] {
        var out = tensors
        for (name, t) in tensors where isLearned(name) && prefixes.contains(where: { name.hasPrefix($0) }) {
            out[name] = Tensor(shape: t.shape, data: gaussianLike(t.data, seed: seed ^ fnv1a(name)))
        }
        return out
    }

    /// Values with the mean and standard deviation of `data`, from a seeded generator.
    static func gaussianLike(_ data: [Float], seed: UInt64) -> [Float] {
        guard !data.isEmpty else { return data }
        var sum = 0.0, squares = 0.0
        for v in data { sum += Double(v); squares += Double(v) * Double(v) }
        let n = Double(data.count), mean = sum / n
        let sd = (max(0, squares / n - mean * mean)).squareRoot()
        var state = seed
        func uniform() -> Double {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            return (Double(z >> 11) + 0.5) / Double(1 << 53)
        }
        var out = [Float](repeating: 0, count: data.count)
        var i = 0
        while i < out.count {
            // Box-Muller: two normal values per pair of uniforms.
            let r = (-2 * Foundation.log(uniform())).squareRoot(), a = 2 * Double.pi * uniform()
            out[i] = Float(mean + sd * r * Foundation.cos(a))
            if i + 1 < out.count { out[i + 1] = Float(mean + sd * r * Foundation.sin(a)) }
            i += 2
        }
        return out
    }

    /// FNV-1a of the name's bytes: a stable per-tensor seed.
    static func fnv1a(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }
}

extension ModelRun {
    /// The same model with the weights of the cascade's steps 0...`step` randomised.
    public func randomized(step: Int, seed: UInt64) throws -> ModelRun {
        let prefixes = WeightRandomization.steps[step].prefixes
        return try ModelRun(loaded, weights: WeightRandomization.randomized(loaded.weights.tensors, prefixes: prefixes, seed: seed))
    }
}
