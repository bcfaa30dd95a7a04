// What can go wrong when building the model or running it on an input.
import HatCore

public enum ModelError: Error, Equatable, CustomStringConvertible {
    /// The input is not [N, 3, H, W] with N >= 1.
    case inputShape([Int])
    /// The input has the wrong number of channels.
    case channels(Int)
    /// The model cannot take this input resolution (reason says why).
    case resolution(height: Int, width: Int, reason: String)
    /// The input holds NaN or infinite values.
    case nonFinite(count: Int)
    /// The configuration is not one the official code can build.
    case configuration(String)
    /// A weight is missing or mis-shaped.
    case weights(WeightError)
    /// A stored buffer the forward would read holds values the official forward fails on too.
    case buffer(String)

    public var description: String {
        switch self {
        case let .inputShape(s):
            return "input has shape \(describe(shape: s)), expected [N, 3, H, W] (N >= 1 images)"
        case let .channels(c):
            return "input has \(c) channels, the model takes 3 (RGB)"
        case let .resolution(h, w, reason):
            return "the model cannot take a \(h)x\(w) input: \(reason)"
        case let .nonFinite(n):
            return "input holds \(n) NaN or infinite value\(n == 1 ? "" : "s")"
        case let .configuration(m):
            return "invalid model configuration: \(m)"
        case let .weights(e):
            return e.description
        case let .buffer(m):
            return m
        }
    }
}

/// Reads weights under a key prefix (`levels.2.blocks.0.`), turning weight errors into ModelError.
struct WeightReader {
    let source: WeightSource
    let prefix: String

    init(_ source: WeightSource, prefix: String = "") {
        self.source = source
        self.prefix = prefix
    }

    func child(_ name: String) -> WeightReader { WeightReader(source, prefix: prefix + name + ".") }

    func tensor(_ name: String, _ shape: [Int]) throws -> Tensor {
        do { return try source.tensor(prefix + name, shape: shape) } catch let e as WeightError {
            throw ModelError.weights(e)
        }
    }

    func array(_ name: String, _ shape: [Int]) throws -> [Float] { try tensor(name, shape).data }

    /// The full state_dict name of `name` under this prefix.
    func key(_ name: String) -> String { prefix + name }

    /// A stored buffer at whatever shape the checkpoint has, or nil when absent.
    func storedBuffer(_ name: String) throws -> Tensor? {
        guard let shape = source.shape(of: prefix + name) else { return nil }
        return try tensor(name, shape)
    }

    func linear(_ name: String, in inF: Int, out outF: Int, bias: Bool = true) throws -> Linear {
        let p = child(name)
        return Linear(weight: try p.tensor("weight", [outF, inF]), bias: bias ? try p.tensor("bias", [outF]) : nil)
    }

    func layerNorm(_ name: String, _ c: Int, eps: Float) throws -> LayerNormParameters {
        let p = child(name)
        return LayerNormParameters(weight: try p.array("weight", [c]), bias: try p.array("bias", [c]), eps: eps)
    }

    func batchNorm(_ name: String, _ c: Int, eps: Float) throws -> BatchNormParameters {
        let p = child(name)
        return BatchNormParameters(gamma: try p.array("weight", [c]), beta: try p.array("bias", [c]),
                                   mean: try p.array("running_mean", [c]), variance: try p.array("running_var", [c]),
                                   eps: eps)
    }
}
