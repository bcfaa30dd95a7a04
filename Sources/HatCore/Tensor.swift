// A dense float32 tensor: a shape and its elements, row-major (the last index varies fastest).
// Activations are NCHW ([1, C, H, W]) in the convolutional part and [tokens, channels] in the
// transformer part; every buffer states its shape where it is made.

public struct Tensor: Sendable, Equatable {
    /// Sizes of each dimension, outermost first.
    public var shape: [Int]
    /// product(shape) elements, row-major.
    public var data: [Float]

    /// Wraps `data`, which must hold exactly product(shape) elements.
    public init(shape: [Int], data: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        precondition(Tensor.count(of: shape) == data.count,
                     "shape \(shape) needs \(Tensor.count(of: shape)) elements, got \(data.count)")
        self.shape = shape
        self.data = data
    }

    /// A tensor of zeros.
    public init(zeros shape: [Int]) {
        self.init(shape: shape, data: [Float](repeating: 0, count: Tensor.count(of: shape)))
    }

    /// Number of elements.
    public var count: Int { data.count }

    /// Number of elements of a shape (1 for a scalar's empty shape).
    public static func count(of shape: [Int]) -> Int { shape.reduce(1, *) }
}

/// Shape as people write it: [1, 3, 224, 224].
public func describe(shape: [Int]) -> String {
    "[" + shape.map(String.init).joined(separator: ", ") + "]"
}
