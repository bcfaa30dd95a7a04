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

#if os(Linux)
/// glibc's mallopt(3); <malloc.h> is not part of the Glibc module map, so it is declared here.
@_silgen_name("mallopt")
private func glibcMallopt(_ param: Int32, _ value: Int32) -> Int32
#endif

public enum MemoryPolicy {
    /// Keeps freed activation buffers (up to 32 MB each) in the heap for reuse instead of
    /// returning them to the kernel: every forward pass allocates the same sizes again, and fresh
    /// pages cost a page fault and zeroing each time. Process-wide; called by the model's init.
    public static func reuseFreedBuffers() {
        #if os(Linux)
        _ = glibcMallopt(-3, 32 << 20)    // M_MMAP_THRESHOLD
        _ = glibcMallopt(-1, 256 << 20)   // M_TRIM_THRESHOLD
        #endif
    }
}
