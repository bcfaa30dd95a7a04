// Process-wide settings the engine is tuned for. Library code never applies them by itself, so a
// program that embeds the engine keeps its allocator and BLAS as it set them; the hatscope
// executable applies `EngineOptions.standard` once at start, and the tests do the same.

public struct EngineOptions: Sendable, Equatable {
    /// Keep freed buffers of up to 32 MB in the heap for reuse instead of returning them to the
    /// kernel (glibc mallopt, Linux only): every forward pass allocates the same activation sizes
    /// again, and fresh pages cost a page fault and zeroing each time.
    public var reuseFreedBuffers: Bool
    /// Threads OpenBLAS uses inside one product; nil leaves OpenBLAS's own choice. The engine
    /// splits products over the cores itself (BLAS.sgemmParallel), so 1: OpenBLAS's own worker
    /// threads would spin between calls and steal the cores from the work that follows.
    public var blasThreads: Int?

    public init(reuseFreedBuffers: Bool = true, blasThreads: Int? = 1) {
        self.reuseFreedBuffers = reuseFreedBuffers
        self.blasThreads = blasThreads
    }

    /// What hatscope runs with (and what its performance figures were measured with).
    public static let standard = EngineOptions()

    /// Applies the options to this process: once, from the program's entry point, before the first
    /// forward pass.
    public func apply() {
        if reuseFreedBuffers {
            #if os(Linux)
            _ = glibcMallopt(-3, 32 << 20)    // M_MMAP_THRESHOLD
            _ = glibcMallopt(-1, 256 << 20)   // M_TRIM_THRESHOLD
            #endif
        }
        if let n = blasThreads { BLAS.setThreads(n) }
    }
}

#if os(Linux)
/// glibc's mallopt(3); <malloc.h> is not part of the Glibc module map, so it is declared here.
@_silgen_name("mallopt")
private func glibcMallopt(_ param: Int32, _ value: Int32) -> Int32
#endif
