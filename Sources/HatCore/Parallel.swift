// Work that is not a matrix product runs on all cores: `forRanges` splits 0..<count into a few
// contiguous chunks and runs them on the spinning worker pool (SpinPool.swift), or with
// DispatchQueue.concurrentPerform when the pool is busy (a nested or concurrent call).
import Foundation

public enum Parallel {
    /// Cores available to this process.
    public static let cores: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// Runs `body` with every Parallel loop it starts, on this thread only, run serially (other
    /// threads are unaffected): for timing one core's work, or for callers that run several
    /// independent computations on threads of their own.
    static func serial<T>(_ body: () throws -> T) rethrows -> T {
        let was = serialDepth.pointee
        serialDepth.pointee = was + 1
        defer { serialDepth.pointee = was }
        return try body()
    }

    /// Nesting depth of `serial` on the calling thread (0: loops run in parallel).
    private static var serialDepth: UnsafeMutablePointer<Int> { ThreadFlag.depth }

    /// Runs `body` on disjoint ranges covering 0..<count. Serial when the work is small
    /// (count < minPerChunk * 2) so tiny loops do not pay the dispatch cost: callers size
    /// minPerChunk to roughly 32k elements of work (~10 us, well above a thread wake-up).
    public static func forRanges(_ count: Int, minPerChunk: Int = 1, _ body: (Range<Int>) -> Void) {
        if count <= 0 { return }
        if serialDepth.pointee > 0 { body(0..<count); return }
        let chunks = min(cores, max(1, count / max(1, minPerChunk)))
        if chunks <= 1 { body(0..<count); return }
        let per = (count + chunks - 1) / chunks
        let chunk = { (t: Int) in
            let lo = t * per, hi = min(count, lo + per)
            if lo < hi { body(lo..<hi) }
        }
        if let pool = SpinPool.shared, pool.run(chunks, chunk) { return }
        withoutActuallyEscaping(chunk) { chunk in
            let box = SendableBox(chunk)
            DispatchQueue.concurrentPerform(iterations: chunks) { box.value($0) }
        }
    }

    /// Runs `body(i)` for every i in 0..<count, spread over the cores.
    public static func forEach(_ count: Int, _ body: (Int) -> Void) {
        if count <= 0 { return }
        if count == 1 || cores == 1 || serialDepth.pointee > 0 { for i in 0..<count { body(i) }; return }
        if let pool = SpinPool.shared, pool.run(count, body) { return }
        withoutActuallyEscaping(body) { body in
            let box = SendableBox(body)
            DispatchQueue.concurrentPerform(iterations: count) { box.value($0) }
        }
    }
}

/// concurrentPerform wants a @Sendable closure; our loop bodies write disjoint parts of buffers
/// through raw pointers, which is safe but not expressible to the checker.
private struct SendableBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// A per-thread counter (pthread key), created on first use by each thread.
private enum ThreadFlag {
    static let key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k) { $0?.deallocate() }
        return k
    }()

    static var depth: UnsafeMutablePointer<Int> {
        if let p = pthread_getspecific(key) { return p.assumingMemoryBound(to: Int.self) }
        let p = UnsafeMutablePointer<Int>.allocate(capacity: 1)
        p.initialize(to: 0)
        pthread_setspecific(key, p)
        return p
    }
}
