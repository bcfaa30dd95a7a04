// Per-head statistics over many inputs: one forward pass per input with the recorder, the
// statistics summed. Inputs that cannot be used (unreadable, corrupt, wrong shape) are skipped
// and reported; the run goes on with the others.
//
// Throughput: one forward pass already spreads over the cores (OpenBLAS + parallel loops), but
// its small per-window products leave cores idle; `workers` > 1 runs that many passes at once,
// each on its own thread with OpenBLAS single-threaded.
import Foundation
import HatCore
import HatModel
import HatRecording
import HatViews

public enum StatsRunner {
    public struct Skipped: Sendable, Equatable, Codable {
        public var input: String
        public var reason: String
    }

    public struct Result {
        public var accumulator: HeadStatisticsAccumulator
        public var forwardSeconds: Double
        public var statsSeconds: Double
        /// Inputs that contributed.
        public var used: Int
        /// Inputs left out, in input order.
        public var skipped: [Skipped]
    }

    /// Default worker count: one per core when there are at least as many inputs.
    public static func workers(requested: Int, inputs: Int) -> Int {
        requested > 0 ? min(requested, max(1, inputs)) : (inputs >= Parallel.cores ? Parallel.cores : 1)
    }

    /// Runs every input. `progress(done, input)` after each one; `skipped(entry)` when one is left out.
    public static func run(_ model: ModelRun, inputs: [String], workers: Int,
                           progress: @escaping @Sendable (Int, String) -> Void,
                           skipped: @escaping @Sendable (Skipped) -> Void) throws -> Result {
        final class Shared: @unchecked Sendable {
            let lock = NSLock()
            var next = 0, done = 0
            var skipped: [(Int, Skipped)] = []
            var results: [Result] = []
        }
        let shared = Shared()
        let work: @Sendable () -> Void = {
            var part = Result(accumulator: HeadStatisticsAccumulator(), forwardSeconds: 0, statsSeconds: 0, used: 0, skipped: [])
            while true {
                let i: Int = shared.lock.withLock { defer { shared.next += 1 }; return shared.next }
                if i >= inputs.count { break }
                do {
                    try process(inputs[i], model: model, into: &part)
                } catch {
                    // The reason without the file name the message may start with (it is `input`).
                    var reason = "\(error)"
                    for prefix in [inputs[i] + ": ", "cannot read " + inputs[i] + ": "] where reason.hasPrefix(prefix) {
                        reason = String(reason.dropFirst(prefix.count))
                    }
                    let entry = Skipped(input: inputs[i], reason: reason)
                    shared.lock.withLock { shared.skipped.append((i, entry)) }
                    skipped(entry)
                }
                let d: Int = shared.lock.withLock { shared.done += 1; return shared.done }
                progress(d, inputs[i])
            }
            shared.lock.withLock { shared.results.append(part) }
        }
        if workers <= 1 {
            work()
        } else {
            // One product per thread: the workers themselves fill the cores.
            let previous = BLAS.threads
            BLAS.setThreads(1)
            defer { BLAS.setThreads(previous) }
            let group = DispatchGroup()
            for _ in 0 ..< workers {
                group.enter()
                Thread { work(); group.leave() }.start()
            }
            group.wait()
        }
        var total = Result(accumulator: HeadStatisticsAccumulator(), forwardSeconds: 0, statsSeconds: 0, used: 0, skipped: [])
        for r in shared.results {
            try total.accumulator.merge(r.accumulator)
            total.forwardSeconds += r.forwardSeconds
            total.statsSeconds += r.statsSeconds
            total.used += r.used
        }
        total.skipped = shared.skipped.sorted { $0.0 < $1.0 }.map(\.1)
        return total
    }

    /// One input: read, forward with the recorder, statistics into `part`.
    static func process(_ path: String, model: ModelRun, into part: inout Result) throws {
        let input = try NetworkInputReader.read(path, config: model.config)
        let t0 = Date()
        // Every block is needed; the recorder's memory budget still applies (huge inputs keep
        // fewer blocks and the missing ones are listed).
        let recording = try model.record(input, options: RecorderOptions(blocks: nil, maxAttentionBytes: 1 << 30))
        let t1 = Date()
        // Statistics from different geometries cannot be pooled: the accumulator refuses them.
        var acc = part.accumulator
        try acc.add(recording)
        part.accumulator = acc
        part.forwardSeconds += t1.timeIntervalSince(t0)
        part.statsSeconds += Date().timeIntervalSince(t1)
        part.used += 1
    }
}
