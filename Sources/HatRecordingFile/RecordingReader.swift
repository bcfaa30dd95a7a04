// Reads a recording file (docs/recording-format.md) into a Recording without the engine. The file
// is memory-mapped and only its header is parsed up front; then it is checked against what its own
// metadata implies (RecordingLayout: the one geometry at its input size): schema and geometry
// versions, every field, every tensor present with the right shape and type, nothing left over.
// Any problem is one RecordingFileError line. The small float32 tensors (input, logits, energies,
// propagation) are copied out; the attention maps stay in the mapping and are converted when a
// view reads them (AttentionMaps), so a recording larger than memory can be explored.
import Foundation
import HatCheckpoint
import HatRecording

public enum RecordingReader {
    /// Largest input side accepted (pixels): keeps a hostile configuration from asking the
    /// geometry for millions of windows before any tensor is checked.
    public static let maxInputSide = 4096
    /// Largest carrier-token side per window accepted (official models use 2).
    public static let maxCTSize = 8

    /// Opens, validates and returns the recording at `path`, its maps read in place.
    public static func read(path: String) throws -> Recording {
        // A recording is read in place (memory-mapped), which a stream cannot be.
        if path == "-" {
            throw RecordingFileError.unreadable(path: "-", reason: "a recording is memory-mapped, so it must be a regular file, not standard input")
        }
        let file: MappedFile
        do { file = try MappedFile(path: path) } catch let e as CheckpointError {
            throw RecordingFileError.unreadable(path: path, reason: e.message.hasPrefix(path + ": ")
                                                ? String(e.message.dropFirst(path.count + 2)) : e.message)
        }
        let header: SafeTensorsHeader
        // (`file` lives on: the maps below keep it.)
        do { header = try withExtendedLifetime(file) { try SafeTensors.header(file.bytes, context: "file") } } catch let e as CheckpointError {
            throw RecordingFileError.notARecording(path: path, reason: "not a safetensors file (\(e.message))")
        }
        let meta = try Metadata(header.metadata, path: path)
        let layout = RecordingLayout(config: meta.config, inputHeight: meta.height, inputWidth: meta.width,
                                     windowBlocks: meta.windowBlocks)
        var entries = Dictionary(header.entries.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var found: [String: SafeTensorsHeader.Entry] = [:]
        for t in layout.tensors {
            guard let e = entries.removeValue(forKey: t.name) else {
                throw RecordingFileError.missingTensor(path: path, name: t.name)
            }
            guard e.shape == t.shape else {
                throw RecordingFileError.tensorMismatch(path: path, name: t.name, reason:
                    "is \(describe(e.shape)), but \(meta.config.name) at \(meta.height) x \(meta.width) has \(describe(t.shape))")
            }
            let want: ElementType = t.role.isMap ? (meta.element == .float16 ? .float16 : .float32) : .float32
            guard e.type == want else {
                throw RecordingFileError.tensorMismatch(path: path, name: t.name, reason:
                    "is \(e.type.rawValue); expected \(want.rawValue)" + (t.role.isMap ? " (maps_dtype \(meta.element.rawValue))" : ""))
            }
            found[t.name] = e
        }
        if let extra = entries.keys.sorted().first {
            throw RecordingFileError.unexpectedTensor(path: path, name: extra)
        }
        return try assemble(layout, found, meta, file: file, path: path)
    }

    /// Whether `path` is a regular file whose safetensors metadata says format=hatscope-recording
    /// (reads the header only). For input readers that meet a recording where a tensor was expected.
    public static func isRecording(path: String) -> Bool {
        guard let file = try? MappedFile(path: path) else { return false }
        return withExtendedLifetime(file) {
            (try? SafeTensors.header(file.bytes, context: path)).map { RecordingFormat.isRecording(metadata: $0.metadata) } ?? false
        }
    }

    // MARK: - Metadata

    struct Metadata {
        var config: ModelConfig
        var height: Int, width: Int
        var element: AttentionElement
        var windowBlocks: Set<[Int]>
        var provenance: Provenance
        var notes: [String]

        init(_ m: [String: String], path: String) throws {
            let F = RecordingFormat.Field.self
            guard let format = m[F.format] else {
                throw RecordingFileError.notARecording(path: path, reason:
                    "a safetensors file without format=\(RecordingFormat.formatName) in its metadata "
                    + "(make one with `hatscope record` or tools/record_torch.py)")
            }
            guard format == RecordingFormat.formatName else {
                throw RecordingFileError.notARecording(path: path, reason: "its metadata says format=\(Self.short(format))")
            }
            guard let v = m[F.schemaVersion], Int(v) == RecordingFormat.schemaVersion else {
                throw RecordingFileError.schemaVersion(path: path, found: m[F.schemaVersion].map(Self.short))
            }
            guard let g = m[F.geometryVersion], Int(g) == ModelGeometry.version else {
                throw RecordingFileError.geometryVersion(path: path, found: m[F.geometryVersion].map(Self.short))
            }
            func field(_ name: String) throws -> String {
                guard let s = m[name] else { throw RecordingFileError.metadata(path: path, field: name, reason: "is missing") }
                return s
            }
            func decode<T: Decodable>(_ type: T.Type, _ name: String, _ what: String) throws -> T {
                do { return try JSONDecoder().decode(T.self, from: Data(try field(name).utf8)) } catch let e as RecordingFileError {
                    throw e
                } catch {
                    throw RecordingFileError.metadata(path: path, field: name, reason: "is not \(what)")
                }
            }
            do { config = try ModelConfig.decodeJSON(Data(try field(F.config).utf8)) } catch let e as RecordingFileError {
                throw e
            } catch {
                throw RecordingFileError.metadata(path: path, field: F.config, reason: "is not a usable model configuration: \(error)")
            }
            guard config.ctSize <= RecordingReader.maxCTSize else {
                throw RecordingFileError.metadata(path: path, field: F.config, reason: "has ct_size \(config.ctSize) (at most \(RecordingReader.maxCTSize) is read)")
            }
            let size = try decode([Int].self, F.inputSize, "[height, width]")
            guard size.count == 2, size.allSatisfy({ $0 >= 32 && $0 <= RecordingReader.maxInputSide && $0 % 32 == 0 }) else {
                throw RecordingFileError.metadata(path: path, field: F.inputSize, reason:
                    "is \(describe(size)); expected [height, width], multiples of 32 from 32 to \(RecordingReader.maxInputSide)")
            }
            height = size[0]; width = size[1]
            guard let e = AttentionElement(rawValue: try field(F.mapsDType)) else {
                throw RecordingFileError.metadata(path: path, field: F.mapsDType, reason: "is \(Self.short(m[F.mapsDType] ?? "")); expected F32 or F16")
            }
            element = e
            let names = try decode([String].self, F.windowBlocks, "a list of block names (levels.L.blocks.B)")
            let geometry = ModelGeometry(config: config, inputHeight: height, inputWidth: width)
            switch RecordingLayout.parseBlocks(names, geometry: geometry) {
            case let .success(set): windowBlocks = set
            case let .failure(bad): throw RecordingFileError.metadata(path: path, field: F.windowBlocks, reason: bad.reason)
            }
            provenance = m[F.provenance] == nil ? Provenance() : try decode(Provenance.self, F.provenance, "a valid provenance object")
            guard Provenance.bufferChoices.contains(provenance.buffers) else {
                throw RecordingFileError.metadata(path: path, field: F.provenance, reason:
                    "has buffers '\(Self.short(provenance.buffers))'; expected stored or geometry")
            }
            guard provenance.classNames.isEmpty || provenance.classNames.count == config.numClasses else {
                throw RecordingFileError.metadata(path: path, field: F.provenance, reason:
                    "has \(provenance.classNames.count) class names for \(config.numClasses) classes")
            }
            notes = m[F.notes] == nil ? [] : try decode([String].self, F.notes, "a list of strings")
        }

        /// A metadata value cut short for a one-line message.
        static func short(_ s: String) -> String {
            let line = s.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
            return line.count > 40 ? String(line.prefix(40)) + "..." : line
        }
    }

    // MARK: - Assembly

    private static func assemble(_ layout: RecordingLayout, _ found: [String: SafeTensorsHeader.Entry], _ meta: Metadata,
                                 file: MappedFile, path: String) throws -> Recording {
        let bytes = MappedBytes(file)
        /// A float32 tensor copied out of the mapping, checked finite (the views draw it).
        func floats(_ name: String) throws -> [Float] {
            guard let e = found[name] else { throw RecordingFileError.missingTensor(path: path, name: name) }
            let n = e.range.count / 4
            let values = [Float](unsafeUninitializedCapacity: n) { out, done in
                for i in 0 ..< n {
                    out[i] = Float(bitPattern: UInt32(littleEndian: bytes.base.loadUnaligned(fromByteOffset: e.range.lowerBound + i * 4, as: UInt32.self)))
                }
                done = n
            }
            file.dropPages(e.range)
            guard values.allSatisfy(\.isFinite) else {
                throw RecordingFileError.tensorMismatch(path: path, name: name, reason: "holds non-finite values")
            }
            return values
        }
        func maps(_ name: String) -> AttentionMaps? {
            guard let e = found[name] else { return nil }
            return AttentionMaps(groups: e.shape[0], heads: e.shape[1], queries: e.shape[2], keys: e.shape[3],
                                 bytes: bytes, offset: e.range.lowerBound, element: meta.element)
        }
        let g = layout.geometry
        let input = try floats(RecordingFormat.input)
        let logits = try floats(RecordingFormat.logits)
        let conv = try g.convStages.map { ConvStageRecord(geometry: $0, energy: try floats(RecordingFormat.energy(level: $0.level))) }
        let stages = try g.stages.map { s -> TransformerStageRecord in
            let blocks = (0 ..< s.depth).map { b in
                BlockRecord(window: maps(RecordingFormat.windowMaps(level: s.level, block: b)),
                            carrier: maps(RecordingFormat.carrierMaps(level: s.level, block: b)))
            }
            let name = RecordingFormat.propagation(level: s.level, block: s.depth - 1)
            return TransformerStageRecord(geometry: s, blocks: blocks, propagation: found[name] == nil ? nil : try floats(name))
        }
        return Recording(config: meta.config, inputHeight: meta.height, inputWidth: meta.width, input: input,
                         convStages: conv, stages: stages, logits: logits, notes: meta.notes, provenance: meta.provenance)
    }

    static func describe(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }
}

/// The mapped file as the attention maps' storage: pages of a matrix just read are handed back.
final class MappedBytes: ExternalBytes, @unchecked Sendable {
    let file: MappedFile
    let base: UnsafeRawPointer
    init(_ file: MappedFile) {
        self.file = file
        // A valid recording is never empty, so the mapping exists.
        base = file.bytes.baseAddress!
    }
    func done(_ range: Range<Int>) { file.dropPages(range) }
}
