// What a dataset run has finished so far, kept in `OUT/.hatscope-progress/` so a run killed at
// any moment (SIGKILL included) and started again with the same command continues where it
// stopped:
//   progress.json  the blocks done, the images skipped, the summed statistics, and how many bytes
//                  of rows.jsonl are complete; replaced whole (OutputFile: temporary + rename), so
//                  it is always one complete state;
//   rows.jsonl     per-image rows, appended and synced before progress.json names their length;
//                  cut back to that length on restart (AppendJournal).
// A block whose results are not in progress.json is simply done again; since each image's
// numbers do not depend on when or where it ran and sums are exact, the end result is the same
// bits as an uninterrupted run. progress.json also holds the run's fingerprint, list and shard:
// a different command into the same folder is refused instead of mixing.
import Foundation
import HatSystem

public final class DatasetProgress<Summary: DatasetSummary, Row: Codable & Sendable>: @unchecked Sendable {
    public static var folderName: String { OutputFolder.progressFolderName }

    /// What identifies the run.
    struct Header: Codable, Equatable {
        var format = "hatscope-progress"
        var version = 1
        var fingerprint: RunFingerprint
        var list: DatasetListInfo
        var shard: String
    }

    /// The header alone, read before the rest.
    struct HeaderOnly: Decodable { var header: Header }

    struct State: Codable {
        var header: Header
        var done: [BlockRange]
        var skipped: [SkippedInput]
        var summary: Summary
        var rowsLength: Int
    }

    public let folder: String
    private var state: State
    private var journal: AppendJournal?
    private let lock = NSLock()
    private var lastSave = Date.distantPast
    private var lastSaveSeconds = 0.0
    private var dirty = false
    /// Least time between two saves; nil: ten times what the last save took (at most 2 s), so
    /// saving costs at most about a tenth of the run (a save is a write and an fsync: a few ms
    /// on a local disk, more on a network file system).
    public var saveInterval: TimeInterval?

    /// Blocks done before this process started.
    public let resumedBlocks: Int
    /// Images (used or skipped) in those blocks.
    public private(set) var resumedImages = 0

    /// Opens the progress of a run into `outFolder`: the state left by an earlier run of the same
    /// command, or a fresh one. Refuses the progress of a different run (another model, option,
    /// list or shard) with one line.
    public init(outFolder: String, fingerprint: RunFingerprint, list: DatasetList, shard: ShardSpec) throws {
        folder = (outFolder.hasSuffix("/") ? outFolder : outFolder + "/") + Self.folderName
        let header = Header(fingerprint: fingerprint, list: list.info, shard: shard.description)
        let file = folder + "/progress.json"
        // The caller holds the output folder's lock: temporaries here are from killed runs.
        OutputFolder.removeStaleTemporaries(in: folder)
        if FileManager.default.fileExists(atPath: file) {
            let bytes = try InputFile.read(file) { PartialFile.jsonBound($0, what: "progress file") }
            let dec = JSONDecoder()
            dec.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            let progressFolder = folder
            let unreadable = { (error: Error) in
                PipelineError("\(UserMessage.name(file)) cannot be read (\(PartialFile.reason(error))); "
                              + "remove \(UserMessage.name(progressFolder)) to start the run over")
            }
            // The header first: another command's summary would not decode as this one's, and
            // the user should hear which run it is, not what field is missing.
            let oldHeader: Header
            do { oldHeader = try dec.decode(HeaderOnly.self, from: Data(bytes)).header } catch { throw unreadable(error) }
            if let why = Self.difference(oldHeader, header) {
                throw PipelineError("\(UserMessage.name(outFolder)) holds an unfinished run with \(why); finish it with its own "
                                    + "command, or remove \(UserMessage.name(folder)) to start over")
            }
            let old: State
            do { old = try dec.decode(State.self, from: Data(bytes)) } catch { throw unreadable(error) }
            // A hand-edited state would otherwise reach the results: its sums pass the summary's
            // own checks, its skipped images lie in the blocks done, its journal length is a length.
            var probe = Summary()
            do { try probe.merge(old.summary) } catch { throw unreadable(error) }
            let doneBlocks = old.done
            if old.rowsLength < 0 || !old.skipped.allSatisfy({ s in
                (0 ..< list.count).contains(s.index) && doneBlocks.contains { $0.range.contains(s.index / list.blockSize) } }) {
                throw unreadable(PipelineError("skipped images outside the blocks done, or a negative rows length"))
            }
            let shardBlocks = shard.blocks(of: list.blockCount)
            guard old.done.allSatisfy({ shardBlocks.contains($0.lower) && $0.upper <= shardBlocks.upperBound }) else {
                throw PipelineError("\(UserMessage.name(file)) names blocks outside shard \(shard); remove \(UserMessage.name(folder)) to start over")
            }
            state = old
            journal = try AppendJournal(path: folder + "/rows.jsonl", validLength: old.rowsLength)
            resumedBlocks = old.done.reduce(0) { $0 + $1.upper - $1.lower }
            resumedImages = old.done.reduce(0) { $0 + list.range(ofBlocks: $1.range).count }
        } else {
            state = State(header: header, done: [], skipped: [], summary: Summary(), rowsLength: 0)
            resumedBlocks = 0
        }
    }

    /// Why two headers do not belong to the same run, or nil.
    static func difference(_ old: Header, _ new: Header) -> String? {
        if old.format != new.format || old.version != new.version { return "another progress format" }
        if let d = old.fingerprint.difference(from: new.fingerprint) { return d }
        if old.list != new.list {
            return "another input list (\(old.list.count) images in blocks of \(old.list.blockSize), now \(new.list.count) in blocks of \(new.list.blockSize))"
        }
        if old.shard != new.shard { return "shard \(old.shard) (now \(new.shard))" }
        return nil
    }

    /// Whether block `b` was finished before.
    public func isDone(_ b: Int) -> Bool {
        lock.withLock { state.done.contains { $0.range.contains(b) } }
    }

    /// Records a finished block: its sums are added, its rows appended; saved when the last save
    /// is older than `saveInterval`.
    public func record(block b: Int, summary: Summary, rows: [IndexedRow<Row>], skipped: [SkippedInput]) throws {
        try lock.withLock {
            var sum = state.summary
            try sum.merge(summary)
            if !rows.isEmpty {
                let j = try openJournal()
                let enc = JSONEncoder()
                enc.outputFormatting = [.sortedKeys]
                enc.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
                var bytes: [UInt8] = []
                for r in rows { bytes += Array(try enc.encode(r)) + [0x0A] }
                try j.append(bytes)
            }
            state.summary = sum
            state.done = BlockRange.normalized(state.done + [BlockRange(b ..< b + 1)])
            state.skipped += skipped
            dirty = true
            let interval = saveInterval ?? min(2, 10 * lastSaveSeconds)
            if Date().timeIntervalSince(lastSave) >= interval { try saveLocked() }
        }
    }

    /// Writes the state now (at the end of a run, before results are written from it).
    public func save() throws {
        try lock.withLock { if dirty { try saveLocked() } }
    }

    private func saveLocked() throws {
        let start = Date()
        try makeFolder()
        if let j = journal {
            try j.sync()
            state.rowsLength = j.length
        }
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        enc.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        try OutputFile.write(Array(try enc.encode(state)), to: folder + "/progress.json")
        lastSave = Date()
        lastSaveSeconds = lastSave.timeIntervalSince(start)
        dirty = false
    }

    private func openJournal() throws -> AppendJournal {
        if let j = journal { return j }
        try makeFolder()
        let j = try AppendJournal(path: folder + "/rows.jsonl", validLength: 0)
        journal = j
        return j
    }

    private func makeFolder() throws {
        if mkdir(folder, 0o755) != 0 && errno != EEXIST {
            throw FileError.folder(path: folder, reason: FileError.reason())
        }
    }

    /// Everything done, as a partial result (rows read back from the journal, in list order).
    public func partial(list: DatasetList, shard: ShardSpec) throws -> PartialResult<Summary, Row> {
        try lock.withLock {
            let skippedAt = Set(state.skipped.map(\.index))
            var covered: [CoveredInput] = []
            for r in state.done {
                for i in list.range(ofBlocks: r.range) where !skippedAt.contains(i) {
                    covered.append(CoveredInput(index: i, name: list.items[i].name))
                }
            }
            var rows: [IndexedRow<Row>] = []
            if let j = journal {
                let dec = JSONDecoder()
                dec.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
                for line in try j.read().split(separator: 0x0A) where !line.isEmpty {
                    rows.append(try dec.decode(IndexedRow<Row>.self, from: Data(line)))
                }
            }
            rows.sort { $0.index < $1.index }
            return PartialResult(fingerprint: state.header.fingerprint, list: state.header.list, shards: [shard.description],
                                 blocks: state.done, covered: covered, skipped: state.skipped.sorted { $0.index < $1.index },
                                 summary: state.summary, rows: rows)
        }
    }

    /// Removes the progress (the run's results are written).
    public func remove() {
        lock.withLock {
            journal?.close()
            journal = nil
            unlink(folder + "/rows.jsonl")
            unlink(folder + "/progress.json")
            rmdir(folder)
        }
    }
}
