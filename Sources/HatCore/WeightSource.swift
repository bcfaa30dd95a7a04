// Where the model gets its weights. The model never opens files: it asks for a name that mirrors
// the official state_dict key (`levels.2.blocks.0.attn.qkv.weight`) and the shape it expects.

public protocol WeightSource {
    /// The tensor stored under `name`, which must have exactly `shape`.
    /// Throws `WeightError.missing` or `.shapeMismatch`.
    func tensor(_ name: String, shape: [Int]) throws -> Tensor

    /// Whether a tensor named `name` exists (for optional parts such as layer-scale gammas).
    func contains(_ name: String) -> Bool

    /// The stored shape of `name`, or nil when absent. For buffers whose shape depends on the
    /// resolution the checkpoint was saved at: the model reads them only where the shape fits.
    func shape(of name: String) -> [Int]?
}

public enum WeightError: Error, Equatable, CustomStringConvertible {
    case missing(name: String, expected: [Int])
    case shapeMismatch(name: String, expected: [Int], actual: [Int])
    /// A strict-mapping report: keys the model needed and did not find, keys the file holds that the
    /// model did not use, keys whose shape differs.
    case mapping(missing: [(String, [Int])], unexpected: [(String, [Int])], misshaped: [(String, [Int], [Int])])

    public var description: String {
        switch self {
        case let .missing(name, expected):
            return "weight \(name) \(describe(shape: expected)) is missing"
        case let .shapeMismatch(name, expected, actual):
            return "weight \(name) has shape \(describe(shape: actual)), expected \(describe(shape: expected))"
        case let .mapping(missing, unexpected, misshaped):
            var lines = ["the checkpoint does not match the model (\(missing.count) missing, \(unexpected.count) unexpected, \(misshaped.count) mis-shaped keys)"]
            let limit = 20
            var shown = 0
            for (k, s) in missing where shown < limit { lines.append("  missing     \(k) \(describe(shape: s))"); shown += 1 }
            for (k, s) in unexpected where shown < limit { lines.append("  unexpected  \(k) \(describe(shape: s))"); shown += 1 }
            for (k, e, a) in misshaped where shown < limit {
                lines.append("  mis-shaped  \(k) expected \(describe(shape: e)) got \(describe(shape: a))"); shown += 1
            }
            let total = missing.count + unexpected.count + misshaped.count
            if total > shown { lines.append("  ... and \(total - shown) more") }
            return lines.joined(separator: "\n")
        }
    }

    public static func == (a: WeightError, b: WeightError) -> Bool { a.description == b.description }
}

/// An in-memory weight source over a name -> tensor dictionary, remembering which names were read
/// so a loader can report unused tensors (strict mapping).
public final class DictionaryWeightSource: WeightSource, @unchecked Sendable {
    public let tensors: [String: Tensor]
    public private(set) var used: Set<String> = []

    public init(_ tensors: [String: Tensor]) { self.tensors = tensors }

    public func tensor(_ name: String, shape: [Int]) throws -> Tensor {
        guard let t = tensors[name] else { throw WeightError.missing(name: name, expected: shape) }
        guard t.shape == shape else { throw WeightError.shapeMismatch(name: name, expected: shape, actual: t.shape) }
        used.insert(name)
        return t
    }

    public func contains(_ name: String) -> Bool { tensors[name] != nil }

    public func shape(of name: String) -> [Int]? { tensors[name]?.shape }

    /// Names present but never read.
    public var unused: [String] { tensors.keys.filter { !used.contains($0) }.sorted() }
}
