// DatasetRunner, DatasetProgress and PartialMerge on a stand-in job (no model): every image's
// value is summed exactly and kept as a row, so a run can be compared bit for bit across jobs,
// shards, interrupted-and-resumed runs and merges; unreadable inputs are skipped with the reason.
import XCTest
import HatCore
import HatSystem
import HatViews
@testable import HatPipeline

/// The stand-in command's sufficient statistics: an exact sum of the image values and a count.
struct ValueSum: DatasetSummary, Equatable {
    var sum = ExactSum()
    var squares = ExactSum()
    var count = 0
    init() {}
    mutating func merge(_ other: ValueSum) throws {
        sum += other.sum; squares += other.squares; count += other.count
    }
}

struct ValueRow: Codable, Sendable, Equatable { var value: Double }

/// Sums the first input value of every image; an image whose value is negative is "left out".
/// `stopAfter`: throws once that many blocks were processed (a run that dies half-way).
struct ValueJob: DatasetJob {
    final class Counter: @unchecked Sendable {
        let lock = NSLock()
        var blocks = 0
    }
    var stopAfter: Int? = nil
    let counter = Counter()
    struct Stop: Error {}

    func process(_ inputs: [DatasetInput]) throws -> DatasetBlockResult<ValueSum, ValueRow> {
        let n = counter.lock.withLock { counter.blocks += 1; return counter.blocks }
        if let s = stopAfter, n > s { throw Stop() }
        var sum = ValueSum()
        var rows: [IndexedRow<ValueRow>] = [], skipped: [SkippedInput] = []
        for x in inputs {
            let v = Double(x.input.tensor.data[0]) / 3   // not exactly representable: rounding matters
            if v < 0 { skipped.append(SkippedInput(index: x.index, name: x.item.name, reason: "negative")); continue }
            sum.sum += v; sum.squares += v * v; sum.count += 1
            rows.append(IndexedRow(index: x.index, name: x.item.name, row: ValueRow(value: v)))
        }
        return DatasetBlockResult(summary: sum, rows: rows, skipped: skipped)
    }
}

final class DatasetRunnerTests: XCTestCase {
    var dir = ""
    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "hatscope-runner-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    /// 23 images: values 1.1, 2.2, ... (image 7 unreadable, image 12 negative).
    let list = DatasetList(items: (0 ..< 23).map { DatasetItem(path: "/data/img\($0).png", name: "img\($0).png") }, blockSize: 4)

    static let decode: @Sendable (DatasetItem) throws -> NetworkInput = { item in
        let i = Int(item.name.dropFirst(3).dropLast(4))!
        if i == 7 { throw PipelineError("cannot read \(item.path): corrupt") }
        let v: Float = i == 12 ? -1 : Float(i + 1) * 1.1
        return NetworkInput(path: item.path, kind: .npy, tensor: Tensor(shape: [1, 3, 1, 1], data: [v, 0, 0]), preprocessed: nil)
    }

    let fingerprint = RunFingerprint.testValue(settings: ["batch": "4"])

    func run(_ job: ValueJob = ValueJob(), out: String, shard: ShardSpec = .whole, jobs: Int = 1,
             fingerprint: RunFingerprint? = nil) throws -> PartialResult<ValueSum, ValueRow> {
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let progress = try DatasetProgress<ValueSum, ValueRow>(outFolder: out, fingerprint: fingerprint ?? self.fingerprint,
                                                               list: list, shard: shard)
        progress.saveInterval = 0
        try DatasetRunner.run(job, list: list, shard: shard, progress: progress, jobs: jobs, decoders: 2,
                              decode: Self.decode, onProgress: { _, _ in }, onSkip: { _ in })
        let partial = try progress.partial(list: list, shard: shard)
        progress.remove()
        return partial
    }

    func testAWholeRunSkipsWithReasonsAndKeepsRowsInOrder() throws {
        let p = try run(out: dir + "/a")
        XCTAssertEqual(p.summary.count, 21)
        XCTAssertEqual(p.skipped.map(\.name), ["img7.png", "img12.png"])
        XCTAssertEqual(p.skipped.map(\.reason), ["corrupt", "negative"])
        XCTAssertEqual(p.rows.map(\.index), (0 ..< 23).filter { $0 != 7 && $0 != 12 })
        XCTAssertEqual(p.covered.map(\.index), p.rows.map(\.index))
        XCTAssertEqual(p.blocks, [BlockRange(0 ..< 6)])
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/a/" + DatasetProgress<ValueSum, ValueRow>.folderName))
        // Several jobs at once: the same bits.
        let q = try run(out: dir + "/b", jobs: 3)
        XCTAssertEqual(q.summary, p.summary)
        XCTAssertEqual(try q.encoded(), try p.encoded())
    }

    /// Shards merged in any order give the single run's partial result exactly; missing shards
    /// are named; overlaps and foreign parts are refused.
    func testShardsMergeIntoTheSingleRun() throws {
        let whole = try run(out: dir + "/whole")
        var parts: [(path: String, partial: PartialResult<ValueSum, ValueRow>)] = []
        for k in 1 ... 4 {
            let spec = try ShardSpec(parsing: "\(k)/4")
            parts.append(("part\(k)", try run(out: dir + "/s\(k)", shard: spec)))
        }
        let merged = try PartialMerge.merge([parts[2], parts[0], parts[3], parts[1]])
        XCTAssertNil(merged.missing)
        XCTAssertEqual(merged.partial.summary, whole.summary)
        XCTAssertEqual(merged.partial.summary.sum.value.bitPattern, whole.summary.sum.value.bitPattern)
        XCTAssertEqual(merged.partial.rows.map(\.index), whole.rows.map(\.index))
        XCTAssertEqual(merged.partial.covered, whole.covered)
        XCTAssertEqual(merged.partial.skipped, whole.skipped)
        XCTAssertEqual(merged.partial.shards, ["1/4", "2/4", "3/4", "4/4"])

        let some = try PartialMerge.merge([parts[0], parts[3]])
        XCTAssertEqual(some.missing, "missing shards 2/4, 3/4 (12 of 23 images not covered)")
        // Merging in steps: (1+4) then (2+3).
        let rest = try PartialMerge.merge([parts[1], parts[2]])
        let steps = try PartialMerge.merge([("a", some.partial), ("b", rest.partial)])
        XCTAssertEqual(steps.partial.summary, whole.summary)
        XCTAssertNil(steps.missing)

        XCTAssertThrowsError(try PartialMerge.merge([parts[0], parts[0]])) { e in
            XCTAssertTrue("\(e)".contains("overlap: both cover img0.png"), "\(e)")
        }
        XCTAssertThrowsError(try PartialMerge.merge([parts[1], ("whole", whole)])) { e in
            XCTAssertTrue("\(e)".contains("overlap"), "\(e)")
        }
        var other = parts[1]
        other.partial.fingerprint.checkpointSHA256 = String(repeating: "e", count: 64)
        XCTAssertThrowsError(try PartialMerge.merge([parts[0], other])) { e in
            XCTAssertEqual("\(e)".split(separator: "\n").count, 1)
            XCTAssertTrue("\(e)".contains("part1 and part2 cannot be merged: different checkpoints"), "\(e)")
        }
        other = parts[1]
        other.partial.fingerprint.settings["batch"] = "8"
        XCTAssertThrowsError(try PartialMerge.merge([parts[0], other])) { e in
            XCTAssertTrue("\(e)".contains("different batch (4 vs 8)"), "\(e)")
        }
        other = parts[1]
        other.partial.list.digest = "0"
        XCTAssertThrowsError(try PartialMerge.merge([parts[0], other])) { e in
            XCTAssertTrue("\(e)".contains("different input lists"), "\(e)")
        }
    }

    /// A run that dies after some blocks leaves its progress; the same run started again does
    /// only the rest and ends with the uninterrupted result. Another run into the folder is refused.
    func testAnInterruptedRunResumesToTheSameResult() throws {
        let whole = try run(out: dir + "/whole")
        let out = dir + "/resumed"
        XCTAssertThrowsError(try run(ValueJob(stopAfter: 2), out: out))
        let progressFolder = out + "/" + DatasetProgress<ValueSum, ValueRow>.folderName
        XCTAssertTrue(FileManager.default.fileExists(atPath: progressFolder + "/progress.json"))
        // A torn row at the end of the journal (a kill mid-append) is cut off on resume.
        let h = try XCTUnwrap(FileHandle(forWritingAtPath: progressFolder + "/rows.jsonl"))
        h.seekToEndOfFile(); h.write(Data("{\"index\":99,\"na".utf8)); h.closeFile()
        // A stale temporary of a killed write is removed.
        FileManager.default.createFile(atPath: progressFolder + "/.progress.json.tmp-1234-5-0", contents: Data([1]))

        let again = try DatasetProgress<ValueSum, ValueRow>(outFolder: out, fingerprint: fingerprint, list: list, shard: .whole)
        XCTAssertEqual(again.resumedBlocks, 2)
        XCTAssertEqual(again.resumedImages, 8)
        XCTAssertFalse(FileManager.default.fileExists(atPath: progressFolder + "/.progress.json.tmp-1234-5-0"))
        let job = ValueJob()
        try DatasetRunner.run(job, list: list, shard: .whole, progress: again, jobs: 2, decoders: 1,
                              decode: Self.decode, onProgress: { _, _ in }, onSkip: { _ in })
        XCTAssertEqual(job.counter.blocks, 4, "only the blocks not done before")
        let resumed = try again.partial(list: list, shard: .whole)
        XCTAssertEqual(try resumed.encoded(), try whole.encoded())

        // Another model or shard into the same folder: refused, the progress untouched.
        let before = try Data(contentsOf: URL(fileURLWithPath: progressFolder + "/progress.json"))
        XCTAssertThrowsError(try DatasetProgress<ValueSum, ValueRow>(outFolder: out, fingerprint: .testValue(settings: ["batch": "8"]),
                                                                     list: list, shard: .whole)) { e in
            XCTAssertTrue("\(e)".contains("holds an unfinished run with different batch"), "\(e)")
        }
        XCTAssertThrowsError(try DatasetProgress<ValueSum, ValueRow>(outFolder: out, fingerprint: fingerprint, list: list,
                                                                     shard: try ShardSpec(parsing: "1/2"))) { e in
            XCTAssertTrue("\(e)".contains("shard 1/1 (now 1/2)"), "\(e)")
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: progressFolder + "/progress.json")), before)

        // A hand-edited progress: a skipped image outside the blocks done, a negative journal
        // length. Refused with the way out, never carried into the results.
        let state = try XCTUnwrap(try JSONSerialization.jsonObject(with: before) as? [String: Any])
        for (what, key, value) in [("skipped", "skipped", [["index": 1_000_000, "name": "x.png", "reason": "r"]] as Any),
                                   ("rows", "rowsLength", -5 as Any)] {
            var edited = state
            edited[key] = value
            try JSONSerialization.data(withJSONObject: edited).write(to: URL(fileURLWithPath: progressFolder + "/progress.json"))
            XCTAssertThrowsError(try DatasetProgress<ValueSum, ValueRow>(outFolder: out, fingerprint: fingerprint, list: list, shard: .whole)) { e in
                XCTAssertTrue("\(e)".contains("cannot be read") && "\(e)".contains("remove"), "\(what): \(e)")
            }
        }
    }

    func testPartialResultsRoundTripAndBadFilesAreOneLine() throws {
        let p = try run(out: dir + "/a")
        let file = dir + "/a/partial.json"
        try OutputFile.write(try p.encoded(), to: file)
        XCTAssertEqual(try PartialFile.load(dir + "/a").kind, "test")
        let back = try PartialResult<ValueSum, ValueRow>.read(dir + "/a")
        XCTAssertEqual(try back.encoded(), try p.encoded())
        try Data("{\"format\":\"hatscope-partial\",\"version\":2,\"fingerprint\":{\"kind\":\"stats\"}}".utf8)
            .write(to: URL(fileURLWithPath: dir + "/v2.json"))
        XCTAssertThrowsError(try PartialFile.load(dir + "/v2.json").kind) { e in XCTAssertTrue("\(e)".contains("version 2"), "\(e)") }
        try Data("not json".utf8).write(to: URL(fileURLWithPath: dir + "/bad.json"))
        XCTAssertThrowsError(try PartialFile.load(dir + "/bad.json").kind) { e in
            XCTAssertTrue("\(e)".contains("bad.json: not a hatscope partial result (not a JSON object)"), "\(e)")
        }
    }
}

extension RunFingerprint {
    static func testValue(settings: [String: String]) -> RunFingerprint {
        var f = RunFingerprint(tool: "hatscope test", kind: "test", model: "m", configuration: "{}",
                               checkpointSHA256: String(repeating: "a", count: 64), weights: "regular", buffers: "stored",
                               settings: settings, checkpointFile: "m.pth")
        f.settings = settings
        return f
    }
}
