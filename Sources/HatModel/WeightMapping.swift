// Strict mapping between a state dict and the model: every learned tensor the model reads is
// present with its shape, and every learned tensor in the file is read. Derived buffers are
// ignored (the model recomputes them; their shapes depend on the build resolution).
import HatCore

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
    /// mis-shaped keys when `file` and `expected` (FasterViT.parameterShapes) differ.
    public static func verify(file: [String: [Int]], expected: [(String, [Int])]) throws {
        var missing: [(String, [Int])] = []
        var misshaped: [(String, [Int], [Int])] = []
        var wanted = Set<String>()
        for (k, s) in expected {
            wanted.insert(k)
            guard let got = file[k] else { missing.append((k, s)); continue }
            if got != s { misshaped.append((k, s, got)) }
        }
        let unexpected = file.filter { !wanted.contains($0.key) && !isDerived($0.key) }
            .map { ($0.key, $0.value) }.sorted { $0.0 < $1.0 }
        if !missing.isEmpty || !unexpected.isEmpty || !misshaped.isEmpty {
            throw WeightError.mapping(missing: missing, unexpected: unexpected, misshaped: misshaped)
        }
    }
}
