// The reader refuses every file that is not a consistent recording, with one typed error of one
// line naming the file: versions, metadata fields, missing / extra / mis-shaped / mis-typed tensors,
// maps that do not match the geometry the metadata implies, non-finite inputs, truncation.
import Foundation
import XCTest
@testable import HatCheckpoint
@testable import HatRecording
@testable import HatRecordingFile

final class RecordingValidationTests: XCTestCase {
    override class func tearDown() { removeTempFolder() }

    struct Item { var name: String; var type: ElementType; var shape: [Int]; var bytes: [UInt8] }

    /// A valid recording file rewritten through `change` (metadata and raw tensors).
    func mutated(_ name: String, dtype: RecordingDType = .f32, _ change: (inout [String: String], inout [Item]) -> Void) throws -> String {
        let good = tempPath("good-\(name).safetensors")
        try RecordingWriter.write(recording(), dtype: dtype, to: good)
        let file = try MappedFile(path: good)
        var (meta, items) = try withExtendedLifetime(file) {
            let h = try SafeTensors.header(file.bytes, context: good)
            return (h.metadata, h.entries.map { Item(name: $0.name, type: $0.type, shape: $0.shape, bytes: Array(file.bytes[$0.range])) })
        }
        change(&meta, &items)
        let path = tempPath("\(name).safetensors")
        try SafeTensors.write(streaming: items.map { it in
            SafeTensorsOutput(name: it.name, type: it.type, shape: it.shape) { sink in try it.bytes.withUnsafeBytes { try sink($0) } }
        }, metadata: meta, to: path)
        return path
    }

    func assertRefused(_ path: String, _ expected: RecordingFileError, mentions words: [String] = [],
                       file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try RecordingReader.read(path: path), file: file, line: line) { error in
            XCTAssertEqual(error as? RecordingFileError, expected, file: file, line: line)
            let text = "\(error)"
            XCTAssertFalse(text.contains("\n"), "one line: \(text)", file: file, line: line)
            XCTAssertTrue(text.hasPrefix(path), text, file: file, line: line)
            for w in words { XCTAssertTrue(text.contains(w), "\(text) should mention \(w)", file: file, line: line) }
        }
    }

    func testVersions() throws {
        var p = try mutated("v2") { m, _ in m["schema_version"] = "2" }
        assertRefused(p, .schemaVersion(path: p, found: "2"), mentions: ["version 2", "reads version 1"])
        p = try mutated("vnone") { m, _ in m["schema_version"] = nil }
        assertRefused(p, .schemaVersion(path: p, found: nil), mentions: ["missing"])
        p = try mutated("vtext") { m, _ in m["schema_version"] = "one" }
        assertRefused(p, .schemaVersion(path: p, found: "one"))
        p = try mutated("geo") { m, _ in m["geometry_version"] = "0" }
        assertRefused(p, .geometryVersion(path: p, found: "0"), mentions: ["geometry version 0"])
    }

    func testNotARecording() throws {
        var p = try mutated("format") { m, _ in m["format"] = nil }
        assertRefused(p, .notARecording(path: p, reason: "a safetensors file without format=hatscope-recording in its metadata "
                                        + "(make one with `hatscope record` or tools/record_torch.py)"))
        p = try mutated("format2") { m, _ in m["format"] = "pt" }
        assertRefused(p, .notARecording(path: p, reason: "its metadata says format=pt"))
        p = tempPath("text.safetensors")
        try Data("hello, not a recording at all".utf8).write(to: URL(fileURLWithPath: p))
        XCTAssertThrowsError(try RecordingReader.read(path: p)) { e in
            guard case .notARecording(p, let why)? = e as? RecordingFileError else { return XCTFail("\(e)") }
            XCTAssertTrue(why.hasPrefix("not a safetensors file"), why)
        }
        p = tempPath("missing.safetensors")
        try? FileManager.default.removeItem(atPath: p)
        assertRefused(p, .unreadable(path: p, reason: "No such file or directory"))
        p = tempPath("fifo")
        unlink(p)
        XCTAssertEqual(mkfifo(p, 0o600), 0)
        assertRefused(p, .unreadable(path: p, reason: "not a regular file"))  // and returns at once
        XCTAssertFalse(RecordingReader.isRecording(path: p))
        assertRefused("-", .unreadable(path: "-", reason: "a recording is memory-mapped, so it must be a regular file, not standard input"))
    }

    func testMetadataFields() throws {
        for field in RecordingFormat.Field.required where !["format", "schema_version", "geometry_version"].contains(field) {
            let p = try mutated("no-\(field)") { m, _ in m[field] = nil }
            assertRefused(p, .metadata(path: p, field: field, reason: "is missing"))
        }
        var p = try mutated("config") { m, _ in m["config"] = #"{"dim": 4}"# }
        XCTAssertThrowsError(try RecordingReader.read(path: p)) { e in
            guard case .metadata(p, "config", let why)? = e as? RecordingFileError else { return XCTFail("\(e)") }
            XCTAssertTrue(why.contains("in_dim"), why)
        }
        p = try mutated("size") { m, _ in m["input_size"] = "[100, 192]" }
        assertRefused(p, .metadata(path: p, field: "input_size", reason: "is [100, 192]; expected [height, width], multiples of 32 from 32 to 4096"))
        p = try mutated("size2") { m, _ in m["input_size"] = "224" }
        assertRefused(p, .metadata(path: p, field: "input_size", reason: "is not [height, width]"))
        p = try mutated("dtype") { m, _ in m["maps_dtype"] = "BF16" }
        assertRefused(p, .metadata(path: p, field: "maps_dtype", reason: "is BF16; expected F32 or F16"))
        p = try mutated("blocks") { m, _ in m["window_blocks"] = #"["levels.2.blocks.9"]"# }
        assertRefused(p, .metadata(path: p, field: "window_blocks", reason: "names levels.2.blocks.9, which this model does not have"))
        p = try mutated("blocks2") { m, _ in m["window_blocks"] = #"["levels.2.blocks.0", "levels.2.blocks.0"]"# }
        assertRefused(p, .metadata(path: p, field: "window_blocks", reason: "names levels.2.blocks.0 twice"))
        p = try mutated("names") { m, _ in
            m["provenance"] = m["provenance"]!.replacingOccurrences(of: #"["a","b","c","d","e"]"#, with: #"["a"]"#)
        }
        assertRefused(p, .metadata(path: p, field: "provenance", reason: "has 1 class names for 5 classes"))
        p = try mutated("buffers") { m, _ in m["provenance"] = m["provenance"]!.replacingOccurrences(of: #""stored""#, with: #""other""#) }
        assertRefused(p, .metadata(path: p, field: "provenance", reason: "has buffers 'other'; expected stored or geometry"))
        p = try mutated("notes") { m, _ in m["notes"] = "not json" }
        assertRefused(p, .metadata(path: p, field: "notes", reason: "is not a list of strings"))
        p = try mutated("ct") { m, _ in m["config"] = m["config"]!.replacingOccurrences(of: #""ctSize":2"#, with: #""ctSize":4000"#) }
        assertRefused(p, .metadata(path: p, field: "config", reason: "has ct_size 4000 (at most 8 is read)"))
        // Optional fields may be absent.
        p = try mutated("minimal") { m, _ in m["provenance"] = nil; m["notes"] = nil }
        XCTAssertEqual(try RecordingReader.read(path: p).provenance, Provenance())
    }

    func testTensorsMustMatchTheGeometryTheMetadataImplies() throws {
        var p = try mutated("nomap") { _, items in items.removeAll { $0.name == "levels.2.blocks.1.attn.probs" } }
        assertRefused(p, .missingTensor(path: p, name: "levels.2.blocks.1.attn.probs"))
        p = try mutated("nocarrier") { _, items in items.removeAll { $0.name == "levels.3.blocks.0.hat_attn.probs" } }
        assertRefused(p, .missingTensor(path: p, name: "levels.3.blocks.0.hat_attn.probs"))
        p = try mutated("noprop") { _, items in items.removeAll { $0.name == "levels.2.blocks.1.propagation" } }
        assertRefused(p, .missingTensor(path: p, name: "levels.2.blocks.1.propagation"))
        p = try mutated("nologits") { _, items in items.removeAll { $0.name == "logits" } }
        assertRefused(p, .missingTensor(path: p, name: "logits"))
        p = try mutated("extra") { _, items in items.append(Item(name: "levels.2.blocks.7.attn.probs", type: .float32, shape: [1], bytes: [0, 0, 0, 0])) }
        assertRefused(p, .unexpectedTensor(path: p, name: "levels.2.blocks.7.attn.probs"))
        // A map stored but not listed in window_blocks.
        p = try mutated("unlisted") { m, _ in m["window_blocks"] = #"["levels.2.blocks.1","levels.3.blocks.0","levels.3.blocks.1"]"# }
        assertRefused(p, .unexpectedTensor(path: p, name: "levels.2.blocks.0.attn.probs"))
        // Maps of another geometry: the metadata says 160 x 160 (3 x 3 windows), the maps are of 128 x 192.
        p = try mutated("geometry") { m, _ in m["input_size"] = "[160, 160]" }
        assertRefused(p, .tensorMismatch(path: p, name: "input", reason: "is [1, 3, 128, 192], but small at 160 x 160 has [1, 3, 160, 160]"))
        p = try mutated("shape") { _, items in
            let i = items.firstIndex { $0.name == "levels.2.blocks.0.attn.probs" }!
            items[i].shape = [items[i].shape[1], items[i].shape[0], items[i].shape[2], items[i].shape[3]]  // windows <-> heads
        }
        assertRefused(p, .tensorMismatch(path: p, name: "levels.2.blocks.0.attn.probs", reason: "is [2, 6, 20, 20], but small at 128 x 192 has [6, 2, 20, 20]"))
        // Maps in another dtype than maps_dtype says; inputs not float32.
        p = try mutated("maptype", dtype: .f16) { m, _ in m["maps_dtype"] = "F32" }
        assertRefused(p, .tensorMismatch(path: p, name: "levels.2.blocks.0.attn.probs", reason: "is float16; expected float32 (maps_dtype F32)"))
        p = try mutated("inputtype") { _, items in
            let i = items.firstIndex { $0.name == "logits" }!
            items[i].type = .int32
        }
        assertRefused(p, .tensorMismatch(path: p, name: "logits", reason: "is int32; expected float32"))
        p = try mutated("nan") { _, items in
            let i = items.firstIndex { $0.name == "input" }!
            items[i].bytes.replaceSubrange(8 ..< 12, with: [0, 0, 0xC0, 0x7F])
        }
        assertRefused(p, .tensorMismatch(path: p, name: "input", reason: "holds non-finite values"))
    }

    func testEveryTruncationIsRefusedNotCrashed() throws {
        let good = tempPath("trunc-src.safetensors")
        try RecordingWriter.write(recording(), dtype: .f16, to: good)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: good))
        let p = tempPath("trunc.safetensors")
        var cut = 0
        while cut < bytes.count {
            try bytes.prefix(cut).write(to: URL(fileURLWithPath: p))
            XCTAssertThrowsError(try RecordingReader.read(path: p), "cut at \(cut)") { e in
                XCTAssertNotNil(e as? RecordingFileError, "\(e)")
            }
            cut += cut < 4096 ? 61 : 4999
        }
    }
}
