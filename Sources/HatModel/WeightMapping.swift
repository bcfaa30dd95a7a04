// Strict mapping between a state dict and the model: every learned tensor the model reads is
// present with its shape, and every learned tensor in the file is read. Derived buffers are
// ignored (the model recomputes them; their shapes depend on the build resolution).
import HatCore
import HatRecording

public enum WeightMapping {
    /// Last name components of buffers the model derives instead of reading.
    public static let derivedBuffers: Set<String> = [
        "relative_position_index", "relative_coords_table", "relative_bias", "num_batches_tracked",
    ]

    public static func isDerived(_ key: String) -> Bool {
        guard let last = key.split(separator: ".").last else { return false }
        return derivedBuffers.contains(String(last))
    }

    /// Throws `WeightError.mapping` listing missing (in model order), unexpected (sorted) and
    /// mis-shaped keys when `file` and `expected` (FasterViT.parameterShapes) differ. `optional`
    /// lists learned tensors the file may hold although the model skips them at this input size
    /// (see `optionalShapes`); they must still have the right shape.
    public static func verify(file: [String: [Int]], expected: [(String, [Int])],
                              optional: [(String, [Int])] = []) throws {
        var missing: [(String, [Int])] = []
        var misshaped: [(String, [Int], [Int])] = []
        var wanted = Set<String>()
        for (k, s) in expected {
            wanted.insert(k)
            guard let got = file[k] else { missing.append((k, s)); continue }
            if got != s { misshaped.append((k, s, got)) }
        }
        for (k, s) in optional where !wanted.contains(k) {
            wanted.insert(k)
            if let got = file[k], got != s { misshaped.append((k, s, got)) }
        }
        let unexpected = file.filter { !wanted.contains($0.key) && !isDerived($0.key) }
            .map { ($0.key, $0.value) }.sorted { $0.0 < $1.0 }
        if !missing.isEmpty || !unexpected.isEmpty || !misshaped.isEmpty {
            throw WeightError.mapping(missing: missing, unexpected: unexpected, misshaped: misshaped)
        }
    }

    /// Learned tensors of `config` that exist in its checkpoints but that the model does not read
    /// at `resolution`: carrier-token parts of a stage with a single window, `hat_pos_embed` of a
    /// non-square carrier grid (faster_vit_any_res.py). They are the tensors read at a square input
    /// large enough for every hierarchical stage to have several windows, minus those read now.
    public static func optionalShapes(for config: ModelConfig, resolution: [Int]? = nil) -> [(String, [Int])] {
        let now = Set(FasterViT.parameterShapes(for: config, resolution: resolution).map(\.0))
        let side = 64 * max(config.windowSize.max() ?? 1, 1)
        return FasterViT.parameterShapes(for: config, resolution: [side, side]).filter { !now.contains($0.0) }
    }
}

extension WeightMapping {
    /// The mismatch as at most `limit` key lines plus a header, with the lines shared among the
    /// three kinds (so a long "missing" list cannot hide the mis-shaped keys that explain it).
    public static func report(_ error: WeightError, limit: Int = 18) -> [String] {
        guard case let .mapping(missing, unexpected, misshaped) = error else { return [error.description] }
        let counts = [missing.count, unexpected.count, misshaped.count]
        // Round-robin the line budget over the non-empty kinds.
        var quota = [0, 0, 0]
        var left = limit
        while left > 0 {
            var gave = false
            for k in 0..<3 where quota[k] < counts[k] && left > 0 { quota[k] += 1; left -= 1; gave = true }
            if !gave { break }
        }
        var lines = ["the checkpoint does not match the model (\(missing.count) missing, \(unexpected.count) unexpected, \(misshaped.count) mis-shaped keys)"]
        for (k, s) in missing.prefix(quota[0]) { lines.append("  missing     \(k) \(describe(shape: s))") }
        for (k, s) in unexpected.prefix(quota[1]) { lines.append("  unexpected  \(k) \(describe(shape: s))") }
        for (k, e, a) in misshaped.prefix(quota[2]) {
            lines.append("  mis-shaped  \(k) expected \(describe(shape: e)) got \(describe(shape: a))")
        }
        let hidden = counts.reduce(0, +) - quota.reduce(0, +)
        if hidden > 0 { lines.append("  ... and \(hidden) more") }
        return lines
    }
}
