// The partial result of a dataset run (`partial.json`): the sufficient statistics of the images
// it covered (exact sums, sums of squares and counts, never averages, so parts combine into
// exactly what one run over all of them gives), the per-image rows where the command has them,
// the images covered and those skipped with the reason, and everything that must agree before
// parts may be pooled: the fingerprint of model and options, and the input list with the blocks
// of it this part covers. `hatscope merge` reads these (PartialMerge.swift).
import Foundation
import HatCheckpoint
import HatRecording
import HatSystem

/// Sufficient statistics of a command over some images; `merge` must be exact (independent of
/// the order parts are merged in).
public protocol DatasetSummary: Codable, Sendable {
    init()
    mutating func merge(_ other: Self) throws
}

/// What two runs must share for their numbers to be pooled.
public struct RunFingerprint: Sendable, Equatable, Codable {
    /// "hatscope 0.1.0": another version may compute other bits.
    public var tool: String
    /// The command: "stats", "faithfulness".
    public var kind: String
    public var model: String
    /// The model configuration as JSON (sorted keys), resolution included.
    public var configuration: String
    public var checkpointSHA256: String
    /// "regular" or "ema" weights.
    public var weights: String
    public var buffers: String
    /// The command's own options that change numbers (batch size, steps, seed, ...).
    public var settings: [String: String]
    /// The checkpoint's file name on the machine that made the part (shown, not compared: paths
    /// differ between machines).
    public var checkpointFile: String

    /// The first way `other` differs, in words; nil when the two may be pooled.
    public func difference(from other: RunFingerprint) -> String? {
        if kind != other.kind { return "different commands (\(kind) vs \(other.kind))" }
        if tool != other.tool { return "different hatscope versions (\(tool) vs \(other.tool))" }
        if model != other.model || configuration != other.configuration {
            return "different model configurations (\(model) vs \(other.model)" + (model == other.model ? ", other settings" : "") + ")"
        }
        if checkpointSHA256 != other.checkpointSHA256 {
            return "different checkpoints (\(checkpointFile) sha256 \(checkpointSHA256.prefix(12)) vs \(other.checkpointFile) sha256 \(other.checkpointSHA256.prefix(12)))"
        }
        if weights != other.weights { return "different weights (\(weights) vs \(other.weights))" }
        if buffers != other.buffers { return "different --buffers (\(buffers) vs \(other.buffers))" }
        for key in Set(settings.keys).union(other.settings.keys).sorted() where settings[key] != other.settings[key] {
            return "different \(key) (\(settings[key] ?? "not set") vs \(other.settings[key] ?? "not set"))"
        }
        return nil
    }
}

extension RunFingerprint {
    /// The fingerprint of a run of `kind` on a loaded model.
    public init(tool: String, kind: String, model: LoadedModel, request: ModelRequest, settings: [String: String]) {
        self.tool = tool
        self.kind = kind
        self.model = model.config.name
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        configuration = (try? enc.encode(model.config)).map { String(decoding: $0, as: UTF8.self) } ?? model.config.name
        checkpointSHA256 = model.checkpointSHA256
        weights = request.ema ? "ema" : "regular"
        buffers = model.buffers.rawValue
        self.settings = settings
        checkpointFile = String(model.checkpointPath.split(separator: "/").last ?? "")
    }
}

/// An input left out, with the reason.
public struct SkippedInput: Sendable, Equatable, Codable {
    /// Its place in the sorted list.
    public var index: Int
    public var name: String
    public var reason: String
    public init(index: Int, name: String, reason: String) { self.index = index; self.name = name; self.reason = reason }
}

/// An input that contributed: its place in the list and its name, written as [index, "name"].
public struct CoveredInput: Sendable, Equatable, Codable {
    public var index: Int
    public var name: String
    public init(index: Int, name: String) { self.index = index; self.name = name }
    public init(from decoder: Decoder) throws {
        var c = try decoder.unkeyedContainer()
        index = try c.decode(Int.self)
        name = try c.decode(String.self)
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.unkeyedContainer()
        try c.encode(index)
        try c.encode(name)
    }
}

/// One image's row of a command that reports per image.
public struct IndexedRow<Row: Codable & Sendable>: Sendable, Codable {
    public var index: Int
    public var name: String
    public var row: Row
    public init(index: Int, name: String, row: Row) { self.index = index; self.name = name; self.row = row }
}

/// A command without per-image rows.
public struct NoRow: Codable, Sendable {}

/// Blocks lo ..< hi, written as [lo, hi].
public struct BlockRange: Sendable, Equatable, Codable, Comparable {
    public var lower: Int, upper: Int
    public init(_ r: Range<Int>) { lower = r.lowerBound; upper = r.upperBound }
    public var range: Range<Int> { lower ..< upper }
    public static func < (a: BlockRange, b: BlockRange) -> Bool { (a.lower, a.upper) < (b.lower, b.upper) }
    public init(from decoder: Decoder) throws {
        var c = try decoder.unkeyedContainer()
        lower = try c.decode(Int.self)
        upper = try c.decode(Int.self)
        guard lower >= 0, upper >= lower else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "a block range must be [lo, hi] with 0 <= lo <= hi"))
        }
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.unkeyedContainer()
        try c.encode(lower)
        try c.encode(upper)
    }

    /// Sorted, with touching and overlapping ranges joined.
    public static func normalized(_ ranges: [BlockRange]) -> [BlockRange] {
        var out: [BlockRange] = []
        for r in ranges.sorted() where r.upper > r.lower {
            if let last = out.last, r.lower <= last.upper {
                out[out.count - 1].upper = max(last.upper, r.upper)
            } else {
                out.append(r)
            }
        }
        return out
    }

    /// The ranges made of the given block numbers.
    public static func from(blocks: [Int]) -> [BlockRange] {
        normalized(blocks.map { BlockRange($0 ..< $0 + 1) })
    }
}

public struct PartialResult<Summary: DatasetSummary, Row: Codable & Sendable>: Codable, Sendable {
    public static var formatName: String { "hatscope-partial" }
    public static var formatVersion: Int { 1 }
    public var format: String
    public var version: Int
    public var fingerprint: RunFingerprint
    public var list: DatasetListInfo
    /// The shards it was made as ("3/8"; several after a merge).
    public var shards: [String]
    /// Blocks of the list covered, sorted and disjoint.
    public var blocks: [BlockRange]
    /// Images that contributed, in list order.
    public var covered: [CoveredInput]
    /// Images of those blocks left out, in list order.
    public var skipped: [SkippedInput]
    public var summary: Summary
    /// Per-image rows (empty for commands without them), in list order.
    public var rows: [IndexedRow<Row>]

    public init(fingerprint: RunFingerprint, list: DatasetListInfo, shards: [String], blocks: [BlockRange],
                covered: [CoveredInput], skipped: [SkippedInput], summary: Summary, rows: [IndexedRow<Row>]) {
        format = Self.formatName; version = Self.formatVersion
        self.fingerprint = fingerprint; self.list = list; self.shards = shards; self.blocks = blocks
        self.covered = covered; self.skipped = skipped; self.summary = summary; self.rows = rows
    }

    /// The JSON text (sorted keys, one value per line at the top level's depth).
    public func encoded() throws -> [UInt8] {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        enc.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return Array(try enc.encode(self))
    }

    /// Reads a partial result of this kind from `path` (a partial.json, or a folder holding one).
    public static func read(_ path: String) throws -> PartialResult {
        try decode(try PartialFile.load(path))
    }

    /// A partial result of this kind from a file already read (`PartialFile.load`), checked
    /// for consistency: a hand-edited or damaged file is refused here, not trusted later.
    public static func decode(_ loaded: PartialFile.Loaded) throws -> PartialResult {
        let dec = JSONDecoder()
        dec.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let part: PartialResult
        do { part = try dec.decode(PartialResult.self, from: Data(loaded.bytes)) } catch {
            throw PipelineError("\(UserMessage.name(loaded.file)) is not a readable partial result (\(PartialFile.reason(error)))")
        }
        if let why = part.inconsistency {
            throw PipelineError("\(UserMessage.name(loaded.file)) is not a consistent partial result: \(why)")
        }
        return part
    }

    /// What cannot be true of a partial result hatscope wrote, or nil: the list's size, blocks
    /// and block size must agree, the blocks lie in the list, and every image named lies in them.
    var inconsistency: String? {
        guard list.count >= 0, list.blockSize >= 1 else {
            return "its list has \(list.count) images in blocks of \(list.blockSize) (block size at least 1)"
        }
        let blockCount = list.count / list.blockSize + (list.count % list.blockSize == 0 ? 0 : 1)
        guard list.blocks == blockCount else {
            return "its list of \(list.count) images in blocks of \(list.blockSize) cannot have \(list.blocks) blocks"
        }
        if let r = blocks.first(where: { $0.upper > list.blocks }) {
            return "it names blocks up to \(r.upper), but its list has \(list.blocks)"
        }
        let indices = covered.lazy.map(\.index) + skipped.lazy.map(\.index) + rows.lazy.map(\.index)
        if let i = indices.first(where: { i in !(0 ..< list.count).contains(i) || !blocks.contains { $0.range.contains(i / list.blockSize) } }) {
            return "image index \(i) is outside its blocks"
        }
        return nil
    }
}

/// Reading partial files before their kind is known.
public enum PartialFile {
    /// The largest partial result read (per-image rows of ImageNet-val are a few tens of MB).
    public static let maxBytes = 2 << 30

    /// A partial result read once (a FIFO or `<(cmd)` cannot be read twice): its file, bytes and kind.
    public struct Loaded: Sendable {
        public var file: String
        public var bytes: [UInt8]
        /// The command it belongs to ("stats", "faithfulness").
        public var kind: String
    }

    /// `path`, or `path/partial.json` when it names a folder.
    public static func resolve(_ path: String) -> String {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
            return (path.hasSuffix("/") ? path : path + "/") + "partial.json"
        }
        return path
    }

    /// The bound of a JSON file hatscope wrote (an object): refused at its first bytes when it
    /// starts otherwise (a device, an image, a stream of zeros), else at most `maxBytes`.
    public static func jsonBound(_ start: UnsafeRawBufferPointer, what: String, limit: Int = maxBytes) -> InputFile.Bound {
        guard let first = start.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) else { return .needMore }
        return first == UInt8(ascii: "{") ? .atMost(limit, why: "a " + what) : .invalid("not a hatscope \(what) (not a JSON object)")
    }

    /// Reads `path` (a partial.json, or a folder holding one) once and tells its kind.
    public static func load(_ path: String) throws -> Loaded {
        struct Head: Decodable { var format: String; var version: Int; var fingerprint: Kind }
        struct Kind: Decodable { var kind: String }
        let file = resolve(path)
        let bytes = try InputFile.read(file) { jsonBound($0, what: "partial result") }
        let head: Head
        do { head = try JSONDecoder().decode(Head.self, from: Data(bytes)) } catch {
            throw PipelineError("\(UserMessage.name(file)) is not a hatscope partial result (\(reason(error)))")
        }
        guard head.format == "hatscope-partial" else {
            throw PipelineError("\(UserMessage.name(file)) is not a hatscope partial result (format '\(head.format.prefix(40))')")
        }
        guard head.version == 1 else {
            throw PipelineError("\(UserMessage.name(file)) is a partial result of format version \(head.version); this hatscope reads version 1")
        }
        return Loaded(file: file, bytes: bytes, kind: head.fingerprint.kind)
    }

    /// Refuses a merge into `out` that would replace a partial result that is not one of `parts`
    /// (`hatscope merge parts/*` with OUT forgotten makes the first part OUT). An unfinished run
    /// in `out` is OutputFolder's to refuse.
    public static func checkMergeOutput(_ out: String, parts: [String]) throws {
        let folder = out.hasSuffix("/") ? out : out + "/"
        var st = stat()
        guard stat(out, &st) == 0, st.st_mode & S_IFMT == S_IFDIR else { return }    // OutputFolder says the rest
        guard stat(folder + "partial.json", &st) == 0 else { return }
        let target = (st.st_dev, st.st_ino)
        let named = parts.contains { p in
            var s = stat()
            return stat(resolve(p), &s) == 0 && (s.st_dev, s.st_ino) == target
        }
        if !named {
            throw PipelineError("\(UserMessage.name(out)) holds a partial result (partial.json) that is not among the parts; "
                                + "merging would replace it (hatscope merge OUT PART...: was OUT left out?)")
        }
    }

    /// A decoding error in a few words.
    static func reason(_ error: Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let c): return c.debugDescription.isEmpty ? "corrupt" : c.debugDescription
        case DecodingError.keyNotFound(let k, _): return "no \(k.stringValue)"
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c):
            return "unexpected value at \(c.codingPath.map(\.stringValue).joined(separator: "."))"
        default: return "\(error)".split(separator: "\n").first.map(String.init) ?? "unreadable"
        }
    }
}
