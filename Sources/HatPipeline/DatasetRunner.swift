// Runs a command over the blocks of a dataset shard: images are decoded on their own threads
// ahead of the network (decoding overlaps the forward passes), each block goes to the command's
// job as one batch, and each finished block is recorded in the run's progress (so a killed run
// resumes). Inputs that cannot be read are skipped with the reason, never end the run.
//
//   decoders (threads)        workers (`jobs` threads)            progress
//   item -> NetworkInput  ->  block of inputs -> job.process  ->  record(block, sums, rows, skipped)
//
// Every image's numbers are the job's business; they must not depend on which worker ran the
// block or when (the network computes each image of a block the same whatever else runs), so the
// result is the same for any `jobs`, any shard split and any resume.
import Foundation
import HatCore
import HatRecording
import HatSystem

/// A decoded input of a block.
public struct DatasetInput: @unchecked Sendable {
    /// Its place in the list.
    public var index: Int
    public var item: DatasetItem
    public var input: NetworkInput
}

/// What a job made of one block.
public struct DatasetBlockResult<Summary: DatasetSummary, Row: Codable & Sendable> {
    public var summary: Summary
    public var rows: [IndexedRow<Row>]
    public var skipped: [SkippedInput]
    public init(summary: Summary, rows: [IndexedRow<Row>] = [], skipped: [SkippedInput] = []) {
        self.summary = summary; self.rows = rows; self.skipped = skipped
    }
}

/// A command's work on one block of decoded inputs (in list order). Per-image problems become
/// `skipped` entries; a thrown error ends the whole run (a bug or a broken disk, not an image).
public protocol DatasetJob: Sendable {
    associatedtype Summary: DatasetSummary
    associatedtype Row: Codable & Sendable
    func process(_ inputs: [DatasetInput]) throws -> DatasetBlockResult<Summary, Row>
}

public enum DatasetRunner {
    /// What a run tells its caller while it goes.
    public struct Events: Sendable {
        /// Images (used or skipped) finished by an earlier run of the same command, of the shard's total.
        public var resumed: @Sendable (_ done: Int, _ total: Int) -> Void
        public var progress: @Sendable (Counts, _ lastName: String) -> Void
        /// An input left out in this process.
        public var skipped: @Sendable (SkippedInput) -> Void
        public init(resumed: @escaping @Sendable (Int, Int) -> Void = { _, _ in },
                    progress: @escaping @Sendable (Counts, String) -> Void = { _, _ in },
                    skipped: @escaping @Sendable (SkippedInput) -> Void = { _ in }) {
            self.resumed = resumed; self.progress = progress; self.skipped = skipped
        }
    }

    /// The whole shard: opens the run's progress in `outFolder` (continuing an earlier run of the
    /// same command), runs the blocks not done yet, and returns the partial result with the
    /// progress, to be removed once the caller's outputs are written. Inputs are read with the
    /// one input reader for `model`.
    public static func runShard<J: DatasetJob>(
        _ job: J, list: DatasetList, shard: ShardSpec, outFolder: String, fingerprint: RunFingerprint,
        model: ModelRun, jobs: Int, decoders: Int, events: Events = Events()
    ) throws -> (partial: PartialResult<J.Summary, J.Row>, progress: DatasetProgress<J.Summary, J.Row>) {
        let progress = try DatasetProgress<J.Summary, J.Row>(outFolder: outFolder, fingerprint: fingerprint, list: list, shard: shard)
        let total = list.range(ofBlocks: shard.blocks(of: list.blockCount)).count
        if progress.resumedBlocks > 0 { events.resumed(progress.resumedImages, total) }
        let config = model.config
        try run(job, list: list, shard: shard, progress: progress, jobs: jobs, decoders: decoders,
                decode: { item in
                    try item.checkRegular()
                    return try NetworkInputReader.read(item.path, config: config)
                },
                onProgress: events.progress, onSkip: events.skipped)
        return (try progress.partial(list: list, shard: shard), progress)
    }

    /// Blocks run at once by default: one (a block is a batch that already fills the cores).
    public static func defaultJobs(requested: Int) -> Int { requested > 0 ? requested : 1 }

    /// Decoding threads: one per four cores, at least one.
    public static var defaultDecoders: Int { max(1, Parallel.cores / 4) }

    public struct Counts: Sendable {
        /// Images of the shard.
        public var total: Int
        /// Images finished (used or skipped), resumed ones included.
        public var done: Int
    }

    /// Runs every block of `shard` not yet in `progress`. `decode` reads one input (any error
    /// skips it); `jobs` blocks run at once; `decoders` threads decode ahead. `onProgress(counts,
    /// name)` after each block, `onSkip` for each input left out in this process.
    public static func run<J: DatasetJob>(
        _ job: J, list: DatasetList, shard: ShardSpec, progress: DatasetProgress<J.Summary, J.Row>,
        jobs: Int, decoders: Int,
        decode: @escaping @Sendable (DatasetItem) throws -> NetworkInput,
        onProgress: @escaping @Sendable (Counts, String) -> Void,
        onSkip: @escaping @Sendable (SkippedInput) -> Void
    ) throws {
        let blocks = shard.blocks(of: list.blockCount)
        let pending = blocks.filter { !progress.isDone($0) }
        let total = list.range(ofBlocks: blocks).count
        let queue = DecodeQueue(list: list, blocks: pending, ahead: max(2, jobs + 1), decode: decode)
        let state = RunState(done: total - pending.reduce(0) { $0 + list.range(ofBlock: $1).count })
        let workers = max(1, min(jobs, pending.count))

        queue.start(threads: max(1, decoders))
        let group = DispatchGroup()
        for _ in 0 ..< workers {
            group.enter()
            Thread {
                defer { group.leave() }
                while let (b, decoded) = queue.next() {
                    if state.failed { return }
                    do {
                        var inputs: [DatasetInput] = []
                        var skipped: [SkippedInput] = []
                        for (i, result) in decoded {
                            switch result {
                            case let .success(input): inputs.append(DatasetInput(index: i, item: list.items[i], input: input))
                            case let .failure(error):
                                skipped.append(SkippedInput(index: i, name: list.items[i].name,
                                                            reason: reason(error, path: list.items[i].path)))
                            }
                        }
                        let result = inputs.isEmpty ? DatasetBlockResult(summary: J.Summary()) : try job.process(inputs)
                        skipped = (skipped + result.skipped).sorted { $0.index < $1.index }
                        try progress.record(block: b, summary: result.summary, rows: result.rows, skipped: skipped)
                        for s in skipped { onSkip(s) }
                        let done = state.add(list.range(ofBlock: b).count)
                        onProgress(Counts(total: total, done: done), list.items[list.range(ofBlock: b).upperBound - 1].name)
                    } catch {
                        state.fail(error)
                        queue.stop()
                        return
                    }
                }
            }.start()
        }
        group.wait()
        queue.stop()
        if let e = state.error { throw e }
        try progress.save()
    }

    /// The reason without the file name the message may start with (the name is shown beside it).
    static func reason(_ error: Error, path: String) -> String {
        var text = "\(error)"
        for prefix in [path + ": ", "cannot read " + path + ": ", UserMessage.name(path) + ": ",
                       "cannot read " + UserMessage.name(path) + ": "] where text.hasPrefix(prefix) {
            text = String(text.dropFirst(prefix.count))
        }
        return text.split(separator: "\n").first.map(String.init) ?? text
    }

    final class RunState: @unchecked Sendable {
        private let lock = NSLock()
        private var doneCount: Int
        private(set) var error: Error?
        init(done: Int) { doneCount = done }
        var failed: Bool { lock.withLock { error != nil } }
        func fail(_ e: Error) { lock.withLock { if error == nil { error = e } } }
        func add(_ n: Int) -> Int { lock.withLock { doneCount += n; return doneCount } }
    }
}

/// Decodes the images of the pending blocks in list order on `threads` threads, at most `ahead`
/// blocks beyond the ones handed out, and hands out whole blocks in order.
final class DecodeQueue: @unchecked Sendable {
    typealias Decoded = [(Int, Result<NetworkInput, Error>)]
    private let list: DatasetList
    private let blocks: [Int]
    private let ahead: Int
    private let decode: @Sendable (DatasetItem) throws -> NetworkInput
    private let cond = NSCondition()
    /// Next (block position, image) to decode.
    private var nextBlock = 0, nextImage = 0
    /// Blocks handed to workers.
    private var handedOut = 0
    private var results: [Int: [Int: Result<NetworkInput, Error>]] = [:]
    private var stopped = false

    init(list: DatasetList, blocks: [Int], ahead: Int, decode: @escaping @Sendable (DatasetItem) throws -> NetworkInput) {
        self.list = list; self.blocks = blocks; self.ahead = ahead; self.decode = decode
    }

    func start(threads: Int) {
        for _ in 0 ..< threads { Thread { self.decodeLoop() }.start() }
    }

    func stop() {
        cond.lock(); stopped = true; cond.broadcast(); cond.unlock()
    }

    private func decodeLoop() {
        while true {
            cond.lock()
            while !stopped && nextBlock < blocks.count && nextBlock >= handedOut + ahead { cond.wait() }
            if stopped || nextBlock >= blocks.count { cond.unlock(); return }
            let position = nextBlock
            let range = list.range(ofBlock: blocks[position])
            let index = range.lowerBound + nextImage
            nextImage += 1
            if nextImage >= range.count { nextImage = 0; nextBlock += 1 }
            cond.unlock()

            let result: Result<NetworkInput, Error>
            do { result = .success(try decode(list.items[index])) } catch { result = .failure(error) }

            cond.lock()
            results[position, default: [:]][index] = result
            cond.broadcast()
            cond.unlock()
        }
    }

    /// The next block (its number and its decoded images in list order), or nil when all are
    /// handed out or the run stopped. Waits until the block is decoded.
    func next() -> (Int, Decoded)? {
        cond.lock(); defer { cond.unlock() }
        guard !stopped, handedOut < blocks.count else { return nil }
        let position = handedOut
        handedOut += 1
        cond.broadcast()
        let count = list.range(ofBlock: blocks[position]).count
        while !stopped && (results[position]?.count ?? 0) < count { cond.wait() }
        if stopped { return nil }
        let decoded = results.removeValue(forKey: position) ?? [:]
        return (blocks[position], decoded.keys.sorted().map { ($0, decoded[$0]!) })
    }
}
