// A fixed-size float scratch buffer with a stable pointer, for activations passed between ops
// without Array copy-on-write or nested withUnsafe... closures. Freed when the last reference goes.

public final class FloatBuffer: @unchecked Sendable {
    public let count: Int
    public let pointer: UnsafeMutablePointer<Float>

    /// `count` floats, zero-filled when `zeroed` (else uninitialized garbage the caller overwrites).
    public init(count: Int, zeroed: Bool = true) {
        self.count = count
        pointer = UnsafeMutablePointer<Float>.allocate(capacity: max(1, count))
        if zeroed { pointer.initialize(repeating: 0, count: count) }
    }

    /// A copy of `values`.
    public convenience init(_ values: [Float]) {
        self.init(count: values.count, zeroed: false)
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    deinit { pointer.deallocate() }

    public var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    public func fill(_ v: Float) { pointer.update(repeating: v, count: count) }
}
