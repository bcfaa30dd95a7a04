// Writes a Recording as a recording file (docs/recording-format.md), atomically: tensors under
// their official names in RecordingLayout's order, attention maps as float32 or float16 (rounded
// to nearest, ties to even), metadata as strings. Maps are streamed a few matrices at a time, so
// writing needs no second copy of them.
import Foundation
import HatCheckpoint
import HatRecording

public enum RecordingWriter {
    /// Writes `recording` to `path` (temporary name, then rename); maps as `dtype`.
    public static func write(_ recording: Recording, dtype: RecordingDType = .f32, to path: String) throws {
        let rec = recording
        let blocks = windowBlocks(rec)
        let layout = RecordingLayout(config: rec.config, inputHeight: rec.inputHeight, inputWidth: rec.inputWidth,
                                     windowBlocks: Set(blocks.map { [$0.level, $0.block] }))
        var outputs: [SafeTensorsOutput] = []
        for t in layout.tensors {
            let count = t.shape.reduce(1, *)
            func plain(_ values: [Float]?) throws -> SafeTensorsOutput {
                guard let values else { throw mismatch(path, t.name, "is not in the recording") }
                guard values.count == count else {
                    throw mismatch(path, t.name, "has \(values.count) values; the geometry needs \(describe(t.shape))")
                }
                return SafeTensorsOutput(name: t.name, type: .float32, shape: t.shape) { sink in
                    try values.withUnsafeBytes { try sink($0) }
                }
            }
            func map(_ maps: AttentionMaps?) throws -> SafeTensorsOutput {
                guard let m = maps else { throw mismatch(path, t.name, "is not in the recording") }
                guard [m.groups, m.heads, m.queries, m.keys] == t.shape else {
                    throw mismatch(path, t.name, "is \(describe([m.groups, m.heads, m.queries, m.keys])); the geometry needs \(describe(t.shape))")
                }
                return SafeTensorsOutput(name: t.name, type: dtype == .f16 ? .float16 : .float32, shape: t.shape) { sink in
                    try m.forEachChunk { chunk in
                        if dtype == .f32 { try sink(UnsafeRawBufferPointer(chunk)); return }
                        let half = chunk.map { Float16($0).bitPattern.littleEndian }
                        try half.withUnsafeBytes { try sink($0) }
                    }
                }
            }
            switch t.role {
            case .input: outputs.append(try plain(rec.input))
            case .logits: outputs.append(try plain(rec.logits))
            case let .energy(l): outputs.append(try plain(rec.convStages.first { $0.level == l }?.energy))
            case let .propagation(l): outputs.append(try plain(rec.stages.first { $0.level == l }?.propagation))
            case let .windowMaps(l, b): outputs.append(try map(block(rec, l, b)?.window))
            case let .carrierMaps(l, b): outputs.append(try map(block(rec, l, b)?.carrier))
            }
        }
        try SafeTensors.write(streaming: outputs, metadata: try metadata(rec, dtype: dtype, windowBlocks: blocks), to: path)
    }

    /// The `__metadata__` strings of `rec`.
    static func metadata(_ rec: Recording, dtype: RecordingDType, windowBlocks: [(level: Int, block: Int)]) throws -> [String: String] {
        let F = RecordingFormat.Field.self
        return [
            F.format: RecordingFormat.formatName,
            F.schemaVersion: String(RecordingFormat.schemaVersion),
            F.geometryVersion: String(ModelGeometry.version),
            F.config: try json(rec.config),
            F.inputSize: try json([rec.inputHeight, rec.inputWidth]),
            F.mapsDType: dtype.element.rawValue,
            F.windowBlocks: try json(windowBlocks.map { RecordingFormat.blockName(level: $0.level, block: $0.block) }),
            F.provenance: try json(rec.provenance),
            F.notes: try json(rec.notes),
        ]
    }

    /// The blocks whose window maps the recording holds, in level and block order.
    static func windowBlocks(_ rec: Recording) -> [(level: Int, block: Int)] {
        rec.stages.sorted { $0.level < $1.level }.flatMap { s in
            s.blocks.indices.filter { s.blocks[$0].window != nil }.map { (level: s.level, block: $0) }
        }
    }

    private static func block(_ rec: Recording, _ level: Int, _ b: Int) -> BlockRecord? {
        guard let s = rec.stages.first(where: { $0.level == level }), b < s.blocks.count else { return nil }
        return s.blocks[b]
    }

    /// Deterministic JSON (sorted keys, no escaped slashes): the same recording, the same bytes.
    static func json<T: Encodable>(_ value: T) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try e.encode(value), as: UTF8.self)
    }

    private static func mismatch(_ path: String, _ name: String, _ why: String) -> RecordingFileError {
        .tensorMismatch(path: path, name: name, reason: why + " (cannot write it)")
    }

    static func describe(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }
}
